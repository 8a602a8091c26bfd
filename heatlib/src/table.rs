//! Results are data: a [`Table`] holds what was measured or checked, and
//! renders it as text, HTML and JSON.
//!
//! A comparison, the Rust stages beside the Python versions, a race, an
//! exercise check: each makes one `Table`, and every rendering prints that
//! table's cells, so the terminal, the notebook and the tests read the same
//! numbers. A cell keeps its number beside the text it is shown as
//! ("800 µs (720 µs – 960 µs)" is the value 0.0008), so a program reading the
//! JSON does not parse text back.

use std::fmt::Write;

use serde::Serialize;

use crate::error::Result;
use crate::show::{Representation, Show, TABLE_MIME_TYPE, escape};

/// A captioned table of cells, with a stated baseline and notes below it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// What kind of table it is (`comparison`, `side-by-side`, `race`, `check`):
    /// the HTML class is `heat-` and the kind.
    pub kind: &'static str,
    /// One line that says what was measured and how.
    pub caption: String,
    /// The name of the row the ratios are over, if the table has one.
    pub baseline: Option<String>,
    /// The column titles.
    pub columns: Vec<String>,
    /// The rows, each one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Sentences shown below the table: readings, what was left out.
    pub notes: Vec<String>,
}

/// One cell: the text shown, and the number it shows, if it is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// What every rendering prints.
    pub text: String,
    /// The number behind the text, in the unit the column states (seconds
    /// for times, a plain ratio for speed-ups and fractions); none for names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl Cell {
    /// A cell of text only.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: None,
        }
    }

    /// A cell that shows `value` as `text`.
    pub fn number(value: f64, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: Some(value),
        }
    }
}

impl Table {
    /// An empty table of kind `kind` with these column titles.
    pub fn new(kind: &'static str, caption: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            kind,
            caption: caption.into(),
            baseline: None,
            columns: columns.iter().map(|title| title.to_string()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The index of the column titled `title`.
    pub fn column(&self, title: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == title)
    }

    /// The caption, then the columns padded to their widest cell, then the notes.
    pub fn to_text(&self) -> String {
        let width_of = |c: usize| {
            self.rows
                .iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.text.chars().count())
                .chain([self.columns[c].chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.columns.len()).map(width_of).collect();
        let mut text = format!("{}\n", self.caption);
        let titles = self.columns.iter().map(String::as_str);
        let lines = std::iter::once(titles.collect::<Vec<_>>()).chain(
            self.rows
                .iter()
                .map(|row| row.iter().map(|cell| cell.text.as_str()).collect()),
        );
        if !self.columns.is_empty() {
            for line in lines {
                let padded: Vec<String> = line
                    .iter()
                    .zip(&widths)
                    .map(|(cell, &width)| format!("{cell:<width$}"))
                    .collect();
                let _ = writeln!(text, "{}", padded.join("  ").trim_end());
            }
        }
        // A table of notes only (a check's findings) indents them under its caption.
        let indent = if self.columns.is_empty() { "  " } else { "" };
        for note in &self.notes {
            let _ = writeln!(text, "{indent}{note}");
        }
        text
    }

    /// An HTML table of class `heat-<kind>`, numbers aligned right, the notes
    /// as paragraphs below it.
    pub fn to_html(&self) -> String {
        let mut html = format!("<div class=\"heat-{}\">\n", self.kind);
        if self.columns.is_empty() {
            let _ = writeln!(html, "<p><b>{}</b></p>", caption_html(&self.caption));
        } else {
            let _ = write!(
                html,
                "<table>\n<caption>{}</caption>\n<tr>",
                caption_html(&self.caption)
            );
            for title in &self.columns {
                let _ = write!(html, "<th>{}</th>", escape(title));
            }
            html += "</tr>\n";
            for row in &self.rows {
                html += "<tr>";
                for cell in row {
                    let align = match cell.value {
                        Some(_) => " style=\"text-align:right\"",
                        None => "",
                    };
                    let _ = write!(html, "<td{align}>{}</td>", escape(&cell.text));
                }
                html += "</tr>\n";
            }
            html += "</table>\n";
        }
        for note in &self.notes {
            let _ = writeln!(html, "<p>{}</p>", escape(note));
        }
        html + "</div>\n"
    }

    /// The table as JSON: kind, caption, baseline, columns, rows of
    /// `{"text", "value"}` cells, notes. A number that is not finite is `null`.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, numbers and lists cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Show for Table {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        Ok(vec![
            Representation::new("text/plain", self.to_text()),
            Representation::new("text/html", self.to_html()),
            Representation::new(TABLE_MIME_TYPE, self.to_json()),
        ])
    }
}

/// A caption as HTML: escaped, its line breaks kept.
fn caption_html(caption: &str) -> String {
    escape(caption).replace('\n', "<br>")
}

/// A speed-up as people write it: three significant digits, then "x".
pub fn format_ratio(ratio: f64) -> String {
    match ratio {
        _ if !ratio.is_finite() => "-".into(),
        _ if ratio >= 100.0 => format!("{ratio:.0}x"),
        _ if ratio >= 10.0 => format!("{ratio:.1}x"),
        _ => format!("{ratio:.2}x"),
    }
}

/// A fraction as a whole percentage.
pub(crate) fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.0}%", 100.0 * fraction)
    } else {
        "-".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speeds() -> Table {
        let mut table = Table::new("comparison", "two <stages>", &["stage", "speed-up"]);
        table
            .rows
            .push(vec![Cell::text("typed"), Cell::number(1.5, "1.50x")]);
        table
            .rows
            .push(vec![Cell::text("vectorized"), Cell::number(f64::NAN, "-")]);
        table.notes.push("read & compare".into());
        table
    }

    #[test]
    fn text_pads_each_column_to_its_widest_cell() {
        assert_eq!(
            speeds().to_text(),
            "two <stages>\nstage       speed-up\ntyped       1.50x\nvectorized  -\nread & compare\n"
        );
    }

    #[test]
    fn html_escapes_and_aligns_numbers_right() {
        let html = speeds().to_html();
        assert!(
            html.starts_with("<div class=\"heat-comparison\">"),
            "{html}"
        );
        assert!(
            html.contains("<caption>two &lt;stages&gt;</caption>"),
            "{html}"
        );
        assert!(
            html.contains("<td style=\"text-align:right\">1.50x</td>"),
            "{html}"
        );
        assert!(html.contains("<p>read &amp; compare</p>"), "{html}");
    }

    #[test]
    fn json_keeps_the_numbers_and_writes_nan_as_null() {
        let json: serde_json::Value = serde_json::from_str(&speeds().to_json()).unwrap();
        assert_eq!(json["kind"], "comparison");
        assert_eq!(json["columns"][1], "speed-up");
        assert_eq!(json["rows"][0][1]["value"], 1.5);
        assert_eq!(json["rows"][0][1]["text"], "1.50x");
        assert!(json["rows"][0][0].get("value").is_none());
        assert!(json["rows"][1][1]["value"].is_null());
        assert!(json["baseline"].is_null());
    }

    #[test]
    fn ratios_read_at_three_significant_digits() {
        assert_eq!(format_ratio(2243.4), "2243x");
        assert_eq!(format_ratio(13.42), "13.4x");
        assert_eq!(format_ratio(1.5), "1.50x");
        assert_eq!(format_ratio(0.666), "0.67x");
        assert_eq!(format_ratio(f64::NAN), "-");
    }
}
