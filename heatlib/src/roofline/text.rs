//! The ceilings as plain text: caches, bandwidth per level, arithmetic, device.

use super::{Ceilings, Pattern};
use crate::error::Bytes;

impl Ceilings {
    /// A plain-text summary: caches, bandwidth per level, arithmetic, device.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{} ({} cores), measured {}\ncaches: {}\n",
            self.cpu,
            self.cores,
            self.measured_on,
            self.caches
                .iter()
                .map(|c| format!(
                    "{} {}{}",
                    c.name(),
                    Bytes(u128::from(c.bytes)),
                    if c.shared_by > 1 {
                        " shared"
                    } else {
                        " per core"
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut rows = Vec::new();
        for (level, working_set) in self.level_samples() {
            let mut row = vec![level, Bytes(u128::from(working_set)).to_string()];
            for threads in self.thread_counts() {
                for pattern in Pattern::ALL {
                    row.push(format!(
                        "{:.0}",
                        self.curve_at(pattern, working_set, threads)
                    ));
                }
            }
            rows.push(row);
        }
        let mut headers = vec!["level".to_string(), "working set".to_string()];
        for threads in self.thread_counts() {
            for pattern in Pattern::ALL {
                headers.push(format!("{} {}T", pattern.name(), threads));
            }
        }
        text += &crate::benchmark::text_table(
            "bandwidth, GB/s (bytes counted with read for ownership):",
            &headers,
            &rows,
        );
        for rate in &self.flops {
            text += &format!(
                "arithmetic, {} thread{}: {:.1} GFLOP/s ({}, {:.1} - {:.1})\n",
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
            );
        }
        match (&self.device, &self.device_note) {
            (Some(d), _) => {
                text += &format!(
                    "OpenCL device {}: copy {:.1} GB/s ({:.1} - {:.1})\n",
                    d.device, d.gb_per_s, d.min_gb_per_s, d.max_gb_per_s
                )
            }
            (None, Some(why)) => text += &format!("OpenCL device: not measured ({why})\n"),
            (None, None) => {}
        }
        text
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
