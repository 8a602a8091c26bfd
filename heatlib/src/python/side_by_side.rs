//! Each Python version beside the Rust stage that teaches the same idea, as a
//! [`Table`] and a chart.

use crate::benchmark::{BenchRow, CeilingRow, Comparison, Measurement, finite};
use crate::error::Result;
use crate::python::{PythonRow, PythonSide};
use crate::roofline::Ceiling;
use crate::show::{Representation, Show};
use crate::table::{Cell, Table, format_ratio, percent};
use crate::timing::format_seconds;

/// One Python version beside the Rust stage that teaches the same idea.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The Python version.
    pub python: PythonRow,
    /// Its Rust counterpart's measurement, when that stage was in the comparison.
    pub rust: Option<Measurement>,
    /// The Rust counterpart's predicted ceiling, when the comparison was placed
    /// on the machine's ceilings: both sides of the pair are read against it.
    pub ceiling: Option<Ceiling>,
}

impl Pair {
    /// How many times faster the Rust stage ran than the Python version (median against median).
    pub fn rust_over_python(&self) -> f64 {
        self.rust.as_ref().map_or(f64::NAN, |rust| {
            self.python.timing.median() / rust.timing.median()
        })
    }
}

/// A [`Comparison`]'s Rust stages beside the Python versions of the same ideas.
#[derive(Debug, Clone, PartialEq)]
pub struct SideBySide {
    /// What was compared: the problem, storage and repeats.
    pub setting: String,
    /// One pair per Python version, in heatlib's stage order.
    pub pairs: Vec<Pair>,
    /// Python versions left out, with why.
    pub left_out: Vec<(String, String)>,
}

impl Comparison {
    /// Pairs each Python row with this comparison's row for its Rust counterpart.
    pub fn beside(&self, python: &PythonSide) -> SideBySide {
        SideBySide {
            setting: self.setting(),
            pairs: python
                .rows
                .iter()
                .map(|row| {
                    let rust = self
                        .rows
                        .iter()
                        .find(|rust| rust.stage.is_some() && rust.stage == row.rust_counterpart)
                        .cloned();
                    Pair {
                        python: row.clone(),
                        ceiling: rust.as_ref().and_then(|rust| self.ceiling(rust)),
                        rust,
                    }
                })
                .collect(),
            left_out: python.left_out.clone(),
        }
    }
}

impl SideBySide {
    /// One row per pair: the Python version, its median and M cell updates/s,
    /// the same for its Rust counterpart, and Rust over Python; three more
    /// columns when the pairs carry their ceilings (the ceiling, and the
    /// fraction of it each side reached). The versions left out are notes.
    pub fn table(&self) -> Table {
        let mut columns = vec![
            "Python",
            "median",
            "M cell updates/s",
            "Rust stage",
            "median",
            "M cell updates/s",
            "Rust / Python",
        ];
        let with_ceilings = self.pairs.iter().any(|pair| pair.ceiling.is_some());
        if with_ceilings {
            columns.extend(["ceiling M/s", "Python of ceiling", "Rust of ceiling"]);
        }
        let caption = format!("Rust beside Python: {}", self.setting);
        let mut table = Table::new("side-by-side", caption, &columns);
        table.rows = self
            .pairs
            .iter()
            .map(|pair| pair_cells(pair, with_ceilings))
            .collect();
        table.notes = self
            .left_out
            .iter()
            .map(|(name, why)| format!("({name} not run: {why})"))
            .collect();
        table
    }

    /// The table as plain text, as `heat bench --with-python` prints it.
    pub fn to_text(&self) -> String {
        self.table().to_text()
    }

    /// Each Python version's speed and its Rust counterpart's, side by side, on a log scale:
    /// Python bars in one colour, Rust bars in another.
    #[cfg(feature = "display")]
    pub fn chart(&self) -> Result<crate::display::Picture> {
        let mut chart = crate::display::BarChart::new(
            "Python (orange) beside Rust (blue): million cell updates per second",
            "M cell updates/s",
        )
        .log_scale(true);
        for pair in &self.pairs {
            chart = chart.bar_in_series(pair.python.name.clone(), pair.python.mcells_per_s(), 1);
            if let Some(rust) = &pair.rust {
                chart = chart.bar_in_series(rust.name.clone(), rust.mcells_per_s(), 0);
            }
        }
        chart.render()
    }
}

impl SideBySide {
    /// The Python rows as heatpy wrote them, each with Rust over Python and
    /// its Rust counterpart's ceiling (the same scale for both), as `heat bench
    /// --with-python --json` writes them.
    pub fn bench_rows(&self) -> Vec<BenchRow> {
        self.pairs
            .iter()
            .map(|pair| {
                let mut row = pair.python.bench.clone();
                row.rust_over_python = finite(pair.rust_over_python());
                row.ceiling = pair.ceiling.as_ref().map(|ceiling| {
                    let rust = pair.rust.as_ref().map(|rust| rust.name.as_str());
                    CeilingRow::new(ceiling, pair.python.mcells_per_s(), rust)
                });
                row
            })
            .collect()
    }
}

impl Show for SideBySide {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        self.table().mime_bundle()
    }
}

fn pair_cells(pair: &Pair, with_ceilings: bool) -> Vec<Cell> {
    let python = &pair.python;
    let median = |seconds_taken: f64| Cell::number(seconds_taken, format_seconds(seconds_taken));
    let rate = |rate: f64| Cell::number(rate, format!("{rate:.0}"));
    let ratio = pair.rust_over_python();
    let mut cells = vec![
        Cell::text(&python.python_analog),
        median(python.timing.median()),
        rate(python.mcells_per_s()),
    ];
    match &pair.rust {
        Some(rust) => cells.extend([
            Cell::text(&rust.name),
            median(rust.timing.median()),
            rate(rust.mcells_per_s()),
        ]),
        None => cells.extend([
            Cell::text(match python.rust_counterpart {
                Some(stage) => format!("{stage} (not run)"),
                None => "no library stage".to_string(),
            }),
            Cell::text("-"),
            Cell::text("-"),
        ]),
    }
    cells.push(Cell::number(ratio, format_ratio(ratio)));
    if with_ceilings {
        match (&pair.ceiling, &pair.rust) {
            (Some(ceiling), Some(rust)) => {
                let of = |rate: f64| {
                    let reached = rate / ceiling.mcells_per_s;
                    Cell::number(reached, percent(reached))
                };
                cells.push(rate(ceiling.mcells_per_s));
                cells.push(of(python.mcells_per_s()));
                cells.push(of(rust.mcells_per_s()));
            }
            _ => cells.extend([Cell::text("-"), Cell::text("-"), Cell::text("-")]),
        }
    }
    cells
}
