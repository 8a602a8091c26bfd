//! The time loop: for each level, call the step on the previous level and the next, keep what was asked for.
//!
//! Every serial stage is this loop around its own [`Step`]; a step of your
//! own runs through it too ([`solve_with`]), on the same storage, so it can be
//! checked and timed exactly like the library's stages. (The `parallel` stage
//! runs one such loop per band of rows, and the `opencl` stage keeps its
//! fields on the device; both live in their own modules.)
//!
//! Two verbs, one act each, in every module: to *solve* is to go from a problem
//! and its options to a [`Solution`], preparing the storage first (the public
//! API: [`solve_with`], `Stage::solve`); to *march* is to run the time levels on
//! storage already prepared (inside the library: [`march`] here, and each
//! stage's own march: in bands, on the device, in passes).

use crate::error::{HeatError, Result};
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::solution::Solution;
use crate::step::Step;
use crate::storage::RunBuffers;

/// Solves `problem` with any [`Step`], keeping what `options` asks for.
///
/// This is what `Stage::Typed.solve(...)` does with the library's own step;
/// a step written in a notebook cell runs the same way. See [`Step`] for an example.
pub fn solve_with<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    options: &RunOptions,
) -> Result<Solution> {
    prepare_then_march(problem, options, TWO_FIELDS, false, |buffers| {
        march(step, problem, buffers)
    })
}

/// The fields the time loop itself holds: `current` and `next`.
pub(crate) const TWO_FIELDS: u128 = 2;

/// What every way of solving does around its loop: check the inputs and that
/// `working_fields` arrays of the plate's size fit in memory beside what is
/// kept, allocate what is kept, then `march` in the thread pool `options` asks
/// for (see [`in_thread_pool`]; `threaded`: whether the way of solving shares
/// its work among rayon's threads).
pub(crate) fn prepare_then_march(
    problem: &Problem,
    options: &RunOptions,
    working_fields: u128,
    threaded: bool,
    march: impl FnOnce(RunBuffers) -> Result<Solution> + Send,
) -> Result<Solution> {
    let buffers = RunBuffers::prepare(problem, options, working_fields)?;
    in_thread_pool(options, threaded, || march(buffers))?
}

/// The time loop, on storage that [`RunBuffers::prepare`] made for `problem`.
pub(crate) fn march<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    mut buffers: RunBuffers,
) -> Result<Solution> {
    let gamma = problem.gamma();
    // Level k - 1 is read and level k written where the buffers keep them: with the
    // full history, straight into it (as `T[k+1] = ...` in the webinar); otherwise
    // two fields take turns, so each level overwrites the one before the last.
    buffers.keep_level(0);
    let clock = buffers.start_clock(problem.nt);
    for level in 1..problem.nt {
        let (current, mut next) = buffers.pair(level);
        step.advance(current.view(), next.view_mut(), gamma);
        buffers.keep_level(level);
        clock.check(level)?;
    }
    buffers.finish(1)
}

/// Runs `work` in a pool of its own, of the threads `options` asks for
/// ([`RunOptions::thread_count`]), when it is `threaded` or a thread count was
/// given; a serial run with none runs on the calling thread, starting no thread
/// it would not use. Never rayon's global pool for threaded work: that one
/// panics when the system will not start its threads (a container's process
/// limit), where a pool of our own is a message.
pub(crate) fn in_thread_pool<T: Send>(
    options: &RunOptions,
    threaded: bool,
    work: impl FnOnce() -> T + Send,
) -> Result<T> {
    let threads = options.thread_count()?;
    if !threaded && options.threads.is_none() {
        return Ok(work());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|error| HeatError::Threads {
            threads,
            reason: format!(
                "the system would not start them ({error}); a limit on processes (a container's \
                 pids limit, ulimit -u) may be in the way: ask for fewer threads"
            ),
        })?;
    Ok(pool.install(work))
}
