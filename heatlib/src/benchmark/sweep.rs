//! A size sweep: the same stages on plates from one that fits in L1 to one
//! far past the last cache, each placed on its ceiling.
//!
//! As the plate grows, its two fields move out of L1, then L2, then the last
//! cache, and a stage that keeps up with memory slows down at each step,
//! following the bandwidth curve down; a stage held back by something else
//! (the interpreter, bounds checks) stays flat until the ceiling comes down
//! to meet it.

use serde::{Deserialize, Serialize};

use super::Comparison;
use crate::error::Result;
use crate::options::RunOptions;
use crate::problem::Problem;
use crate::roofline::{Ceiling, Ceilings};
use crate::stages::Stage;

/// One stage timed on one plate, with its ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The stage's name.
    pub stage: String,
    /// Nodes per side.
    pub nx: usize,
    /// Time levels.
    pub nt: usize,
    /// Threads the time loop ran on.
    pub threads: usize,
    /// The two fields' bytes: what the time loop walks every step.
    pub working_set: u64,
    /// Median million cell updates per second.
    pub mcells_per_s: f64,
    /// The model's ceiling for it.
    pub ceiling: Ceiling,
}

/// Plate sides from one that fits in L1 (two fields of 24 x 24) to one far past
/// any last cache (3000 x 3000, 144 MB), about evenly spaced on a log scale.
pub const SWEEP_SIDES: [usize; 10] = [24, 48, 100, 200, 400, 700, 1000, 1500, 2200, 3000];

/// Cell updates per timed run: a few milliseconds at any speed worth sweeping.
const UPDATES_PER_RUN: usize = 50_000_000;

/// Times each of `stages` on a square plate of each side in `sides` (final
/// field only, `repeat` runs after a warm-up, each about 50 million cell
/// updates, at least 10 steps), and places each on `ceilings`. A stage slower than 100 M cell
/// updates/s on the first plate is left out of larger ones, which would take minutes.
pub fn sweep(
    ceilings: &Ceilings,
    stages: &[Stage],
    sides: &[usize],
    repeat: usize,
) -> Result<Vec<SweepPoint>> {
    let mut points = Vec::new();
    let mut too_slow = Vec::new();
    for &nx in sides {
        let interior = nx.saturating_sub(2).max(1).pow(2);
        let nt = (UPDATES_PER_RUN / interior).clamp(10, 50_000) + 1;
        let problem = Problem::small().with_size(nx, nt);
        let options = RunOptions::final_field();
        let mut comparison = Comparison::new(&problem, &options, repeat)?;
        comparison.set_ceilings(ceilings);
        let to_time: Vec<Stage> = stages
            .iter()
            .copied()
            .filter(|s| !too_slow.contains(s))
            .collect();
        for stage in to_time {
            let row = comparison.add_stage(stage)?;
            if row.mcells_per_s() < 100.0 {
                too_slow.push(stage);
            }
        }
        for row in &comparison.rows {
            let Some(ceiling) = comparison.ceiling(row) else {
                continue;
            };
            points.push(SweepPoint {
                stage: row.name.clone(),
                nx,
                nt,
                threads: row.threads,
                working_set: ceiling.traffic.working_set,
                mcells_per_s: row.mcells_per_s(),
                ceiling,
            });
        }
    }
    Ok(points)
}
