//! Stage `typed`: typed loops over slices, no per-element checks in the inner loop.
//!
//! Python counterpart: Cython with typed memoryviews and
//! `boundscheck(False)`, `wraparound(False)`; Numba with two buffers.
//!
//! The idea: give the compiler whole rows whose lengths it can see, and it
//! drops the bounds checks and turns the inner loop into SIMD instructions
//! that update several cells at once. Unlike Cython's switch, nothing unsafe
//! is needed: slicing checks each row once, outside the inner loop, and the
//! compiler proves the rest. A second, smaller idea rides along: at the
//! webinar's gamma = 1/4 the centre term is zero and is skipped (notebook 3
//! measures the two ideas one at a time).

use ndarray::{ArrayView2, ArrayViewMut2};

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let (rows, nx) = current.dim();
    let current = current.as_slice().expect(super::CONTIGUOUS);
    let next = next.as_slice_mut().expect(super::CONTIGUOUS);
    for i in 1..rows - 1 {
        let row = |k: usize| &current[k * nx..][..nx];
        update_row(
            row(i - 1),
            row(i),
            row(i + 1),
            &mut next[i * nx..][..nx],
            gamma,
        );
    }
}

/// Writes the interior of one row, `out[1..nx-1]`, from the row and its two neighbours.
// Inlined, so that `advance`'s machine code (notebook 3 shows it) holds the loop itself.
#[inline(always)]
pub(crate) fn update_row(below: &[f64], row: &[f64], above: &[f64], out: &mut [f64], gamma: f64) {
    let n = row.len() - 2;
    let centre_weight = 1.0 - 4.0 * gamma;
    // One slice per neighbour, each exactly n long and lined up with the
    // interior of the row: with j < n the compiler proves every index below
    // is in bounds, so it checks nothing inside the loops.
    let out = &mut out[1..][..n];
    let below = &below[1..][..n];
    let left = &row[..n];
    let centre = &row[1..][..n];
    let right = &row[2..][..n];
    let above = &above[1..][..n];
    // At the webinar's gamma = 1/4 the centre's weight is exactly 0: skipping
    // it saves a load, a multiply and an add per cell and gives the same bits,
    // since adding 0 * centre changes nothing.
    if centre_weight == 0.0 {
        for j in 0..n {
            out[j] = gamma * (above[j] + below[j] + right[j] + left[j]);
        }
    } else {
        for j in 0..n {
            out[j] = gamma * (above[j] + below[j] + right[j] + left[j]) + centre_weight * centre[j];
        }
    }
}
