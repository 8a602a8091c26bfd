//! Honest timings: warm-up first, then repeats, reported as median and spread.
//!
//! The webinar timed single runs with no warm-up; a first run pays for page
//! faults, cold caches and (for a JIT) compilation, so it is kept apart here.

use std::time::Instant;

use ndarray::{Array2, ArrayView2, Zip};

use crate::error::Result;
use crate::problem::Problem;
use crate::solver::{self, DeviceRun, RunOptions};
use crate::stages::Stage;

/// Seconds taken by each repeat of one piece of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Every repeat, in the order they ran (warm-up excluded).
    pub runs: Vec<f64>,
}

impl Timing {
    /// The middle run (mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let mut sorted = self.runs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    pub fn min(&self) -> f64 {
        self.runs.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max(&self) -> f64 {
        self.runs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    pub fn mean(&self) -> f64 {
        self.runs.iter().sum::<f64>() / self.runs.len() as f64
    }

    /// Sample standard deviation (0 for a single run).
    pub fn std_dev(&self) -> f64 {
        let n = self.runs.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let squares: f64 = self.runs.iter().map(|t| (t - mean).powi(2)).sum();
        (squares / (n - 1) as f64).sqrt()
    }
}

/// Runs `work` `warmup` times untimed, then `repeat` times timed; returns the
/// timings and the last result. Stops at the first error.
pub fn time_runs<T>(
    warmup: usize,
    repeat: usize,
    mut work: impl FnMut() -> Result<T>,
) -> Result<(Timing, T)> {
    let mut last = None;
    for _ in 0..warmup {
        last = Some(work()?);
    }
    let mut runs = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let result = work()?;
        runs.push(start.elapsed().as_secs_f64());
        // Dropping the previous result outside the timed region keeps frees out of the figure.
        last = Some(result);
    }
    let last = last.expect("at least one timed run happened");
    Ok((Timing { runs }, last))
}

/// The largest absolute difference between two fields of the same shape;
/// infinite when the shapes differ, NaN when either holds a NaN.
pub fn max_abs_diff(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    if a.dim() != b.dim() {
        return f64::INFINITY;
    }
    Zip::from(a).and(b).fold(0.0, |largest: f64, x, y| {
        let difference = (x - y).abs();
        if difference.is_nan() || largest.is_nan() {
            f64::NAN
        } else {
            largest.max(difference)
        }
    })
}

/// One stage, timed on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub stage: Stage,
    /// The time loop: every step, and the copies of kept levels.
    pub timing: Timing,
    /// Before each timed run: allocating the kept levels and setting their
    /// edges. Kept apart, as the Python peers allocate and initialise their
    /// array before starting the clock. For the full history of the large
    /// problem this is where the OS hands over (and zeroes) 1.28 GB.
    pub setup: Timing,
    /// `(nt - 1) (nx - 2)^2`.
    pub cell_updates: u64,
    /// Largest absolute difference of the final field from the reference.
    pub max_abs_diff: f64,
    /// Threads the run used.
    pub threads: usize,
    /// The untimed warm-up run, whole (set-up included): for a JIT stage, the first call.
    pub first_run_s: f64,
    /// For the `opencl` stage: the last timed run's device timings.
    pub device: Option<DeviceRun>,
}

impl Measurement {
    /// Million cell updates per second, at the median time.
    pub fn mcells_per_s(&self) -> f64 {
        self.cell_updates as f64 / self.timing.median() / 1e6
    }
}

/// Times `stage` on `problem`: one warm-up run, then `repeat` timed runs,
/// and compares the final field with `reference`. Storage is prepared before
/// each run's clock starts; its time is reported as [`Measurement::setup`].
pub fn measure(
    stage: Stage,
    problem: &Problem,
    options: &RunOptions,
    repeat: usize,
    reference: &Array2<f64>,
) -> Result<Measurement> {
    solver::in_thread_pool(options.threads, || {
        let (mut setup, mut runs) = (Vec::new(), Vec::new());
        let mut first_run_s = 0.0;
        let mut last = None;
        for run in 0..=repeat.max(1) {
            let start = Instant::now();
            let keep = solver::prepare(problem, options)?;
            let prepared = Instant::now();
            let solution = stage.run(problem, options, keep)?;
            let finished = Instant::now();
            if run > 0 {
                setup.push((prepared - start).as_secs_f64());
                runs.push((finished - prepared).as_secs_f64());
            } else {
                first_run_s = (finished - start).as_secs_f64();
            }
            // The previous solution is freed here, outside both clocks.
            last = Some(solution);
        }
        let solution = last.expect("the warm-up run happened");
        Ok(Measurement {
            stage,
            timing: Timing { runs },
            setup: Timing { runs: setup },
            cell_updates: problem.cell_updates(),
            max_abs_diff: max_abs_diff(solution.final_field.view(), reference.view()),
            threads: solution.threads,
            first_run_s,
            device: solution.device,
        })
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn summary_statistics() {
        let timing = Timing {
            runs: vec![3.0, 1.0, 2.0, 10.0],
        };
        assert_eq!(timing.median(), 2.5);
        assert_eq!(timing.min(), 1.0);
        assert_eq!(timing.max(), 10.0);
        assert_eq!(timing.mean(), 4.0);
        assert!((timing.std_dev() - (50.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn warm_up_runs_are_not_timed() {
        let mut calls = 0;
        let (timing, last) = time_runs(2, 3, || {
            calls += 1;
            Ok(calls)
        })
        .unwrap();
        assert_eq!(timing.runs.len(), 3);
        assert_eq!(last, 5);
    }

    #[test]
    fn differences_see_nan_and_shape() {
        let a = array![[0.0, 1.0], [2.0, 3.0]];
        let b = array![[0.0, 1.5], [2.0, 2.0]];
        assert_eq!(max_abs_diff(a.view(), b.view()), 1.0);
        let c = array![[0.0, f64::NAN], [2.0, 3.0]];
        assert!(max_abs_diff(a.view(), c.view()).is_nan());
        assert!(max_abs_diff(c.view(), a.view()).is_nan());
        let d = Array2::zeros((3, 2));
        assert_eq!(max_abs_diff(a.view(), d.view()), f64::INFINITY);
    }
}
