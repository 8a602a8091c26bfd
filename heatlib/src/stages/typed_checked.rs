//! Stage `typed_checked`: the direct typed port, the loop a newcomer writes first.
//!
//! Python counterpart: the pure-Python triple loop, moved into a compiled
//! language with static types (Cython with default settings, or Numba).
//!
//! The idea: static types alone remove the interpreter. Every value is a
//! plain `f64` in a register, every `+` is one machine instruction. What is
//! left is the bounds check on each `field[[i, j]]`, which the `typed` stage
//! removes.

use ndarray::{ArrayView2, ArrayViewMut2};

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let (rows, columns) = current.dim();
    let centre_weight = 1.0 - 4.0 * gamma;
    for i in 1..rows - 1 {
        for j in 1..columns - 1 {
            next[[i, j]] = gamma
                * (current[[i + 1, j]]
                    + current[[i - 1, j]]
                    + current[[i, j + 1]]
                    + current[[i, j - 1]])
                + centre_weight * current[[i, j]];
        }
    }
}
