//! Measuring and comparing: the library's stages and steps of your own, timed one way.
//!
//! Every speed figure heatlib reports comes from here. `heat bench`, a
//! notebook's comparison table and chart, and the docs site all print a
//! [`Comparison`], whose speed-ups are over one stated baseline row (the
//! first row, unless [`Comparison::set_baseline`] names another). Drawing a
//! comparison is `display`'s job; this module only measures.
//!
//! The method, the same for everything: one untimed warm-up run, then
//! `repeat` timed runs, reported as median, fastest and slowest. Before each
//! run the storage is allocated outside the clock (as the Python versions
//! allocate their array before starting theirs), and after the last run the
//! final field is compared with the reference.
//!
//! ```
//! use heatlib::{Comparison, Problem, RunOptions, Stage};
//! use ndarray::{ArrayView2, ArrayViewMut2};
//!
//! fn my_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
//!     let (rows, columns) = current.dim();
//!     for i in 1..rows - 1 {
//!         for j in 1..columns - 1 {
//!             next[[i, j]] = gamma
//!                 * (current[[i + 1, j]] + current[[i - 1, j]] + current[[i, j + 1]] + current[[i, j - 1]])
//!                 + (1.0 - 4.0 * gamma) * current[[i, j]];
//!         }
//!     }
//! }
//!
//! let mut table = Comparison::new(&Problem::small().with_size(30, 100), &RunOptions::final_field(), 3)?;
//! table.add_step("my_step", &my_step)?;
//! table.add_stage(Stage::TypedChecked)?;
//! assert!(table.rows.iter().all(|row| row.max_abs_diff < 1e-12));
//! println!("{}", table.to_text()); // speed-ups over my_step, the first row
//! # Ok::<(), heatlib::HeatError>(())
//! ```

use std::time::Instant;

use ndarray::{Array2, ArrayView2};

use crate::error::{HeatError, Result};
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::reference;
use crate::roofline::{Ceiling, Ceilings};
use crate::solution::DeviceRun;
use crate::solver;
use crate::stages::Stage;
use crate::step::Step;
use crate::storage::RunBuffers;
use crate::timing::{Timing, check_repeat};

#[cfg(feature = "display")]
mod pictures;
mod row;
mod sweep;
mod table;
mod trial;

pub(crate) use row::finite;
pub use row::{BenchRow, CeilingRow, DeviceRow, Language};
pub use sweep::{SWEEP_SIDES, SweepPoint, sweep};

use trial::{Trial, announce};

/// One stage, or one step of your own, timed on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// What ran: the stage's name, or the name you gave your step.
    pub name: String,
    /// The library stage that ran; `None` for a step of your own.
    pub stage: Option<Stage>,
    /// The time loop: every step, and the copies of kept levels.
    pub timing: Timing,
    /// Before each timed run: allocating the kept levels and setting their
    /// edges. Kept apart, as the Python versions allocate and initialise their
    /// array before starting the clock. For the full history of the large
    /// problem this is where the OS hands over (and zeroes) 1.28 GB.
    pub setup: Timing,
    /// `(nt - 1) (nx - 2)^2`.
    pub cell_updates: u64,
    /// Largest absolute difference of the final field from the reference.
    pub max_abs_diff: f64,
    /// CPU threads that ran the time loop (see [`Solution::threads`](crate::Solution::threads)): 1 for a
    /// step of yours run by [`Comparison::add_step`], even if the step itself
    /// hands work to the pool's threads.
    pub threads: usize,
    /// The untimed warm-up run, whole (set-up included): for a JIT stage, the first call.
    pub first_run_s: f64,
    /// For the `opencl` stage: the last timed run's device timings.
    pub device: Option<DeviceRun>,
    /// The final field of the last run, for pictures.
    pub final_field: Array2<f64>,
}

impl Measurement {
    /// Million cell updates per second, at the median time.
    pub fn mcells_per_s(&self) -> f64 {
        self.cell_updates as f64 / self.timing.median() / 1e6
    }

    /// The Python tool the webinar used for the same idea; for your own step, "your step".
    pub fn python_analog(&self) -> &'static str {
        self.stage.map_or("your step", Stage::python_analog)
    }
}

