//! The speed of light: what this machine can deliver, and how close each stage comes to it.
//!
//! A timing says how fast a stage is; a ceiling says how fast it could be.
//! Two things limit a time step: the bytes it must move between memory (or
//! a cache) and the core, and the arithmetic it must do. [`Ceilings::measure`]
//! measures both on the learner's own machine:
//!
//! - the cache sizes, from the operating system;
//! - bandwidth for working sets from 16 KiB (inside L1) to past four times
//!   the last-level cache (main memory), for three access patterns
//!   ([`Pattern`]), on one thread and on all cores;
//! - the arithmetic rate: multiply-adds on every SIMD lane, one thread and all cores;
//! - with the `opencl` feature, the OpenCL device's own copy bandwidth.
//!
//! The traffic model ([`traffic`]) says how many bytes, loads and flops each
//! stage spends per cell update, with its reasoning. Together they give each
//! stage a predicted ceiling ([`Ceilings::ceiling`]) in the spirit of the
//! roofline model of Williams, Waterman and Patterson (2009): one core's
//! load time plus its transfer time per update (they do not overlap, as the
//! ECM model of Treibig and Hager counts), times the threads until the
//! level's shared bandwidth runs out, capped by the arithmetic. A stage near
//! its ceiling can only go faster by moving fewer bytes or loading fewer
//! values; a stage far below it is held back by something else: the
//! interpreter, bounds checks that stop SIMD, threads meeting every step.
//!
//! Measuring takes a few seconds; [`Ceilings::of_this_machine`] measures once
//! and keeps the result in a file, so notebooks and `heat bench` do not wait.
//!
//! ```no_run
//! use heatlib::roofline::Ceilings;
//! use heatlib::{Problem, RunOptions, Stage};
//! let ceilings = Ceilings::of_this_machine()?;
//! let ceiling = ceilings.for_stage(Some(Stage::Typed), &Problem::large(), &RunOptions::final_field(), 1);
//! println!("typed can reach {:.0} M cell updates/s ({})", ceiling.mcells_per_s, ceiling.bound);
//! # Ok::<(), heatlib::HeatError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::options::RunOptions;
use crate::problem::Problem;
use crate::stages::Stage;

#[cfg(feature = "opencl")]
mod device_copy;
mod kept;
mod machine;
mod measure;
mod model;
mod probes;
mod text;

pub use machine::CacheLevel;
pub use model::{Traffic, bytes, traffic};
pub use probes::Pattern;

pub use kept::{FILE_VARIABLE, KEPT_FILE_LIMIT, Kept};

/// One bandwidth measurement: a pattern over a working set, on some threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// How memory was walked.
    pub pattern: Pattern,
    /// Bytes walked in all (shared among the threads).
    pub working_set: u64,
    /// Threads walking it at once.
    pub threads: usize,
    /// Median gigabytes (1e9 bytes) per second, bytes counted as [`Pattern::bytes_per_element`] says.
    pub gb_per_s: f64,
    /// The slowest run's figure.
    pub min_gb_per_s: f64,
    /// The fastest run's figure.
    pub max_gb_per_s: f64,
}

/// The arithmetic ceiling on some threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlopRate {
    /// Threads computing at once.
    pub threads: usize,
    /// Median billions of floating-point operations per second.
    pub gflops: f64,
    /// The slowest run's figure.
    pub min_gflops: f64,
    /// The fastest run's figure.
    pub max_gflops: f64,
    /// Whether fused multiply-add instructions were used (2 flops each).
    pub fused: bool,
}

/// The OpenCL device's copy bandwidth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceBandwidth {
    /// The device's name.
    pub device: String,
    /// Median GB/s, 16 bytes per element copied.
    pub gb_per_s: f64,
    /// The slowest run's figure.
    pub min_gb_per_s: f64,
    /// The fastest run's figure.
    pub max_gb_per_s: f64,
}

