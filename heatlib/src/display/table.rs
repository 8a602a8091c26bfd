//! The comparison table: every stage timed on one problem, as HTML in a notebook and as text elsewhere.

use std::fmt::Write;

use super::{BarChart, Picture, evcxr_content, print_flushed};
use crate::error::Result;
use crate::problem::Problem;
use crate::reference;
use crate::solver::RunOptions;
use crate::stages::Stage;
use crate::timing::{Measurement, measure_reporting, seconds};

/// Stages timed side by side on one problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub problem: Problem,
    pub rows: Vec<Measurement>,
}

/// Times each of `stages` on `problem` (one warm-up, then `repeat` runs) and
/// compares its final field with the reference. A stage whose warm-up run
/// took over half a second says so before its timed runs.
pub fn compare(
    problem: &Problem,
    stages: &[Stage],
    options: &RunOptions,
    repeat: usize,
) -> Result<Comparison> {
    let exact = reference::final_field(problem)?;
    let mut rows = Vec::with_capacity(stages.len());
    for &stage in stages {
        let announce = |warm_up_s: f64| {
            if warm_up_s > 0.5 {
                print_flushed(&format!(
                    "{stage}: one run takes {}; timing {repeat} more runs...\n",
                    seconds(warm_up_s)
                ));
            }
        };
        rows.push(measure_reporting(
            stage, problem, options, repeat, &exact, announce,
        )?);
    }
    Ok(Comparison {
        problem: problem.clone(),
        rows,
    })
}

impl Comparison {
    /// The row speed-ups are measured against: the interpreted stage if it ran, else the slowest.
    fn baseline(&self) -> Option<&Measurement> {
        self.rows
            .iter()
            .find(|m| m.stage == Stage::Interpreted)
            .or_else(|| {
                self.rows
                    .iter()
                    .max_by(|a, b| a.timing.median().total_cmp(&b.timing.median()))
            })
    }

    /// How many times faster than the baseline each stage ran.
    pub fn speed_ups(&self) -> Vec<(Stage, f64)> {
        let base = self.baseline().map_or(f64::NAN, |m| m.timing.median());
        self.rows
            .iter()
            .map(|m| (m.stage, base / m.timing.median()))
            .collect()
    }

    fn heading(&self) -> String {
        let p = &self.problem;
        format!(
            "nx = {}, nt = {}, gamma = {}: {} cell updates; median of {} runs after a warm-up; speed-up over {}",
            p.nx,
            p.nt,
            p.gamma(),
            p.cell_updates(),
            self.rows.first().map_or(0, |m| m.timing.runs.len()),
            self.baseline().map_or("-", |m| m.stage.name())
        )
    }

    fn cells(&self) -> Vec<[String; 6]> {
        self.rows
            .iter()
            .zip(self.speed_ups())
            .map(|(m, (_, speed_up))| {
                [
                    m.stage.name().to_string(),
                    m.stage.python_analog().to_string(),
                    format!(
                        "{} ({} – {})",
                        seconds(m.timing.median()),
                        seconds(m.timing.min()),
                        seconds(m.timing.max())
                    ),
                    format!("{:.0}", m.mcells_per_s()),
                    format!("{speed_up:.0}x"),
                    format!("{:.1e}", m.max_abs_diff),
                ]
            })
            .collect()
    }

    const HEADERS: [&'static str; 6] = [
        "stage",
        "Python counterpart",
        "median (min – max)",
        "M cell updates/s",
        "speed-up",
        "max |diff|",
    ];

    /// A plain-text table.
    pub fn to_text(&self) -> String {
        let cells = self.cells();
        let widths: Vec<usize> = (0..6)
            .map(|c| {
                cells
                    .iter()
                    .map(|row| row[c].chars().count())
                    .chain([Self::HEADERS[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = self.heading() + "\n";
        for row in std::iter::once(Self::HEADERS.map(String::from)).chain(cells) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| format!("{cell:<width$}"))
                .collect();
            text += line.join("  ").trim_end();
            text += "\n";
        }
        text
    }

    /// An HTML table.
    pub fn to_html(&self) -> String {
        let mut html = format!(
            "<table class=\"heat-comparison\">\n<caption>{}</caption>\n<tr>",
            escape(&self.heading())
        );
        for header in Self::HEADERS {
            let _ = write!(html, "<th>{}</th>", escape(header));
        }
        html += "</tr>\n";
        for row in self.cells() {
            html += "<tr>";
            for (column, cell) in row.iter().enumerate() {
                let align = if column >= 2 {
                    " style=\"text-align:right\""
                } else {
                    ""
                };
                let _ = write!(html, "<td{align}>{}</td>", escape(cell));
            }
            html += "</tr>\n";
        }
        html + "</table>\n"
    }

    /// The speed-ups as a bar chart on a log scale.
    pub fn speed_up_chart(&self) -> Result<Picture> {
        let baseline = self
            .baseline()
            .map_or("the slowest stage", |m| m.stage.name());
        self.speed_ups()
            .into_iter()
            .fold(
                BarChart::new(format!("Speed-up over {baseline}"), "times faster"),
                |chart, (stage, speed_up)| chart.bar(stage.name(), speed_up),
            )
            .log_scale(true)
            .render()
    }

    /// What evcxr shows: the HTML table, with the text table for front ends without HTML.
    pub fn evcxr_text(&self) -> String {
        evcxr_content("text/plain", &self.to_text()) + &evcxr_content("text/html", &self.to_html())
    }

    pub fn evcxr_display(&self) {
        print_flushed(&self.evcxr_text());
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