/// Stages and steps timed side by side on one problem, with speed-ups over one baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The problem every row solved.
    pub problem: Problem,
    /// How every row ran: storage, threads, OpenCL device.
    pub options: RunOptions,
    /// Timed runs per row, after one warm-up run.
    pub repeat: usize,
    /// One measurement per stage or step, in the order they were added.
    pub rows: Vec<Measurement>,
    /// The name of the row speed-ups are over; `None` for the first row.
    baseline: Option<String>,
    /// The reference's final field, computed once for all rows.
    reference: Array2<f64>,
    /// When the whole comparison must be done by, if it must.
    deadline: Option<Instant>,
    /// The machine's ceilings, once given.
    ceilings: Option<Ceilings>,
}

/// Times each of `stages` on `problem` (one warm-up, then `repeat` runs) and
/// compares its final field with the reference; speed-ups are over the first
/// stage. A stage whose warm-up run took over half a second says so before
/// its timed runs.
pub fn compare(
    problem: &Problem,
    stages: &[Stage],
    options: &RunOptions,
    repeat: usize,
) -> Result<Comparison> {
    let mut comparison = Comparison::new(problem, options, repeat)?;
    for &stage in stages {
        comparison.add_stage(stage)?;
    }
    Ok(comparison)
}

impl Comparison {
    /// An empty comparison of `problem`: checks the inputs and computes the reference once.
    pub fn new(problem: &Problem, options: &RunOptions, repeat: usize) -> Result<Comparison> {
        check_repeat(repeat)?;
        // The plain time loop's memory first: a plate too large is a run too large,
        // before it is a reference too large.
        RunBuffers::plan(problem, options, solver::TWO_FIELDS)?;
        Ok(Comparison {
            problem: problem.clone(),
            options: options.clone(),
            repeat,
            rows: Vec::new(),
            baseline: None,
            reference: reference::final_field(problem)?,
            deadline: None,
            ceilings: None,
        })
    }

    /// Sets a time by which every row must be done: a row whose run would
    /// start after it is not added, and says how far it got
    /// ([`HeatError::ComparisonOutOfTime`]). A run that has started finishes
    /// (bound each run with [`RunOptions::time_budget`](crate::RunOptions)). `heat bench
    /// --bench-budget` gives all its comparisons one such deadline.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// Times a library stage and adds its row.
    pub fn add_stage(&mut self, stage: Stage) -> Result<&Measurement> {
        let (problem, options) = (&self.problem, &self.options);
        let row = self.trial().measure(
            stage.name(),
            Some(stage),
            stage.working_fields(),
            announce(stage.name(), self.repeat),
            |buffers| stage.march(problem, options, buffers),
        )?;
        Ok(self.push(row))
    }

    /// Times your own [`Step`] through the library's time loop and adds its row, named `name`.
    pub fn add_step<S: Step + ?Sized>(&mut self, name: &str, step: &S) -> Result<&Measurement> {
        let problem = &self.problem;
        let row = self.trial().measure(
            name,
            None,
            solver::TWO_FIELDS,
            announce(name, self.repeat),
            |buffers| solver::march(step, problem, buffers),
        )?;
        Ok(self.push(row))
    }

