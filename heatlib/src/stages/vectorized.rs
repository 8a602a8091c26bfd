//! Stage `vectorized`: whole-array operations on shifted slices, once per time step.
//!
//! Python counterpart: NumPy slicing, done right (the webinar's own version
//! skipped the stencil; see `docs/`):
//!
//! ```python
//! T[k+1, 1:-1, 1:-1] = g * (T[k, 2:, 1:-1] + T[k, :-2, 1:-1] + T[k, 1:-1, 2:] + T[k, 1:-1, :-2])
//! ```
//!
//! The idea: say what happens to the whole array and let a compiled library
//! run the loop. `s![2.., 1..-1]` is NumPy's `[2:, 1:-1]`, a view, not a copy.
//! NumPy evaluates each `+` over the whole array into a temporary; ndarray's
//! `Zip` walks the six views together and computes each cell once.

use ndarray::{ArrayView2, ArrayViewMut2, Zip, s};

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let centre_weight = 1.0 - 4.0 * gamma;
    Zip::from(next.slice_mut(s![1..-1, 1..-1]))
        .and(current.slice(s![2.., 1..-1]))
        .and(current.slice(s![..-2, 1..-1]))
        .and(current.slice(s![1..-1, 2..]))
        .and(current.slice(s![1..-1, ..-2]))
        .and(current.slice(s![1..-1, 1..-1]))
        .for_each(|out, &up, &down, &right, &left, &centre| {
            *out = gamma * (up + down + right + left) + centre_weight * centre;
        });
}
