//! A race: your steps timed beside a library stage, each read in one sentence.

use std::fmt::{self, Write};

use crate::benchmark::{Comparison, Measurement};
use crate::error::Result;
use crate::exercise::{attempt, differs};
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::show::{Representation, Show};
use crate::stages::Stage;
use crate::step::Step;
use crate::table::{Table, format_ratio};
use crate::timing::format_seconds;

/// Your steps timed beside a library stage, each with a one-line reading:
/// "yours: 0.81 ms, typed_checked: 0.78 ms: the same speed".
///
/// Start one with [`race`], add your steps with [`Race::yours`] and the stage
/// to beat with [`Race::library`]; show it by ending a cell with it. Where an
/// exercise's technique shows in its speed, [`Race::expect_slower`] or
/// [`Race::expect_within`] turns the race into a check, whose last note says
/// PASSED or NOT YET; where it cannot, [`Race::not_checked`] says why. Steps run
/// through the library's time loop ([`Comparison::add_step`]). A step that
/// panics or gives other numbers than the reference is reported, not timed as
/// if it were right, and nothing panics.
#[derive(Debug, Clone)]
pub struct Race {
    comparison: std::result::Result<Comparison, String>,
    /// Names of the rows that are yours, in the order they were added.
    yours: Vec<String>,
    /// The library stage's row, once added.
    library: Option<String>,
    /// What went wrong along the way.
    problems: Vec<String>,
    /// What the speed of your last step must show, if anything.
    expected: Option<Expected>,
    /// Why the speed is not checked, when the exercise says so.
    not_checked: Option<String>,
}

/// What a race checks of your last step's time against the library's.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expected {
    /// At least this many times the library's time: the cost the exercise is about.
    Slower(f64),
    /// At most this many times the library's time: the technique worked.
    Within(f64),
}

/// A race on `problem`, each entry timed (one warm-up, then 5 runs) with `options`.
pub fn race(problem: &Problem, options: &RunOptions) -> Race {
    Race {
        comparison: Comparison::new(problem, options, 5).map_err(|error| error.to_string()),
        yours: Vec::new(),
        library: None,
        problems: Vec::new(),
        expected: None,
        not_checked: None,
    }
}

impl Race {
    /// Times your step, called `name`, through the library's time loop.
    pub fn yours<S: Step + ?Sized>(mut self, name: &str, step: &S) -> Race {
        if let Ok(comparison) = &mut self.comparison {
            match attempt(|| comparison.add_step(name, step).map(|_| ())) {
                Ok(Ok(())) => self.yours.push(name.to_string()),
                Ok(Err(error)) => self.problems.push(format!("{name}: {error}")),
                Err(panicked) => self.problems.push(format!("{name}: {panicked}")),
            }
        }
        self
    }

    /// Times the library's `stage`, the one to compare with.
    pub fn library(mut self, stage: Stage) -> Race {
        if let Ok(comparison) = &mut self.comparison {
            match comparison.add_stage(stage) {
                Ok(_) => self.library = Some(stage.name().to_string()),
                Err(error) => self.problems.push(format!("{stage}: {error}")),
            }
        }
        self
    }

    /// Checks that your last step takes at least `factor` times the
    /// library's time: for an exercise whose point is a cost, such as walking
    /// memory in the wrong order. Give a plate where the cost shows.
    pub fn expect_slower(mut self, factor: f64) -> Race {
        self.expected = Some(Expected::Slower(factor));
        self
    }

    /// Checks that your last step takes at most `factor` times the library's
    /// time: for an exercise whose technique should bring it near the library.
    pub fn expect_within(mut self, factor: f64) -> Race {
        self.expected = Some(Expected::Within(factor));
        self
    }

    /// Says that this race does not check the speed, and why (a note under the table).
    pub fn not_checked(mut self, why: &str) -> Race {
        self.not_checked = Some(why.to_string());
        self
    }

    /// Whether the race's check passed: `None` when it checks no speed.
    pub fn passed(&self) -> Option<bool> {
        self.verdict().map(|(passed, _)| passed)
    }

    /// The check's verdict and its sentence, when a speed is expected.
    fn verdict(&self) -> Option<(bool, String)> {
        let expected = self.expected?;
        let (Some(mine), Some(library)) = (
            self.yours.last().and_then(|name| self.row(name)),
            self.library.as_deref().and_then(|name| self.row(name)),
        ) else {
            return Some((
                false,
                "NOT YET: the race did not time your step and the library's (see above)"
                    .to_string(),
            ));
        };
        if !agrees_with_reference(mine) {
            return Some((
                false,
                "NOT YET: your step must give the reference's numbers before its speed counts"
                    .to_string(),
            ));
        }
        let ratio = mine.timing.median() / library.timing.median();
        let said = format!(
            "yours takes {} the time of {}",
            format_ratio(ratio),
            library.name
        );
        Some(match expected {
            Expected::Slower(factor) if ratio >= factor => (
                true,
                format!("PASSED: {said}, at least {factor}x, the cost this exercise is about"),
            ),
            Expected::Slower(factor) => (
                false,
                format!(
                    "NOT YET: {said}; this exercise expects at least {factor}x here: does your \
                     step do what the exercise asks, the way it asks?"
                ),
            ),
            Expected::Within(factor) if ratio <= factor => {
                (true, format!("PASSED: {said}, within {factor}x"))
            }
            Expected::Within(factor) => (
                false,
                format!(
                    "NOT YET: {said}; with the exercise's technique it should be within \
                     {factor}x: run it again (a busy machine can slow one run), then read the hints"
                ),
            ),
        })
    }

