//! One row of `heat bench --json`: the one definition of its keys.
//!
//! Rust rows are written from a [`Comparison`], Python rows by heatpy
//! (`python -m heatpy bench --json`) and read back here; the docs site and the
//! tests read both. Every key is a field of [`BenchRow`], and the JSON schema
//! that heatpy's and the site's tests check their rows against is made from
//! this type ([`BenchRow::schema`], `heat bench --schema`,
//! `docs/bench-row.schema.json`), so the four readers and writers cannot
//! drift apart.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Comparison, Measurement};
use crate::roofline::Ceiling;
use crate::stages::Stage;

/// Which language a row was measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// A heatlib stage, or a step of your own.
    Rust,
    /// One of heatpy's Python versions.
    Python,
}

/// One stage or Python version timed on one problem: what ran, on what, how
/// fast, against which baseline and which ceiling. Times are in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BenchRow {
    /// The stage's name (`typed`), or the Python version's (`numba`).
    pub stage: String,
    /// Rust or Python.
    pub language: Language,
    /// The Python tool of the same idea ("Numba @njit"); for a Python row, the tool itself.
    pub python_analog: String,
    /// For a Python row, the Rust stage that teaches the same idea.
    #[serde(default)]
    pub rust_counterpart: Option<String>,
    /// The one idea the stage teaches.
    #[serde(default)]
    pub idea: Option<String>,
    /// The problem's label in `heat bench --size` (`small`, `large`, `200:500`).
    #[serde(default)]
    pub size: Option<String>,
    /// Nodes per side.
    pub nx: usize,
    /// Time levels.
    pub nt: usize,
    /// The diffusion number.
    pub gamma: f64,
    /// What was kept: `final`, `full` or `snapshots`.
    pub history: String,
    /// Threads that ran the time loop; none where the tool decides (JAX).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Timed runs, after one warm-up.
    pub repeat: usize,
    /// The median of the timed runs.
    pub median_s: f64,
    /// The fastest timed run.
    pub min_s: f64,
    /// The slowest timed run.
    pub max_s: f64,
    /// The mean of the timed runs.
    pub mean_s: f64,
    /// Their standard deviation (0 for one run).
    pub std_s: f64,
    /// Every timed run, in order.
    pub runs_s: Vec<f64>,
    /// The median set-up before a run (allocating and initialising what it keeps), outside the clock.
    pub setup_median_s: f64,
    /// `(nt - 1) (nx - 2)^2`.
    pub cell_updates: u64,
    /// Million cell updates per second, at the median.
    pub mcells_per_s: f64,
    /// The row the speed-up is over; none for Python rows.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Median of the baseline over this row's median.
    #[serde(default)]
    pub speed_up: Option<f64>,
    /// Largest absolute difference of the final field from heatlib's reference.
    #[serde(default)]
    pub max_abs_diff: Option<f64>,
    /// The untimed warm-up run, set-up included: for a JIT, the first call with its compilation.
    pub first_run_s: f64,
    /// For a Python row beside its Rust counterpart: Python's median over Rust's.
    #[serde(default)]
    pub rust_over_python: Option<f64>,
    /// The predicted ceiling, when the machine's ceilings were given.
    #[serde(default)]
    pub ceiling: Option<CeilingRow>,
    /// Where the run's work went on a device (OpenCL, or JAX's device).
    #[serde(default)]
    pub device: Option<DeviceRow>,
}

/// A row's predicted ceiling ([`Ceiling`]) and the fraction of it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CeilingRow {
    /// The ceiling, in million cell updates per second.
    pub mcells_per_s: f64,
    /// The row's rate over the ceiling.
    pub fraction_reached: f64,
    /// What sets it: `memory`, `loads` or `arithmetic`.
    pub bound: String,
    /// The level of the memory hierarchy the working set lives in.
    pub level: String,
    /// The memory ceiling alone.
    #[serde(default)]
    pub memory_mcells_per_s: Option<f64>,
    /// The arithmetic ceiling alone; none where none was measured (a device).
    #[serde(default)]
    pub arithmetic_mcells_per_s: Option<f64>,
    /// Bytes the model counts per cell update.
    pub bytes_per_update: f64,
    /// Floating-point operations per cell update.
    pub flops_per_update: f64,
    /// The bytes the run works on at once.
    pub working_set: u64,
    /// The bandwidth pattern the traffic is read against.
    pub pattern: String,
    /// The model's reasoning, in a sentence.
    pub why: String,
    /// For a Python row: the Rust stage whose ceiling it is placed on.
    #[serde(default)]
    pub of_rust_stage: Option<String>,
}

