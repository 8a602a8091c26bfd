//! Checks for the exercise notebooks: is the learner's version right, and if not, where does it go wrong?
//!
//! A check never panics: a learner's function that panics (a `todo!()` not yet
//! filled in, an index out of bounds) is reported as a failed check, and the
//! notebook's variables survive.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::Result;
use crate::options::RunOptions;
use crate::problem::{Boundary, Problem};
use crate::reference;
use crate::show::{Representation, Show};
use crate::solver::solve_with;
use crate::step::Step;
use crate::table::Table;

mod history;
mod race;

pub use history::check_largest_per_level;
pub use race::{Race, race};

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

impl CheckReport {
    /// The report as a table of no columns: the verdict and subject as its
    /// caption ("PASSED: your time step", or "NOT YET: ..."), a note per line.
    pub fn table(&self) -> Table {
        let verdict = if self.passed { "PASSED" } else { "NOT YET" };
        let mut table = Table::new("check", format!("{verdict}: {}", self.subject), &[]);
        table.notes = self.lines.clone();
        table
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table().to_text())
    }
}

impl Show for CheckReport {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        self.table().mime_bundle()
    }
}

/// Further apart than `tolerance`, or NaN on either side.
fn differs(yours: f64, right: f64, tolerance: f64) -> bool {
    let gap = (yours - right).abs();
    gap.is_nan() || gap > tolerance
}

/// Runs the learner's code; a panic becomes "your function panicked: <its message>".
/// The panic is not printed as well: the report says it once, where it belongs.
fn attempt<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    let printing = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(work));
    std::panic::set_hook(printing);
    outcome.map_err(|payload| {
        let message = crate::error::panic_message(payload.as_ref());
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
        let first_wrong = history
            .outer_iter()
            .zip(expected.outer_iter())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::Stage;
    use crate::stages::typed_checked::advance as right;
    use ndarray::{ArrayView2, ArrayView3, ArrayViewMut2};

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
        assert!(report.to_string().starts_with("NOT YET: your time step"));
    }

    #[test]
    fn a_race_reads_each_step_against_the_library_and_the_one_before() {
        let problem = Problem::small().with_size(30, 40);
        let race = race(&problem, &RunOptions::final_field())
            .yours("exercise 1", &right)
            .yours("exercise 2", &Stage::Typed.step_fn().unwrap())
            .library(Stage::TypedChecked);
        let readings = race.readings();
        assert_eq!(readings.len(), 2, "{race}");
        assert!(readings[0].starts_with("exercise 1: "), "{race}");
        assert!(readings[0].contains(", typed_checked: "), "{race}");
        assert!(readings[1].contains(" the speed of exercise 1"), "{race}");
        assert!(
            race.to_string().contains("speed-up over exercise 1"),
            "{race}"
        );
    }

    #[test]
    fn a_wrong_or_panicking_step_is_reported_not_timed_as_right() {
        let problem = Problem::small().with_size(12, 30).with_gamma(0.2);
        let race = race(&problem, &RunOptions::final_field())
            .yours("forgets the centre", &forgets_the_centre)
            .yours("blank", &not_written_yet)
            .library(Stage::Typed);
        let text = race.to_string();
        assert!(
            text.contains("forgets the centre: differs from the reference"),
            "{text}"
        );
        assert!(
            text.contains("not timed: blank: your function panicked"),
            "{text}"
        );
    }

    #[test]
    fn largest_per_level_is_checked_level_by_level() {
        fn right(history: ArrayView3<f64>) -> Vec<f64> {
            history
                .outer_iter()
                .map(|level| level.iter().fold(0.0f64, |m, t| m.max(t.abs())))
                .collect()
        }
        fn signed(history: ArrayView3<f64>) -> Vec<f64> {
            history
                .outer_iter()
                .map(|level| level.iter().fold(f64::MIN, |m, t| m.max(*t)))
                .collect()
        }
        assert!(check_largest_per_level(right).passed);
        let report = check_largest_per_level(signed);
        assert!(!report.passed, "{report}");
        assert!(
            report.lines[0].contains("level 0: yours 100, expected 150"),
            "{report}"
        );
    }
}
