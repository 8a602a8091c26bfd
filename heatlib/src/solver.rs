//! The time loop: call the step, swap the two fields, keep what was asked for.
//!
//! Every serial stage is this loop around its own [`Step`]; a step of your
//! own runs through it too ([`solve_with`]), on the same storage, so it can be
//! checked and timed exactly like the library's stages. (The `parallel` stage
//! runs one such loop per band of rows, and the `opencl` stage keeps its
//! fields on the device; both live in their own modules.)

use crate::error::{HeatError, Result};
use crate::memory::try_copy;
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::solution::Solution;
use crate::step::Step;
use crate::storage::Record;

/// Solves `problem` with any [`Step`], keeping what `options` asks for.
///
/// This is what `Stage::Typed.solve(...)` does with the library's own step;
/// a step written in a notebook cell runs the same way. See [`Step`] for an example.
pub fn solve_with<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    options: &RunOptions,
) -> Result<Solution> {
    solve_on(problem, options, TWO_FIELDS, |record| {
        run(step, problem, record)
    })
}

/// The fields the time loop itself holds: `current` and `next`.
pub(crate) const TWO_FIELDS: u128 = 2;

/// What every way of solving does around its loop: check the inputs and that
/// `working_fields` arrays of the plate's size fit in memory beside what is
/// kept, allocate what is kept, then `march` in the thread pool `options` asks for.
pub(crate) fn solve_on(
    problem: &Problem,
    options: &RunOptions,
    working_fields: u128,
    march: impl FnOnce(Record) -> Result<Solution> + Send,
) -> Result<Solution> {
    let record = Record::prepare(problem, options, working_fields)?;
    in_thread_pool(options.threads, || march(record))?
}

/// The time loop, on storage that [`Record::prepare`] made for `problem`.
pub(crate) fn run<S: Step + ?Sized>(
    step: &S,
    problem: &Problem,
    mut record: Record,
) -> Result<Solution> {
    let gamma = problem.gamma();
    // Two fields take turns: `current` holds level k, `next` receives level k + 1.
    // Both start as the initial field, so both hold the edges, which no step writes.
    let mut current = problem.try_initial_field()?;
    let mut next = try_copy(current.view())?;
    record.keep(0, current.view());
    let clock = record.start_clock(problem.nt);
    for level in 1..problem.nt {
        step.advance(current.view(), next.view_mut(), gamma);
        std::mem::swap(&mut current, &mut next);
        record.keep(level, current.view());
        clock.check(level)?;
    }
    record.into_solution(current, 1)
}

/// Runs `work` in a pool of `threads` threads, or in rayon's current pool.
pub(crate) fn in_thread_pool<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T> {
    match threads {
        None => Ok(work()),
        Some(threads) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|error| HeatError::Threads {
                    threads,
                    reason: error.to_string(),
                })?;
            Ok(pool.install(work))
        }
    }
}
