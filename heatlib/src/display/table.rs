//! A [`Comparison`] drawn: its table as HTML, its speed-ups as a chart, its
//! final fields as heatmaps; and the same for the Rust stages beside the Python versions.
//!
//! Nothing here measures: the figures, the baseline and the speed-ups come
//! from the comparison, so every rendering prints the same numbers.

use std::fmt::Write;

use ndarray::ArrayView2;

use super::{BarChart, Picture, escape, evcxr_content, heatmap_row, print_flushed};
use crate::benchmark::Comparison;
use crate::error::Result;
use crate::python::SideBySide;

impl Comparison {
    /// An HTML table with the same cells as [`Comparison::to_text`].
    pub fn to_html(&self) -> String {
        html_table(
            "heat-comparison",
            &self.heading(),
            &self.headers(),
            self.cells(),
            |column| column >= 2,
        )
    }

    /// The speed-ups as a bar chart on a log scale, titled with the baseline.
    pub fn speed_up_chart(&self) -> Result<Picture> {
        let baseline = self.baseline().map_or("-", |row| row.name.as_str());
        self.speed_ups()
            .into_iter()
            .fold(
                BarChart::new(format!("Speed-up over {baseline}"), "times faster"),
                |chart, (name, speed_up)| chart.bar(name, speed_up),
            )
            .log_scale(true)
            .render()
    }

    /// Every row's final field side by side on one colour scale, each titled
    /// with its largest difference from the reference: the webinar's "make
    /// sure the algorithms are the same", with the number it lacked.
    pub fn heatmaps(&self) -> Result<Picture> {
        let panels: Vec<(String, ArrayView2<'_, f64>)> = self
            .rows
            .iter()
            .map(|row| {
                (
                    format!("{}: max |diff| {:.1e}", row.name, row.max_abs_diff),
                    row.final_field.view(),
                )
            })
            .collect();
        heatmap_row(&panels, None)
    }

    /// What evcxr shows: the HTML table, with the text table for front ends without HTML.
    pub fn evcxr_text(&self) -> String {
        evcxr_content("text/plain", &self.to_text()) + &evcxr_content("text/html", &self.to_html())
    }

    /// Shows the table in the evcxr Jupyter kernel.
    pub fn evcxr_display(&self) {
        print_flushed(&self.evcxr_text());
    }
}

/// A captioned HTML table of class `class`; numbers in the columns `right` says are aligned right.
fn html_table<R: AsRef<[String]>>(
    class: &str,
    caption: &str,
    headers: &[&str],
    cells: Vec<R>,
    right: impl Fn(usize) -> bool,
) -> String {
    let mut html = format!(
        "<table class=\"{class}\">\n<caption>{}</caption>\n<tr>",
        escape(caption)
    );
    for header in headers {
        let _ = write!(html, "<th>{}</th>", escape(header));
    }
    html += "</tr>\n";
    for row in cells {
        html += "<tr>";
        for (column, cell) in row.as_ref().iter().enumerate() {
            let align = if right(column) {
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

impl SideBySide {
    /// An HTML table with the same cells as [`SideBySide::to_text`], the versions left out below it.
    pub fn to_html(&self) -> String {
        let mut html = html_table(
            "heat-side-by-side",
            &format!("Rust beside Python: {}", self.heading),
            &self.headers(),
            self.cells(),
            |column| !matches!(column, 0 | 3),
        );
        for (name, why) in &self.left_out {
            let _ = writeln!(html, "<p>({} not run: {})</p>", escape(name), escape(why));
        }
        html
    }

    /// Each Python version's speed and its Rust counterpart's, side by side, on a log scale:
    /// Python bars in one colour, Rust bars in another.
    pub fn chart(&self) -> Result<Picture> {
        let mut chart = BarChart::new(
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

    /// What evcxr shows: the HTML table, with the text table for front ends without HTML.
    pub fn evcxr_text(&self) -> String {
        evcxr_content("text/plain", &self.to_text()) + &evcxr_content("text/html", &self.to_html())
    }

    /// Shows the table in the evcxr Jupyter kernel.
    pub fn evcxr_display(&self) {
        print_flushed(&self.evcxr_text());
    }
}
