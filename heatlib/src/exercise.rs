//! Checks for the exercise notebooks: is the learner's version right, and if not, where does it go wrong?
//!
//! A check never panics: a learner's function that panics (a `todo!()` not yet
//! filled in, an index out of bounds) is reported as a failed check, and the
//! notebook's variables survive.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::harmonic;
use crate::options::RunOptions;
use crate::problem::{Boundary, Problem};
use crate::reference;
use crate::solver::solve_with;
use crate::step::Step;

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// What was checked.
    pub subject: String,
    /// Whether every case matched the reference.
    pub passed: bool,
    /// One line per case tried, then what to do.
    pub lines: Vec<String>,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "PASSED" } else { "NOT YET" };
        writeln!(f, "{verdict}: {}", self.subject)?;
        for line in &self.lines {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

impl CheckReport {
    /// Shows the report in the notebook.
    pub fn evcxr_display(&self) {
        println!("{self}");
    }
}

/// Further apart than `tolerance`, or NaN on either side.
fn differs(yours: f64, right: f64, tolerance: f64) -> bool {
    let gap = (yours - right).abs();
    gap.is_nan() || gap > tolerance
}

/// Runs the learner's code; a panic becomes "your function panicked: <its message>".
fn attempt<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        format!("your function panicked: {message}")
    })
}

/// The problems a time step is checked on: the webinar's, and the cases it never tried.
fn step_cases() -> Vec<(&'static str, Problem)> {
    let everywhere = Boundary {
        top: 100.0,
        bottom: -20.0,
        left: 35.0,
        right: 70.0,
    };
    vec![
        (
            "the webinar's plate, 100 steps",
            Problem::small().with_size(50, 101),
        ),
        (
            "a 31 x 31 plate, gamma = 0.2, all edges and the interior non-zero",
            Problem::small()
                .with_size(31, 60)
                .with_gamma(0.2)
                .with_boundary(everywhere)
                .with_initial(12.5),
        ),
        (
            "the smallest plate, 3 x 3",
            Problem::small().with_size(3, 10).with_initial(50.0),
        ),
    ]
}

/// Checks a learner's [`Step`], `my_step(current, next, gamma)`, which must
/// write the interior of `next` from `current` (the edges are already set).
/// It runs through the library's own time loop, keeping every level, and is
/// compared with the reference at every step.
pub fn check_step<S: Step + ?Sized>(step: &S) -> CheckReport {
    let mut lines = Vec::new();
    let mut passed = true;
    for (name, problem) in step_cases() {
        let expected = match reference::history(&problem) {
            Ok(levels) => levels,
            Err(error) => {
                lines.push(format!("{name}: {error}"));
                passed = false;
                continue;
            }
        };
        let run = attempt(|| solve_with(step, &problem, &RunOptions::full_history()));
        let history = match run {
            Err(panicked) => {
                passed = false;
                lines.push(format!("{name}: {panicked}"));
                break;
            }
            Ok(Err(error)) => {
                passed = false;
                lines.push(format!("{name}: {error}"));
                continue;
            }
            Ok(Ok(solution)) => solution.history.expect("full history was asked for"),
        };
        let first_wrong =
            history
                .outer_iter()
                .zip(&expected)
                .enumerate()
                .find_map(|(step, (yours, right))| {
                    yours
                        .indexed_iter()
                        .find(|&((i, j), &value)| differs(value, right[[i, j]], 1e-12))
                        .map(|((i, j), &value)| (step, i, j, value, right[[i, j]]))
                });
        match first_wrong {
            None => lines.push(format!(
                "{name}: matches the reference at every step (to 1e-12)"
            )),
            Some((step, i, j, yours, right)) => {
                passed = false;
                lines.push(format!(
                    "{name}: first difference at step {step}, row {i}, column {j}: yours {yours}, reference {right}"
                ));
            }
        }
    }
    lines.push(
        if passed {
            "well done: the same numbers as the reference"
        } else {
            "the update is T'[i,j] = gamma * (T[i+1,j] + T[i-1,j] + T[i,j+1] + T[i,j-1]) + (1 - 4 gamma) * T[i,j], for interior cells only"
        }
        .into(),
    );
    CheckReport {
        subject: "your time step".into(),
        passed,
        lines,
    }
}

