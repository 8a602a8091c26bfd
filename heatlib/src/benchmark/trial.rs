//! The one timing method every measurement goes through: a warm-up run,
//! then `repeat` timed runs, each on storage prepared outside the clock, then
//! the final field compared with the reference.

use std::time::Instant;

use ndarray::ArrayView2;

use super::Measurement;
use crate::error::{HeatError, Result};
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::reference::max_abs_diff;
use crate::solution::Solution;
use crate::solver;
use crate::stages::Stage;
use crate::storage::RunBuffers;
use crate::timing::{Timing, check_repeat, format_seconds};

/// A warm-up run longer than this is announced before the timed runs start.
const ANNOUNCE_AFTER_S: f64 = 0.5;

/// What every measurement shares: the problem, how it runs, how often, and the right answer.
pub(super) struct Trial<'a> {
    pub(super) problem: &'a Problem,
    pub(super) options: &'a RunOptions,
    pub(super) repeat: usize,
    pub(super) reference: ArrayView2<'a, f64>,
    pub(super) deadline: Option<Instant>,
}

impl Trial<'_> {
    /// The one timing method: a warm-up run, then `repeat` timed runs, each on
    /// storage prepared outside the clock. `after_warm_up` hears the warm-up's seconds.
    pub(super) fn measure(
        &self,
        name: &str,
        stage: Option<Stage>,
        working_fields: u128,
        after_warm_up: impl FnOnce(f64) + Send,
        mut run: impl FnMut(RunBuffers) -> Result<Solution> + Send,
    ) -> Result<Measurement> {
        let Trial {
            problem,
            options,
            repeat,
            reference,
            deadline,
        } = *self;
        check_repeat(repeat)?;
        let in_time = |done: usize| match deadline {
            Some(deadline) if Instant::now() >= deadline => Err(HeatError::ComparisonOutOfTime {
                name: name.to_string(),
                done,
                repeat,
            }),
            _ => Ok(()),
        };
        let threaded = stage.is_some_and(Stage::shares_work_among_threads);
        solver::in_thread_pool(options, threaded, || {
            in_time(0)?;
            let start = Instant::now();
            let mut last = run(RunBuffers::prepare(problem, options, working_fields)?)?;
            let first_run_s = start.elapsed().as_secs_f64();
            after_warm_up(first_run_s);
            let (mut setup, mut runs) = (Vec::new(), Vec::new());
            for done in 0..repeat {
                in_time(done)?;
                let start = Instant::now();
                let buffers = RunBuffers::prepare(problem, options, working_fields)?;
                let prepared = Instant::now();
                let solution = run(buffers)?;
                let finished = Instant::now();
                // What a stage prepared inside its run (the parallel stage's bands) is set-up too.
                let inside = solution.setup_s;
                setup.push((prepared - start).as_secs_f64() + inside);
                runs.push((finished - prepared).as_secs_f64() - inside);
                // The previous solution is freed here, outside both clocks.
                last = solution;
            }
            Ok(Measurement {
                name: name.to_string(),
                stage,
                timing: Timing { runs },
                setup: Timing { runs: setup },
                cell_updates: problem.cell_updates(),
                max_abs_diff: max_abs_diff(last.final_field.view(), reference),
                threads: last.threads,
                first_run_s,
                device: last.device,
                final_field: last.final_field,
            })
        })?
    }
}

/// Prints, once the warm-up is done, how long the timed runs will take, if that is long.
pub(super) fn announce(name: &str, repeat: usize) -> impl FnOnce(f64) + Send + '_ {
    move |warm_up_s| {
        if warm_up_s > ANNOUNCE_AFTER_S {
            println!(
                "{name}: one run takes {}; timing {repeat} more runs (about {})...",
                format_seconds(warm_up_s),
                format_seconds(warm_up_s * repeat as f64)
            );
        }
    }
}