/// What this machine can deliver, measured: see the [module](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceilings {
    /// The file format, so that an older file is measured again.
    pub format: u32,
    /// The day of the measurement, YYYY-MM-DD.
    pub measured_on: String,
    /// The CPU's name.
    pub cpu: String,
    /// Cores this process may use.
    pub cores: usize,
    /// The data caches, L1 first.
    pub caches: Vec<CacheLevel>,
    /// Every bandwidth measurement.
    pub bandwidth: Vec<Bandwidth>,
    /// The arithmetic ceiling, on one thread and on all cores.
    pub flops: Vec<FlopRate>,
    /// The OpenCL device's copy bandwidth, if a device was there.
    pub device: Option<DeviceBandwidth>,
    /// Why there is no device figure, if there is none.
    pub device_note: Option<String>,
}

/// A stage's predicted ceiling on one problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// The lower of the two ceilings, in million cell updates per second.
    pub mcells_per_s: f64,
    /// Bandwidth / bytes per update.
    pub memory_mcells_per_s: f64,
    /// Flop rate / flops per update.
    pub arithmetic_mcells_per_s: f64,
    /// L1 load rate / loads per update.
    pub loads_mcells_per_s: f64,
    /// One core, its load time and its transfer time added.
    pub one_core_mcells_per_s: f64,
    /// What sets the ceiling: "L2 bandwidth", "memory bandwidth", "arithmetic", ...
    pub bound: String,
    /// The level of the memory hierarchy the working set lives in.
    pub level: String,
    /// The model's traffic behind it.
    pub traffic: Traffic,
}

impl Ceilings {
    /// Median bandwidth in GB/s of `pattern` over `working_set` bytes on
    /// `threads` threads: read off the measured curve (interpolated between
    /// working sets on a log scale, and between one thread and all cores).
    pub fn bandwidth_at(&self, pattern: Pattern, working_set: u64, threads: usize) -> f64 {
        let one = self.curve_at(pattern, working_set, 1);
        match self.share_of_cores(threads) {
            0.0 => one,
            share => one + share * (self.curve_at(pattern, working_set, self.cores) - one),
        }
    }

    /// How far `threads` lies from one thread (0) to all cores (1): the weight
    /// of the all-cores measurement, between which and one thread's the
    /// figures are read linearly.
    fn share_of_cores(&self, threads: usize) -> f64 {
        if threads <= 1 || self.cores <= 1 {
            0.0
        } else {
            (threads.min(self.cores) - 1) as f64 / (self.cores - 1) as f64
        }
    }

    fn curve_at(&self, pattern: Pattern, working_set: u64, threads: usize) -> f64 {
        let points: Vec<(f64, f64)> = self
            .bandwidth
            .iter()
            .filter(|b| b.pattern == pattern && b.threads == threads)
            .map(|b| ((b.working_set as f64).log2(), b.gb_per_s))
            .collect();
        interpolate(&points, (working_set.max(1) as f64).log2())
    }

    /// Billions of flops per second on `threads` threads (between one and all cores, linearly).
    pub fn gflops(&self, threads: usize) -> f64 {
        let rate = |t: usize| {
            self.flops
                .iter()
                .find(|f| f.threads == t)
                .map_or(f64::NAN, |f| f.gflops)
        };
        match self.share_of_cores(threads) {
            0.0 => rate(1),
            share => rate(1) + share * (rate(self.cores) - rate(1)),
        }
    }

    /// The level a working set lives in when `threads` threads share it: each
    /// thread's share must fit a cache of its own core, or the whole a shared cache.
    pub fn level_of(&self, working_set: u64, threads: usize) -> String {
        let share = working_set / threads.max(1) as u64;
        self.caches
            .iter()
            .find(|cache| {
                if cache.shared_by == 1 {
                    share <= cache.bytes
                } else {
                    working_set <= cache.bytes
                }
            })
            .map_or_else(|| "memory".to_string(), CacheLevel::name)
    }

