//! A race: your steps timed beside a library stage, each read in one sentence.

use std::fmt::{self, Write};

use crate::benchmark::{Comparison, Measurement};
use crate::error::Result;
use crate::exercise::attempt;
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
/// to beat with [`Race::library`]; show it by ending a cell with it. Steps run
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
}

/// A race on `problem`, each entry timed (one warm-up, then 5 runs) with `options`.
pub fn race(problem: &Problem, options: &RunOptions) -> Race {
    Race {
        comparison: Comparison::new(problem, options, 5).map_err(|error| error.to_string()),
        yours: Vec::new(),
        library: None,
        problems: Vec::new(),
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

    /// The measurements, if the race could start at all.
    pub fn comparison(&self) -> Option<&Comparison> {
        self.comparison.as_ref().ok()
    }

    /// One sentence per step of yours: its time beside the library's, and the
    /// speed-up over your previous step.
    pub fn readings(&self) -> Vec<String> {
        let comparison = match &self.comparison {
            Ok(comparison) => comparison,
            Err(error) => return vec![format!("not timed: {error}")],
        };
        let row = |name: &str| comparison.rows.iter().find(|row| row.name == name);
        let library = self.library.as_deref().and_then(row);
        let mut readings = Vec::new();
        let mut previous: Option<&Measurement> = None;
        for mine in self.yours.iter().filter_map(|name| row(name)) {
            if mine.max_abs_diff.is_nan() || mine.max_abs_diff > 1e-12 {
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
