//! Stage `parallel_rows`: the rows of each time step handed out to a pool of threads.
//!
//! Python counterpart: Numba's `@njit(parallel=True)` with `prange` over rows.
//!
//! The idea: the rows of one time step do not depend on each other, so
//! threads can compute different rows at once; only the time steps must stay
//! in order. Every step, rayon's `par_chunks_mut` cuts the next field into
//! rows and the pool's threads take them, a run of rows each, each row
//! updated with `typed`'s code from the one shared current field; the step ends when the last row is
//! done (fork-join, as `prange` does). Only the time loop's thread goes on to
//! the next step. The thread count comes from
//! [`RunOptions::threads`](crate::RunOptions), else `RAYON_NUM_THREADS`, else
//! one per logical CPU.
//!
//! Handing out the rows and waking the threads costs a few microseconds every
//! step, whatever the plate: on a small plate that is more than the step's
//! work. The `parallel` stage keeps its threads and their rows for the whole
//! run instead.

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::typed::update_row;

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let (rows, nx) = current.dim();
    let current = current.as_slice().expect(super::CONTIGUOUS);
    let next = next.as_slice_mut().expect(super::CONTIGUOUS);
    let row = |k: usize| &current[k * nx..][..nx];
    // The interior rows of `next`, 1 ..= rows - 2, in one run of rows per
    // thread, as `prange`'s default schedule hands them out: fewer, larger
    // tasks than one per row, so less to hand out every step.
    let rows_per_thread = (rows - 2).div_ceil(rayon::current_num_threads());
    next[nx..(rows - 1) * nx]
        .par_chunks_mut(nx)
        .with_min_len(rows_per_thread)
        .enumerate()
        .for_each(|(k, out)| {
            let i = k + 1;
            update_row(row(i - 1), row(i), row(i + 1), out, gamma);
        });
}
