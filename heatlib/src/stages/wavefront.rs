//! Stage `wavefront`: several time steps in one pass down the plate, while the rows are in cache.
//!
//! Python counterpart: the same loops in Numba (`heatpy`'s `numba_wavefront`);
//! the webinar, and the tools it teaches, stop one idea earlier.
//!
//! The idea: every other stage reads the whole plate and writes it again once
//! per time step, so on a plate larger than the caches each step moves 24
//! bytes per cell between memory and the core, however little arithmetic it
//! does: the ceiling every other stage meets. But a row of level t + 1 needs
//! only three rows of level t, so level t + 2's row i can be computed as soon
//! as level t + 1's rows i - 1 to i + 1 exist. One pass down the plate can
//! then carry k steps at once, each one row behind the one before: a
//! wavefront. The levels in between live in small rings of four rows each,
//! which stay in cache; only level t is read from memory and level t + k
//! written to it, so a cell update costs 24 / k bytes of memory traffic.
//! Each cell is computed by `typed`'s row update, in the same order: the same
//! bits as `typed`.
//!
//! It keeps only the final field: with the full history (or snapshots) every
//! level must reach memory anyway, so there the stage runs `typed`'s loop,
//! one step per pass.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use crate::error::{HeatError, Result};
use crate::memory::try_filled;
use crate::options::{RunOptions, Storage};
use crate::problem::Problem;
use crate::solution::Solution;
use crate::solver;
use crate::storage::RunBuffers;

use super::parallel::bands_of_rows;
use super::typed::{self, update_row};

/// Bytes the rows in flight may take when the plate is larger than the
/// caches: half of the smallest L2 cache of today's x86 and Arm cores (1 MB),
/// so that they stay there.
const WINDOW_IN_L2: u64 = 512 << 10;
/// Bytes the rows in flight may take when both fields already fit in L2:
/// then only L1 (32-48 KB) is faster, so the window must fit there.
const WINDOW_IN_L1: u64 = 24 << 10;
/// Two fields up to this size stay in L2 from one step to the next.
const FIELDS_IN_L2: u64 = 1 << 20;
/// More steps per pass gain little once memory traffic is a small share.
pub const MOST_STEPS_PER_PASS: usize = 16;
/// Rows of each level in between that a pass keeps: the three the next step
/// reads, and the one being written.
const RING_ROWS: usize = 4;

/// The steps per pass this stage takes on a plate of `nx` x `nx` nodes: as
/// many as keep the rows in flight (about four per step) in the cache that is
/// faster than where the two fields live (see the constants above).
pub fn steps_per_pass(nx: usize) -> usize {
    let row = nx as u64 * 8;
    let two_fields = 2 * row * nx as u64;
    let window = if two_fields <= FIELDS_IN_L2 {
        WINDOW_IN_L1
    } else {
        WINDOW_IN_L2
    };
    usize::try_from(window / (RING_ROWS as u64 * row))
        .unwrap_or(1)
        .clamp(1, MOST_STEPS_PER_PASS)
}

/// Solves `problem` by wavefront with `steps` steps per pass instead of the
/// number [`steps_per_pass`] picks (the knob of the lab's stretch exercise),
/// the plate's rows cut into one band per thread of the run's pool
/// ([`RunOptions::threads`]); with one thread this is the stage `wavefront`.
///
/// ```
/// use heatlib::{Problem, RunOptions, Stage, max_abs_diff};
/// use heatlib::stages::wavefront;
/// let problem = Problem::small();
/// let typed = Stage::Typed.solve(&problem, &RunOptions::final_field())?;
/// let four = wavefront::solve_with_steps_per_pass(&problem, &RunOptions::final_field(), 4)?;
/// assert_eq!(max_abs_diff(four.final_field.view(), typed.final_field.view()), 0.0);
/// # Ok::<(), heatlib::HeatError>(())
/// ```
pub fn solve_with_steps_per_pass(
    problem: &Problem,
    options: &RunOptions,
    steps: usize,
) -> Result<Solution> {
    if steps == 0 {
        return Err(HeatError::InvalidParameter {
            name: "steps per pass",
            value: 0.0,
            requirement: "a pass carries at least 1 time step",
        });
    }
    // More steps than the run has would only make the rings larger.
    let steps = steps.min(problem.nt.max(2) - 1);
    solver::prepare_then_march(problem, options, solver::TWO_FIELDS, true, |buffers| {
        march(problem, options, buffers, steps, true)
    })
}

