//! A [`Comparison`] as a [`Table`]: the one set of cells that `heat bench`,
//! the notebooks and the docs site print.

use crate::benchmark::{Comparison, Measurement};
use crate::error::Result;
use crate::options::Storage;
use crate::show::{Representation, Show};
use crate::table::{Cell, Table, format_ratio, percent};
use crate::timing::format_seconds;

impl Comparison {
    /// What was compared and how: the problem, the storage and the repeats
    /// (the caption without its baseline, which a table beside Python has none of).
    pub(crate) fn setting(&self) -> String {
        let p = &self.problem;
        format!(
            "nx = {}, nt = {}, gamma = {}, {}: {} cell updates; median of {} runs after a warm-up",
            p.nx,
            p.nt,
            p.gamma(),
            match self.options.storage {
                Storage::FullHistory => "full history",
                Storage::FinalField => "final field",
                Storage::Snapshots { .. } => "snapshots",
            },
            p.cell_updates(),
            self.repeat,
        )
    }

    /// The comparison as a table, one row per measurement: stage, Python
    /// counterpart, threads, median time (min – max), M cell updates/s,
    /// speed-up over the baseline, largest difference from the reference;
    /// two more columns once the comparison is placed on this machine's
    /// ceilings ([`Comparison::set_ceilings`]): the ceiling and the fraction of it reached.
    pub fn table(&self) -> Table {
        let baseline = self.baseline().map(|row| row.name.clone());
        let mut columns = vec![
            "stage",
            "Python counterpart",
            "threads",
            "median (min – max)",
            "M cell updates/s",
            "speed-up",
            "max |diff|",
        ];
        if self.ceilings().is_some() {
            columns.extend(["ceiling M/s (bound)", "of ceiling"]);
        }
        let caption = format!(
            "{}; speed-up over {}",
            self.setting(),
            baseline.as_deref().unwrap_or("-")
        );
        let mut table = Table::new("comparison", caption, &columns);
        table.baseline = baseline;
        table.rows = self.rows.iter().map(|row| self.cells(row)).collect();
        table
    }

    fn cells(&self, row: &Measurement) -> Vec<Cell> {
        let median = row.timing.median();
        let rate = row.mcells_per_s();
        let speed_up = self.speed_up(row);
        let mut cells = vec![
            Cell::text(&row.name),
            Cell::text(row.python_analog()),
            Cell::number(row.threads as f64, row.threads.to_string()),
            Cell::number(
                median,
                format!(
                    "{} ({} – {})",
                    format_seconds(median),
                    format_seconds(row.timing.min()),
                    format_seconds(row.timing.max())
                ),
            ),
            Cell::number(rate, format!("{rate:.0}")),
            Cell::number(speed_up, format_ratio(speed_up)),
            Cell::number(row.max_abs_diff, format!("{:.1e}", row.max_abs_diff)),
        ];
        if let Some(ceiling) = self.ceiling(row) {
            let reached = rate / ceiling.mcells_per_s;
            cells.push(Cell::number(
                ceiling.mcells_per_s,
                format!("{:.0} ({})", ceiling.mcells_per_s, ceiling.bound),
            ));
            cells.push(Cell::number(reached, percent(reached)));
        }
        cells
    }

    /// The table as plain text, as `heat bench` prints it.
    pub fn to_text(&self) -> String {
        self.table().to_text()
    }
}

impl Show for Comparison {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        self.table().mime_bundle()
    }
}

#[cfg(test)]
mod tests {
    use crate::benchmark::tests::{row, table};

    #[test]
    fn the_table_prints_the_speed_ups_it_computes() {
        let comparison = table(vec![row("typed_checked", 0.0012), row("typed", 0.0008)]);
        let text = comparison.to_text();
        let typed_line = text.lines().find(|l| l.starts_with("typed ")).unwrap();
        assert!(typed_line.contains(" 1.50x "), "{text}");
        assert!(typed_line.contains("800 µs (720 µs – 960 µs)"), "{text}");
        assert!(typed_line.contains("Cython boundscheck(False)"), "{text}");

        let data = comparison.table();
        assert_eq!(data.baseline.as_deref(), Some("typed_checked"));
        let speed_up = data.column("speed-up").unwrap();
        assert_eq!(data.rows[1][speed_up].value, Some(0.0012 / 0.0008));
        let median = data.column("median (min – max)").unwrap();
        assert_eq!(data.rows[1][median].value, Some(0.0008));
    }
}
