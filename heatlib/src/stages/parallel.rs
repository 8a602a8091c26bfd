//! Stage `parallel`: the plate cut into bands of rows, one band per thread.
//!
//! Python counterpart: Numba's `@njit(parallel=True)` with `prange` over rows.
//!
//! The idea: the rows of one time step do not depend on each other, so
//! threads can compute different rows at once; only the time steps must stay
//! in order. Each thread of a rayon pool owns one band of rows for the whole
//! run and updates it with the `typed` stage's code. After every step,
//! neighbouring bands swap the one row each needs from the other (a "halo"),
//! and all threads meet at a barrier before the next step. Each thread stays
//! on one core for the run, so that its band's rows stay in that core's cache
//! (`Cores` says why, with figures). Handing out rows
//! afresh every step (`par_chunks_mut` per step, like `prange`) is simpler
//! but costs a thread wake-up per step, more than a whole step of a 200 x 200
//! plate. The thread count comes from [`RunOptions::threads`](crate::RunOptions), else
//! `RAYON_NUM_THREADS`, else one per core.

use std::ops::Range;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, s};

use crate::error::Result;
use crate::memory::try_copy;
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::solution::Solution;
use crate::solver::prepare_then_march;
use crate::step::Step;
use crate::storage::{BandBuffers, RunBuffers};

use super::typed;

mod bands;
mod barrier;
mod cores;

pub(crate) use bands::bands_of_rows;
use bands::{Exchange, Ready, march_each_band};
#[cfg(test)]
use cores::OnOneCore;

/// Solves `problem` with any [`Step`] on bands of rows, one band per thread
/// (of a pool of [`RunOptions::threads`](crate::RunOptions::threads) threads,
/// else rayon's default), as the `parallel` stage runs the `typed` step: the
/// threads idea, apart from the step.
///
/// ```
/// use heatlib::{Problem, RunOptions, Stage, solve_in_bands};
/// let problem = Problem::small();
/// let step = Stage::Typed.step_fn().expect("typed has a step");
/// let banded = solve_in_bands(&step, &problem, &RunOptions::final_field().with_threads(2))?;
/// assert_eq!(banded.threads, 2);
/// # Ok::<(), heatlib::HeatError>(())
/// ```
pub fn solve_in_bands<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    options: &RunOptions,
) -> Result<Solution> {
    prepare_then_march(problem, options, WORKING_FIELDS, true, |buffers| {
        march_in_bands(step, problem, buffers)
    })
}

/// The arrays of the plate's size a banded run holds at once, for the memory
/// check: every band's two fields (together, two fields and a few halo rows),
/// and the initial field, which becomes the final one.
pub(crate) const WORKING_FIELDS: u128 = 3;

/// Runs `problem` with `step` on the threads of the current rayon pool, one band of rows each.
pub(crate) fn march_in_bands<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    buffers: RunBuffers,
) -> Result<Solution> {
    march_each_band(
        problem,
        buffers,
        &|initial, rows, band_buffer, exchange, ready| {
            march_band(step, problem, initial, rows, band_buffer, exchange, ready)
        },
    )
}

/// The `parallel` stage with the full history: each band computes its rows of
/// every level straight into the history, with `typed`'s row update, instead
/// of into fields of its own that are then copied (as Numba's `prange` over
/// `T[k+1, i, :]` does). A step of your own cannot do this: its contract hands
/// it whole fields, and the halo rows of one band's field belong to another.
pub(crate) fn march_typed_into_history(problem: &Problem, buffers: RunBuffers) -> Result<Solution> {
    march_each_band(
        problem,
        buffers,
        &|initial, rows, band_buffer, exchange, ready| {
            march_band_in_history(problem, initial, rows, band_buffer, exchange, ready)
        },
    )
}