/// Runs on storage already prepared, `k` steps per pass, the plate's rows
/// cut into one band per thread of the current pool (one band: the stage
/// `wavefront`; one per thread: `wavefront_parallel`).
pub(crate) fn march(
    problem: &Problem,
    options: &RunOptions,
    mut buffers: RunBuffers,
    steps: usize,
    threaded: bool,
) -> Result<Solution> {
    if options.storage != Storage::FinalField {
        return solver::march(&typed::advance, problem, buffers);
    }
    let nx = problem.nx;
    let threads = if threaded {
        rayon::current_num_threads()
    } else {
        1
    };
    let bands = bands_of_rows(nx, threads);
    let (mut from, mut to) = buffers.take_working_fields();
    // One ring per band: the rows of each level in between, their edge columns set once.
    let ring_length = (steps.max(1) - 1) * RING_ROWS * nx;
    let mut rings = Vec::with_capacity(bands.len());
    for _ in &bands {
        let mut ring = try_filled(ring_length, 0.0, "the rows of a pass")?;
        for row in ring.chunks_exact_mut(nx) {
            row[0] = from[[1, 0]];
            row[nx - 1] = from[[1, nx - 1]];
        }
        rings.push(ring);
    }
    let gamma = problem.gamma();
    let clock = buffers.start_clock(problem.nt);
    let mut level = 0;
    while level + 1 < problem.nt {
        let k = steps.min(problem.nt - 1 - level);
        let source = from.as_slice().expect(super::CONTIGUOUS);
        let destination = to.as_slice_mut().expect(super::CONTIGUOUS);
        let mut outputs = rows_of(destination, nx, &bands);
        if let ([ring], [out], [own]) = (
            rings.as_mut_slice(),
            outputs.as_mut_slice(),
            bands.as_slice(),
        ) {
            pass(source, nx, own.clone(), k, gamma, ring, out);
        } else {
            // Band b on thread b of the pool, every pass: each thread keeps to its own rows,
            // and no thread can take a second band while the other waits to wake.
            let slots: Vec<Mutex<(&mut Vec<f64>, &mut [f64])>> =
                rings.iter_mut().zip(outputs).map(Mutex::new).collect();
            rayon::broadcast(|context| {
                let band = context.index();
                if let (Some(slot), Some(own)) = (slots.get(band), bands.get(band)) {
                    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                    let (ring, out) = &mut *slot;
                    pass(source, nx, own.clone(), k, gamma, ring, out);
                }
            });
        }
        std::mem::swap(&mut from, &mut to);
        level += k;
        clock.check(level)?;
    }
    buffers.into_solution(from, bands.len())
}

/// Advances rows `own` of `from` (level t, every row of the plate) by `k`
/// steps, writing them into `out` (those rows of level t + k). Step s computes
/// rows `own` widened by k - s on each side, so that the last step has every
/// neighbour it needs; with one band that is every interior row, with several
/// a band recomputes a few of its neighbours' rows instead of waiting for them.
fn pass(
    from: &[f64],
    nx: usize,
    own: Range<usize>,
    k: usize,
    gamma: f64,
    ring: &mut [f64],
    out: &mut [f64],
) {
    let edge = nx - 1;
    let low = |s: usize| own.start.saturating_sub(k - s).max(1);
    let high = |s: usize| (own.end + (k - s)).min(edge);
    // Step s works on row p - (s - 1) at position p: one row behind step s - 1,
    // which has just written the row above, the last one step s needs.
    for position in low(1)..own.end + k - 1 {
        for s in 1..=k {
            let Some(i) = (position + 1).checked_sub(s) else {
                continue;
            };
            if i < low(s) || i >= high(s) {
                continue;
            }
            // The level in between below step s's output, and that output.
            let (before, after) = ring.split_at_mut(s.saturating_sub(1) * RING_ROWS * nx);
            let input = |row: usize| -> &[f64] {
                if s == 1 || row == 0 || row == edge {
                    &from[row * nx..][..nx]
                } else {
                    &before[((s - 2) * RING_ROWS + row % RING_ROWS) * nx..][..nx]
                }
            };
            let output = if s == k {
                &mut out[(i - own.start) * nx..][..nx]
            } else {
                &mut after[(i % RING_ROWS) * nx..][..nx]
            };
            update_row(input(i - 1), input(i), input(i + 1), output, gamma);
        }
    }
}

/// The rows of each band in `field`, as slices that can be written at once.
fn rows_of<'a>(field: &'a mut [f64], nx: usize, bands: &[Range<usize>]) -> Vec<&'a mut [f64]> {
    let mut rest = &mut field[bands[0].start * nx..];
    let mut rows = Vec::with_capacity(bands.len());
    for band in bands {
        let (this, after) = std::mem::take(&mut rest).split_at_mut(band.len() * nx);
        rows.push(this);
        rest = after;
    }
    rows
}