    /// The predicted ceiling for a stage's traffic on `threads` threads.
    ///
    /// One core first issues its loads, then waits for its bytes: on a
    /// single core the two times add up (the ECM model of Treibig and Hager
    /// counts the same way; the pure roofline would take the larger of the two).
    /// Threads multiply one core's speed until the level's bandwidth, shared
    /// by all of them, is used up; arithmetic caps everything.
    pub fn ceiling(&self, traffic: &Traffic, threads: usize) -> Ceiling {
        let threads = threads.max(1);
        if traffic.on_device {
            // Only the bandwidth is measured on the device: it binds first for a stencil.
            let device = self.device.as_ref().map_or(f64::NAN, |d| d.gb_per_s);
            let memory = device * 1e3 / traffic.bytes_per_update;
            return Ceiling {
                mcells_per_s: memory,
                memory_mcells_per_s: memory,
                arithmetic_mcells_per_s: f64::INFINITY,
                loads_mcells_per_s: f64::INFINITY,
                one_core_mcells_per_s: memory,
                bound: "device memory bandwidth".into(),
                level: "device memory".into(),
                traffic: traffic.clone(),
            };
        }
        let level = self.level_of(traffic.working_set, threads);
        // Each in million cell updates per second, were it the only limit.
        let transfers = |t: usize| {
            self.bandwidth_at(traffic.pattern, traffic.working_set, t) * 1e3
                / traffic.bytes_per_update
        };
        let l1 = self.caches.first().map_or(16 << 10, |c| c.bytes / 2);
        let loads = |t: usize| {
            self.bandwidth_at(Pattern::Read, l1 * t as u64, t) * 1e3
                / 8.0
                / traffic.loads_per_update
        };
        let arithmetic = self.gflops(threads) * 1e3 / traffic.flops_per_update;
        let one_core = 1.0 / (1.0 / loads(1) + 1.0 / transfers(1));
        let one_core_bound = if loads(1) < transfers(1) {
            "L1 loads".to_string()
        } else {
            format!("{level} bandwidth")
        };
        let mut candidates = [
            (threads as f64 * one_core, one_core_bound),
            (transfers(threads), format!("{level} bandwidth")),
            (arithmetic, "arithmetic".to_string()),
        ];
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let [(mcells_per_s, bound), ..] = candidates;
        Ceiling {
            mcells_per_s,
            memory_mcells_per_s: transfers(threads),
            arithmetic_mcells_per_s: arithmetic,
            loads_mcells_per_s: loads(threads),
            one_core_mcells_per_s: one_core,
            bound,
            level,
            traffic: traffic.clone(),
        }
    }

    /// The ceiling of `stage` (`None`: a step of your own) on `problem`, run as
    /// `options` say (what is kept, the device's number format), on `threads` threads.
    pub fn for_stage(
        &self,
        stage: Option<Stage>,
        problem: &Problem,
        options: &RunOptions,
        threads: usize,
    ) -> Ceiling {
        self.ceiling(&traffic(stage, problem, options, &self.caches), threads)
    }
}

/// Straight-line interpolation through `points` (sorted or not) at `x`,
/// the end values beyond either end.
fn interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    let mut points = points.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    match points.as_slice() {
        [] => f64::NAN,
        [first, ..] if x <= first.0 => first.1,
        [.., last] if x >= last.0 => last.1,
        _ => points
            .windows(2)
            .find(|pair| x <= pair[1].0)
            .map_or(f64::NAN, |pair| {
                let (a, b) = (pair[0], pair[1]);
                a.1 + (x - a.0) / (b.0 - a.0) * (b.1 - a.1)
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_is_straight_between_points_and_flat_beyond() {
        let points = [(1.0, 10.0), (3.0, 30.0), (2.0, 20.0)];
        assert_eq!(interpolate(&points, 2.5), 25.0);
        assert_eq!(interpolate(&points, 0.0), 10.0);
        assert_eq!(interpolate(&points, 9.0), 30.0);
        assert!(interpolate(&[], 1.0).is_nan());
    }
}