/// Marches one band of plate rows through all time levels and returns its final rows.
///
/// The band works on its own two fields: its rows plus one halo row below
/// and one above. `step` updates their interior, which is exactly the band's
/// rows; `exchange` then refreshes the halo rows of `next` from the
/// neighbouring bands (a band at the plate's edge keeps that edge as its
/// halo), or breaks off the run when it is out of time.
fn march_band<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    initial: ArrayView2<'_, f64>,
    rows: Range<usize>,
    mut buffers: BandBuffers<'_>,
    exchange: &mut Exchange<'_>,
    ready: &Ready<'_>,
) -> Result<Array2<f64>> {
    let gamma = problem.gamma();
    let band_rows = rows.len();
    let mut current = try_copy(initial.slice(s![rows.start - 1..rows.end + 1, ..]))?;
    let mut next = try_copy(current.view())?;
    ready();
    buffers.keep(0, current.slice(s![1..-1, ..]));
    for level in 1..problem.nt {
        step.advance(current.view(), next.view_mut(), gamma);
        let (mut below, rest) = next.view_mut().split_at(Axis(0), 1);
        let (own, mut above) = rest.split_at(Axis(0), band_rows);
        if exchange(level, own.view(), below.row_mut(0), above.row_mut(0)).is_break() {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        buffers.keep(level, current.slice(s![1..-1, ..]));
    }
    try_copy(current.slice(s![1..-1, ..]))
}

/// Marches one band through all time levels inside its rows of the history:
/// level k's rows are computed from level k - 1's, with the neighbours' rows of
/// level k - 1 as halos (`halos` row 0 below the band, row 1 above it).
fn march_band_in_history(
    problem: &Problem,
    initial: ArrayView2<'_, f64>,
    rows: Range<usize>,
    mut buffers: BandBuffers<'_>,
    exchange: &mut Exchange<'_>,
    ready: &Ready<'_>,
) -> Result<Array2<f64>> {
    let gamma = problem.gamma();
    let Some(mut history) = buffers.history_rows() else {
        unreachable!("the parallel stage marches in the history only when it is kept")
    };
    let mut halos = try_copy(initial.select(Axis(0), &[rows.start - 1, rows.end]).view())?;
    ready();
    let mut last_level = 0;
    for level in 1..problem.nt {
        let (before, from_level) = history.view_mut().split_at(Axis(0), level);
        let previous = before.index_axis_move(Axis(0), level - 1);
        let previous = previous.view();
        let mut own = from_level.index_axis_move(Axis(0), 0);
        let last = previous.nrows() - 1;
        for (i, mut out) in own.rows_mut().into_iter().enumerate() {
            let below = if i == 0 {
                halos.row(0)
            } else {
                previous.row(i - 1)
            };
            let above = if i == last {
                halos.row(1)
            } else {
                previous.row(i + 1)
            };
            let out = out.as_slice_mut().expect(super::CONTIGUOUS);
            typed::update_row(row(below), row(previous.row(i)), row(above), out, gamma);
        }
        last_level = level;
        let (below, above) = halos.multi_slice_mut((s![0, ..], s![1, ..]));
        if exchange(level, own.view(), below, above).is_break() {
            break;
        }
    }
    try_copy(history.index_axis(Axis(0), last_level))
}

/// A row of a field as a slice, for `typed`'s row update.
fn row<'a>(view: ArrayView1<'a, f64>) -> &'a [f64] {
    view.to_slice().expect(super::CONTIGUOUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_banded_run_leaves_the_pool_threads_free_to_move() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("two threads");
        let before = pool.broadcast(|_| OnOneCore::allowed_cores());
        let step = crate::Stage::Typed.step_fn().expect("typed has a step");
        let solution = pool
            .install(|| solve_in_bands(&step, &Problem::small(), &RunOptions::final_field()))
            .expect("the small problem runs");
        assert_eq!(solution.threads, 2);
        assert_eq!(pool.broadcast(|_| OnOneCore::allowed_cores()), before);
    }
}