    /// The measurements, if the race could start at all.
    pub fn comparison(&self) -> Option<&Comparison> {
        self.comparison.as_ref().ok()
    }

    /// The row the race timed as `name`, if it did.
    fn row(&self, name: &str) -> Option<&Measurement> {
        self.comparison()?.rows.iter().find(|row| row.name == name)
    }

    /// One sentence per step of yours: its time beside the library's, and the
    /// speed-up over your previous step.
    pub fn readings(&self) -> Vec<String> {
        if let Err(error) = &self.comparison {
            return vec![format!("not timed: {error}")];
        }
        let library = self.library.as_deref().and_then(|name| self.row(name));
        let mut readings = Vec::new();
        let mut previous: Option<&Measurement> = None;
        for mine in self.yours.iter().filter_map(|name| self.row(name)) {
            if !agrees_with_reference(mine) {
                readings.push(format!(
                    "{}: differs from the reference by {:.1e}, so its time means nothing yet: make its check say PASSED first",
                    mine.name, mine.max_abs_diff
                ));
                previous = None;
                continue;
            }
            let mut reading = format!("{}: {}", mine.name, format_seconds(mine.timing.median()));
            if let Some(library) = library {
                let ratio = mine.timing.median() / library.timing.median();
                let _ = write!(
                    reading,
                    ", {}: {}: {}",
                    library.name,
                    format_seconds(library.timing.median()),
                    match ratio {
                        _ if (0.9..=1.1).contains(&ratio) => "the same speed".to_string(),
                        _ if ratio < 1.0 =>
                            format!("yours is {} faster", format_ratio(1.0 / ratio)),
                        _ => format!("the library's is {} faster", format_ratio(ratio)),
                    }
                );
            }
            if let Some(before) = previous {
                let _ = write!(
                    reading,
                    "; {} the speed of {}",
                    format_ratio(before.timing.median() / mine.timing.median()),
                    before.name
                );
            }
            readings.push(reading);
            previous = Some(mine);
        }
        readings.extend(
            self.problems
                .iter()
                .map(|problem| format!("not timed: {problem}")),
        );
        if let Some((_, sentence)) = self.verdict() {
            readings.push(sentence);
        } else if let Some(why) = &self.not_checked {
            readings.push(format!("speed not checked: {why}"));
        }
        readings
    }

    /// The comparison's table with the readings as its notes.
    pub fn table(&self) -> Table {
        let mut table = match &self.comparison {
            Ok(comparison) => comparison.table(),
            Err(_) => Table::new("race", "a race that could not start", &[]),
        };
        table.kind = "race";
        table.notes = self.readings();
        table
    }
}

impl fmt::Display for Race {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table().to_text())
    }
}

impl Show for Race {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        self.table().mime_bundle()
    }
}

/// Whether a timed step gave the reference's numbers (to 1e-12), so that its time counts.
fn agrees_with_reference(row: &Measurement) -> bool {
    !differs(row.max_abs_diff, 0.0, 1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_the_library() -> Race {
        let step = Stage::TypedChecked
            .step_fn()
            .expect("typed_checked has a step");
        race(
            &Problem::small().with_size(30, 20),
            &RunOptions::final_field(),
        )
        .yours("a copy of typed_checked", &step)
        .library(Stage::TypedChecked)
    }

    #[test]
    fn a_step_as_fast_as_the_library_is_not_the_slow_one_an_exercise_expects() {
        let raced = same_as_the_library().expect_slower(1.5);
        assert_eq!(raced.passed(), Some(false));
        let last = raced.readings().pop().unwrap_or_default();
        assert!(last.starts_with("NOT YET: yours takes"), "{last}");
    }

    #[test]
    fn a_step_near_the_library_passes_within_a_generous_factor() {
        let raced = same_as_the_library().expect_within(50.0);
        assert_eq!(raced.passed(), Some(true));
        assert!(
            raced
                .readings()
                .iter()
                .any(|line| line.starts_with("PASSED"))
        );
    }

    #[test]
    fn a_race_that_cannot_tell_says_so_and_grades_nothing() {
        let raced = same_as_the_library().not_checked("two threads may not pay here");
        assert_eq!(raced.passed(), None);
        assert_eq!(
            raced.readings().last().map(String::as_str),
            Some("speed not checked: two threads may not pay here")
        );
        assert!(!raced.readings().iter().any(|line| line.contains("PASSED")));
    }

    #[test]
    fn a_wrong_step_is_not_yet_whatever_its_speed() {
        fn wrong(_: ndarray::ArrayView2<'_, f64>, _: ndarray::ArrayViewMut2<'_, f64>, _: f64) {}
        let raced = race(
            &Problem::small().with_size(30, 20),
            &RunOptions::final_field(),
        )
        .yours("does nothing", &wrong)
        .library(Stage::TypedChecked)
        .expect_slower(0.0);
        assert_eq!(raced.passed(), Some(false));
    }
}