/// Where a device run's time went; for a Python row, only the device's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRow {
    /// The device's name.
    pub name: String,
    /// Cores of a CPU, multiprocessors of a GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_units: Option<u32>,
    /// `f64` or `f32`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// Work-group columns and rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_group: Option<[usize; 2]>,
    /// Compiling the kernel (0 when the program was reused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_s: Option<f64>,
    /// Copying the initial field to the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_s: Option<f64>,
    /// The time steps on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_s: Option<f64>,
    /// Copying kept levels back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_s: Option<f64>,
}

impl BenchRow {
    /// The JSON schema of a list of rows, as `heat bench --json` writes it.
    pub fn schema() -> String {
        let schema = schemars::schema_for!(Vec<BenchRow>);
        // A schema made from a Rust type always serializes.
        serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
    }
}

impl CeilingRow {
    /// `ceiling` with the fraction a rate of `achieved` M cell updates/s reaches.
    pub fn new(ceiling: &Ceiling, achieved: f64, of_rust_stage: Option<&str>) -> CeilingRow {
        CeilingRow {
            mcells_per_s: ceiling.mcells_per_s,
            fraction_reached: achieved / ceiling.mcells_per_s,
            bound: ceiling.bound.clone(),
            level: ceiling.level.clone(),
            memory_mcells_per_s: finite(ceiling.memory_mcells_per_s),
            arithmetic_mcells_per_s: finite(ceiling.arithmetic_mcells_per_s),
            bytes_per_update: ceiling.traffic.bytes_per_update,
            flops_per_update: ceiling.traffic.flops_per_update,
            working_set: ceiling.traffic.working_set,
            pattern: ceiling.traffic.pattern.name().to_string(),
            why: ceiling.traffic.why.clone(),
            of_rust_stage: of_rust_stage.map(str::to_string),
        }
    }
}

/// A number that JSON can hold: NaN and the infinities become `None`.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Comparison {
    /// One [`BenchRow`] per measurement, as `heat bench --json` writes them
    /// (its `size` left for the caller to name).
    pub fn bench_rows(&self) -> Vec<BenchRow> {
        self.rows.iter().map(|row| self.bench_row(row)).collect()
    }

    fn bench_row(&self, row: &Measurement) -> BenchRow {
        let (problem, timing) = (&self.problem, &row.timing);
        BenchRow {
            stage: row.name.clone(),
            language: Language::Rust,
            python_analog: row.python_analog().to_string(),
            rust_counterpart: None,
            idea: row.stage.map(|stage| Stage::idea(stage).to_string()),
            size: None,
            nx: problem.nx,
            nt: problem.nt,
            gamma: problem.gamma(),
            history: self.options.storage.name().to_string(),
            threads: Some(row.threads),
            repeat: self.repeat,
            median_s: timing.median(),
            min_s: timing.min(),
            max_s: timing.max(),
            mean_s: timing.mean(),
            std_s: timing.std_dev(),
            runs_s: timing.runs.clone(),
            setup_median_s: row.setup.median(),
            cell_updates: row.cell_updates,
            mcells_per_s: row.mcells_per_s(),
            baseline: self.baseline().map(|base| base.name.clone()),
            speed_up: finite(self.speed_up(row)),
            max_abs_diff: finite(row.max_abs_diff),
            first_run_s: row.first_run_s,
            rust_over_python: None,
            ceiling: self
                .ceiling(row)
                .map(|ceiling| CeilingRow::new(&ceiling, row.mcells_per_s(), None)),
            device: row.device.as_ref().map(|run| DeviceRow {
                name: run.device.clone(),
                compute_units: Some(run.compute_units),
                precision: Some(run.precision.name().to_string()),
                work_group: Some(run.work_group),
                build_s: Some(run.build_s),
                upload_s: Some(run.upload_s),
                compute_s: Some(run.compute_s),
                download_s: Some(run.download_s),
            }),
        }
    }
}