/// Checks a learner's sine wave, `signal(t, frequency)`, against `sin(2 pi f t)`.
pub fn check_signal(signal: fn(&[f32], f32) -> Vec<f32>) -> CheckReport {
    let mut lines = Vec::new();
    let mut passed = true;
    for samples in [1, 7, 1000] {
        let t = harmonic::time_axis(samples).to_vec();
        let expected = harmonic::typed_loop(&t, harmonic::FREQUENCY);
        match attempt(|| signal(&t, harmonic::FREQUENCY)) {
            Err(panicked) => {
                passed = false;
                lines.push(format!("{samples} samples: {panicked}"));
                break;
            }
            Ok(yours) if yours.len() != samples => {
                passed = false;
                lines.push(format!(
                    "{samples} samples: you returned {} values",
                    yours.len()
                ));
            }
            Ok(yours) => {
                let wrong = yours
                    .iter()
                    .zip(&expected)
                    .position(|(&a, &b)| differs(a as f64, b as f64, 1e-5));
                match wrong {
                    None => lines.push(format!("{samples} samples: right (to 1e-5)")),
                    Some(k) => {
                        passed = false;
                        lines.push(format!(
                            "{samples} samples: sample {k} (t = {}) is {}, expected {}",
                            t[k], yours[k], expected[k]
                        ));
                    }
                }
            }
        }
    }
    CheckReport {
        subject: "your signal".into(),
        passed,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::typed_checked::advance as right;
    use ndarray::{ArrayView2, ArrayViewMut2};

    fn forgets_the_centre(
        current: ArrayView2<'_, f64>,
        mut next: ArrayViewMut2<'_, f64>,
        gamma: f64,
    ) {
        let (rows, columns) = current.dim();
        for i in 1..rows - 1 {
            for j in 1..columns - 1 {
                next[[i, j]] = gamma
                    * (current[[i + 1, j]]
                        + current[[i - 1, j]]
                        + current[[i, j + 1]]
                        + current[[i, j - 1]]);
            }
        }
    }

    fn not_written_yet(_: ArrayView2<'_, f64>, _: ArrayViewMut2<'_, f64>, _: f64) {
        todo!("write the update")
    }

    #[test]
    fn a_right_step_passes() {
        let report = check_step(&right);
        assert!(report.passed, "{report}");
        assert!(report.to_string().starts_with("PASSED"));
    }

    #[test]
    fn a_wrong_step_is_located() {
        // Right at gamma = 1/4, wrong for gamma = 0.2: the second case finds it.
        let report = check_step(&forgets_the_centre);
        assert!(!report.passed);
        assert!(report.lines[0].contains("matches"), "{report}");
        assert!(
            report.lines[1].contains("first difference at step 1"),
            "{report}"
        );
    }

    #[test]
    fn a_blank_is_reported_not_panicked() {
        let report = check_step(&not_written_yet);
        assert!(!report.passed);
        assert!(
            report
                .to_string()
                .contains("panicked: not yet implemented: write the update"),
            "{report}"
        );
        let report = check_signal(|_, _| todo!());
        assert!(!report.passed && report.to_string().starts_with("NOT YET"));
    }

    #[test]
    fn signals_are_checked_sample_by_sample() {
        assert!(check_signal(harmonic::parallel).passed);
        let report = check_signal(|t, f| t.iter().map(|&x| (f * x).sin()).collect());
        assert!(
            !report.passed && report.lines[1].contains("sample 1"),
            "{report}"
        );
    }
}