    fn trial(&self) -> Trial<'_> {
        Trial {
            problem: &self.problem,
            options: &self.options,
            repeat: self.repeat,
            reference: self.reference.view(),
            deadline: self.deadline,
        }
    }

    /// Times your own [`Step`] on bands of rows, one per thread, as the
    /// `parallel` stage runs `typed`'s (see [`solve_in_bands`](crate::solve_in_bands)), and adds its row.
    pub fn add_step_in_bands<S: Step + ?Sized>(
        &mut self,
        name: &str,
        step: &S,
    ) -> Result<&Measurement> {
        let problem = &self.problem;
        let row = self.trial().measure(
            name,
            None,
            crate::stages::parallel::WORKING_FIELDS,
            announce(name, self.repeat),
            |buffers| crate::stages::parallel::march_in_bands(step, problem, buffers),
        )?;
        Ok(self.push(row))
    }

    fn push(&mut self, row: Measurement) -> &Measurement {
        self.rows.push(row);
        &self.rows[self.rows.len() - 1]
    }

    /// The reference's final field, which every row is compared with.
    pub fn reference(&self) -> ArrayView2<'_, f64> {
        self.reference.view()
    }

    /// Makes the row called `name` the one speed-ups are over.
    pub fn set_baseline(&mut self, name: &str) -> Result<()> {
        if self.rows.iter().any(|row| row.name == name) {
            self.baseline = Some(name.to_string());
            Ok(())
        } else {
            Err(HeatError::UnknownBaseline {
                name: name.to_string(),
                rows: self.names().join(", "),
            })
        }
    }

    /// The row speed-ups are over: the one [`Comparison::set_baseline`] named, else the first.
    pub fn baseline(&self) -> Option<&Measurement> {
        match &self.baseline {
            Some(name) => self.rows.iter().find(|row| &row.name == name),
            None => self.rows.first(),
        }
    }

    /// How many times faster than the baseline `row` ran (median against median).
    pub fn speed_up(&self, row: &Measurement) -> f64 {
        self.baseline()
            .map_or(f64::NAN, |base| base.timing.median() / row.timing.median())
    }

    /// Every row's name and speed-up, in order.
    pub fn speed_ups(&self) -> Vec<(String, f64)> {
        self.rows
            .iter()
            .map(|row| (row.name.clone(), self.speed_up(row)))
            .collect()
    }

    fn names(&self) -> Vec<&str> {
        self.rows.iter().map(|row| row.name.as_str()).collect()
    }

    /// Places every row on this machine's measured ceilings: the table gains
    /// each row's predicted ceiling and the fraction of it reached.
    pub fn set_ceilings(&mut self, ceilings: &Ceilings) {
        self.ceilings = Some(ceilings.clone());
    }

    /// The predicted ceiling of `row`, once [`Comparison::set_ceilings`] gave the machine's.
    pub fn ceiling(&self, row: &Measurement) -> Option<Ceiling> {
        let ceilings = self.ceilings.as_ref()?;
        Some(ceilings.for_stage(row.stage, &self.problem, &self.options, row.threads))
    }

    /// The ceilings the rows are placed on, if any.
    pub fn ceilings(&self) -> Option<&Ceilings> {
        self.ceilings.as_ref()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn row(name: &str, median: f64) -> Measurement {
        Measurement {
            name: name.into(),
            stage: name.parse().ok(),
            timing: Timing {
                runs: vec![median * 0.9, median, median * 1.2],
            },
            setup: Timing { runs: vec![0.0; 3] },
            cell_updates: 1_000_000,
            max_abs_diff: 0.0,
            threads: 1,
            first_run_s: median,
            device: None,
            final_field: Array2::zeros((3, 3)),
        }
    }

    pub(crate) fn table(rows: Vec<Measurement>) -> Comparison {
        let mut comparison =
            Comparison::new(&Problem::small().with_size(5, 3), &RunOptions::default(), 3).unwrap();
        for row in rows {
            comparison.push(row);
        }
        comparison
    }

    #[test]
    fn speed_ups_are_over_the_first_row_unless_told_otherwise() {
        let mut comparison = table(vec![
            row("interpreted", 2.0),
            row("typed", 0.001),
            row("mine", 0.004),
        ]);
        assert_eq!(comparison.speed_up(&comparison.rows[1]), 2000.0);
        assert!(
            comparison
                .to_text()
                .lines()
                .next()
                .unwrap()
                .ends_with("speed-up over interpreted")
        );
        comparison.set_baseline("mine").unwrap();
        assert_eq!(comparison.speed_up(&comparison.rows[1]), 4.0);
        assert_eq!(comparison.speed_up(&comparison.rows[0]), 0.002);
        assert_eq!(comparison.table().baseline.as_deref(), Some("mine"));
        let error = comparison.set_baseline("numpy").unwrap_err().to_string();
        assert!(error.contains("interpreted, typed, mine"), "{error}");
    }

    #[test]
    fn no_repeats_and_absurd_repeats_are_refused() {
        let refused = Comparison::new(&Problem::small(), &RunOptions::default(), 0);
        assert_eq!(refused.unwrap_err(), HeatError::NoRepeats);
        let refused = Comparison::new(&Problem::small(), &RunOptions::default(), usize::MAX);
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("at most 1000"), "{message}");
    }

    #[test]
    fn a_comparison_past_its_deadline_stops_between_runs() {
        let problem = Problem::small().with_size(20, 50);
        let mut comparison = Comparison::new(&problem, &RunOptions::default(), 5).unwrap();
        comparison.add_stage(Stage::Typed).unwrap();
        comparison.set_deadline(Instant::now());
        let error = comparison.add_stage(Stage::Vectorized).unwrap_err();
        assert_eq!(
            error,
            HeatError::ComparisonOutOfTime {
                name: "vectorized".into(),
                done: 0,
                repeat: 5
            }
        );
        assert_eq!(comparison.rows.len(), 1, "the row out of time is not added");
    }
}
