//! Every way a request can be refused, each with a message that says what to do.
//!
//! Nothing in heatlib panics on bad input: a panic inside the notebook kernel
//! would lose the learner's variables, so every check ends here instead.

use thiserror::Error;

/// What went wrong, worded for the person who asked.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum HeatError {
    /// gamma above 1/4: the explicit scheme amplifies errors instead of damping them.
    #[error(
        "unstable time step: gamma = alpha*dt/dx^2 = {gamma} is above 1/4, so the explicit scheme \
         blows up; use dt <= {max_stable_dt} (dx^2 / (4 alpha)) or a smaller alpha"
    )]
    Unstable { gamma: f64, max_stable_dt: f64 },

    /// A parameter that must be a finite, non-negative (or positive) number is not.
    #[error("invalid {name} = {value}: {requirement}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        requirement: &'static str,
    },

    /// The grid is too small to have an interior.
    #[error(
        "grid too small: nx = {nx}, but the plate needs nx >= 3 nodes per side (two boundaries and at least one interior node)"
    )]
    GridTooSmall { nx: usize },

    /// No time level at all was asked for.
    #[error(
        "no time steps: nt = {nt}, but nt counts the time levels including the initial one and must be >= 1"
    )]
    NoTimeSteps { nt: usize },

    /// Snapshots every 0 steps mean nothing.
    #[error("snapshot interval must be >= 1 step, got {every}")]
    ZeroSnapshotInterval { every: usize },

    /// The full history would not fit in memory.
    #[error(
        "the full history needs {needed} (nt x nx x nx x 8 bytes = {nt} x {nx} x {nx} x 8) but only \
         {available} is available; keep only the final field (history: final) or take snapshots \
         every k steps instead"
    )]
    HistoryTooLarge {
        nt: usize,
        nx: usize,
        needed: Bytes,
        available: Bytes,
    },

    /// A thread count of zero, or a pool that could not be built.
    #[error("cannot use {threads} threads: {reason}")]
    Threads { threads: usize, reason: String },

    /// No OpenCL platform or device on this machine.
    #[error(
        "no OpenCL device: {detail}. Install an OpenCL driver: on Debian or Ubuntu \
         `sudo apt install pocl-opencl-icd ocl-icd-opencl-dev clinfo` for the CPU (PoCL), or your \
         GPU vendor's driver; `clinfo -l` should then list a device. The other stages work without it"
    )]
    NoOpenClDevice { detail: String },

    /// Double precision asked for on a device without it.
    #[error(
        "OpenCL device '{device}' has no double precision (cl_khr_fp64): choose another device \
         (see `heat devices`) or single precision (Precision::F32), which keeps about 7 significant digits"
    )]
    NoDoublePrecision { device: String },

    /// A device choice that matches no device.
    #[error("no OpenCL device matches '{choice}'; give an index or part of a name: {known}")]
    UnknownDevice { choice: String, known: String },

    /// A work-group size the device cannot run.
    #[error(
        "work-group size {columns} x {rows} is not possible: both must be at least 1 and their product at most {max} on this device"
    )]
    WorkGroup {
        columns: usize,
        rows: usize,
        max: usize,
    },

    /// The OpenCL driver refused something.
    #[error("OpenCL failed while {doing}: {message}")]
    OpenCl {
        doing: &'static str,
        message: String,
    },

    /// A picture that cannot be drawn from what it was given.
    #[error("cannot draw the picture: {message}")]
    Picture { message: String },

    /// A file that cannot be written.
    #[error("cannot write {path}: {message}")]
    File { path: String, message: String },

    /// A stage name that does not exist.
    #[error("unknown stage '{name}'; the stages are: {known}")]
    UnknownStage { name: String, known: String },
}

/// A byte count that prints itself in the unit a person would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u128);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 7] = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1000.0 && unit + 1 < UNITS.len() {
            value /= 1000.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} bytes", self.0)
        } else {
            write!(f, "{value:.2} {}", UNITS[unit])
        }
    }
}

/// Shorthand used across heatlib.
pub type Result<T, E = HeatError> = std::result::Result<T, E>;
