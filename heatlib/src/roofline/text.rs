//! The ceilings as a table: caches, bandwidth per level, arithmetic, device.

use super::{Ceilings, Pattern};
use crate::error::{Bytes, Result};
use crate::show::{Representation, Show};
use crate::table::{Cell, Table};

impl Ceilings {
    /// The ceilings as a table: one row per level of the memory hierarchy
    /// (its name, a working set that lives there, then GB/s for each
    /// pattern on one thread and on all cores); the CPU, cores and caches in
    /// the caption; the arithmetic and the device as notes.
    pub fn table(&self) -> Table {
        let caches = self
            .caches
            .iter()
            .map(|c| {
                let reach = if c.shared_by > 1 {
                    "shared"
                } else {
                    "per core"
                };
                format!("{} {} {reach}", c.name(), Bytes(u128::from(c.bytes)))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let caption = format!(
            "{} ({} cores), measured {}\ncaches: {caches}\nbandwidth, GB/s (bytes counted with read for ownership):",
            self.cpu, self.cores, self.measured_on,
        );
        let mut columns = vec!["level".to_string(), "working set".to_string()];
        for threads in self.thread_counts() {
            for pattern in Pattern::ALL {
                columns.push(format!("{} {}T", pattern.name(), threads));
            }
        }
        let titles: Vec<&str> = columns.iter().map(String::as_str).collect();
        let mut table = Table::new("ceilings", caption, &titles);
        for (level, working_set) in self.level_samples() {
            let mut row = vec![
                Cell::text(level),
                Cell::number(
                    working_set as f64,
                    Bytes(u128::from(working_set)).to_string(),
                ),
            ];
            for threads in self.thread_counts() {
                for pattern in Pattern::ALL {
                    let gb_per_s = self.curve_at(pattern, working_set, threads);
                    row.push(Cell::number(gb_per_s, format!("{gb_per_s:.0}")));
                }
            }
            table.rows.push(row);
        }
        for rate in &self.flops {
            table.notes.push(format!(
                "arithmetic, {} thread{}: {:.1} GFLOP/s ({}, {:.1} - {:.1})",
                rate.threads,
                if rate.threads == 1 { "" } else { "s" },
                rate.gflops,
                if rate.fused {
                    "fused multiply-add"
                } else {
                    "multiply and add"
                },
                rate.min_gflops,
                rate.max_gflops
            ));
        }
        match (&self.device, &self.device_note) {
            (Some(d), _) => table.notes.push(format!(
                "OpenCL device {}: copy {:.1} GB/s ({:.1} - {:.1})",
                d.device, d.gb_per_s, d.min_gb_per_s, d.max_gb_per_s
            )),
            (None, Some(why)) => table
                .notes
                .push(format!("OpenCL device: not measured ({why})")),
            (None, None) => {}
        }
        table
    }

    /// The table as plain text, as `heat roofline` prints it.
    pub fn to_text(&self) -> String {
        self.table().to_text()
    }

    fn thread_counts(&self) -> Vec<usize> {
        let mut counts: Vec<usize> = self.flops.iter().map(|f| f.threads).collect();
        counts.dedup();
        counts
    }

    /// One working set per level, the middle of what the level holds, and one for main memory.
    pub(crate) fn level_samples(&self) -> Vec<(String, u64)> {
        let mut below = 0;
        let mut samples = Vec::new();
        for cache in &self.caches {
            samples.push((cache.name(), (below + cache.bytes) / 2));
            below = cache.bytes;
        }
        let largest = self
            .bandwidth
            .iter()
            .map(|b| b.working_set)
            .max()
            .unwrap_or(0);
        samples.push(("memory".into(), largest));
        samples
    }
}

impl Show for Ceilings {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        self.table().mime_bundle()
    }
}
