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
    Unstable {
        /// The gamma asked for.
        gamma: f64,
        /// The largest dt that keeps gamma at 1/4.
        max_stable_dt: f64,
    },

    /// A parameter that must be a finite, non-negative (or positive) number is not.
    #[error("invalid {name} = {value}: {requirement}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the value must be.
        requirement: &'static str,
    },

    /// The grid is too small to have an interior.
    #[error(
        "grid too small: nx = {nx}, but the plate needs nx >= 3 nodes per side (two boundaries and at least one interior node)"
    )]
    GridTooSmall {
        /// Nodes per side asked for.
        nx: usize,
    },

    /// No time level at all was asked for.
    #[error(
        "no time steps: nt = {nt}, but nt counts the time levels including the initial one and must be >= 1"
    )]
    NoTimeSteps {
        /// Time levels asked for.
        nt: usize,
    },

    /// Snapshots every 0 steps mean nothing.
    #[error("snapshot interval must be >= 1 step, got {every}")]
    ZeroSnapshotInterval {
        /// The interval asked for.
        every: usize,
    },

    /// The full history would not fit in memory.
    #[error(
        "the full history needs {needed} (nt x nx x nx x 8 bytes = {nt} x {nx} x {nx} x 8) but only \
         {available} is available; keep only the final field (history: final) or take snapshots \
         every k steps instead"
    )]
    HistoryTooLarge {
        /// Time levels asked for.
        nt: usize,
        /// Nodes per side asked for.
        nx: usize,
        /// Bytes the history would take.
        needed: Bytes,
        /// Bytes this process can still take.
        available: Bytes,
    },

    /// A run, a picture or a buffer that would not fit in memory.
    #[error("{what} needs {needed} but only {available} is available; {advice}")]
    OutOfMemory {
        /// What would have been allocated.
        what: String,
        /// Bytes it would take.
        needed: Bytes,
        /// Bytes this process can still take (or the most any array can hold).
        available: Bytes,
        /// What to ask for instead.
        advice: String,
    },

    /// Temperatures so large in magnitude that the update could overflow.
    #[error(
        "{name} = {value:e} is too large: the update adds four neighbours, which overflows f64 \
         for magnitudes above {limit:.1e}; use temperatures in a physical range (kelvin or \
         degrees: below 1e6 keeps every digit meaningful)"
    )]
    TemperatureTooLarge {
        /// Which temperature.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The largest magnitude accepted.
        limit: f64,
    },

    /// A run that produced infinities or NaNs; nothing of it is returned.
    #[error(
        "the result is not finite: {count} of the final field's values are infinite or NaN (the \
         first at row {row}, column {column}). {advice}"
    )]
    NotFinite {
        /// How many values are not finite.
        count: usize,
        /// Row of the first one.
        row: usize,
        /// Column of the first one.
        column: usize,
        /// The likely cause, and what to do.
        advice: &'static str,
    },

    /// A run stopped by its time budget ([`RunOptions::with_time_budget`](crate::RunOptions::with_time_budget)).
    #[error(
        "stopped after the time budget of {budget_s:.1} s, at time level {level} of {nt}; the \
         whole run would take about {estimate_s:.0} s. Give it more time \
         (RunOptions::with_time_budget, or --time-budget of `heat`) or a smaller problem (fewer levels nt, or fewer nodes nx)"
    )]
    OutOfTime {
        /// The budget, in seconds.
        budget_s: f64,
        /// The last level computed.
        level: usize,
        /// Levels asked for.
        nt: usize,
        /// Seconds the whole run would have taken, at the pace so far.
        estimate_s: f64,
    },

    /// A step that panicked on one band of rows; the other bands were stopped too.
    #[error(
        "the step panicked on rows {rows} at time level {level}: {message}. The run stopped on \
         every thread and nothing else is lost: fix the step (an index past the edge of its \
         band's field is the usual cause) and run the cell again"
    )]
    StepPanicked {
        /// What the panic said.
        message: String,
        /// The band of plate rows whose thread panicked, as `start..end`.
        rows: String,
        /// The time level it was computing.
        level: usize,
    },

    /// A thread count of zero, or a pool that could not be built.
    #[error("cannot use {threads} threads: {reason}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// Why they cannot be had.
        reason: String,
    },

    /// No OpenCL platform or device on this machine.
    #[error(
        "no OpenCL device: {detail}. Install an OpenCL driver: on Debian or Ubuntu \
         `sudo apt install pocl-opencl-icd ocl-icd-opencl-dev clinfo` for the CPU (PoCL), or your \
         GPU vendor's driver; `clinfo -l` should then list a device. The other stages work without it"
    )]
    NoOpenClDevice {
        /// What the OpenCL loader said.
        detail: String,
    },

    /// Double precision asked for on a device without it.
    #[error(
        "OpenCL device '{device}' has no double precision (cl_khr_fp64): choose another device \
         (see `heat devices`) or single precision (Precision::F32), which keeps about 7 significant digits"
    )]
    NoDoublePrecision {
        /// The device's name.
        device: String,
    },

    /// A device choice that matches no device.
    #[error("no OpenCL device matches '{choice}'; give an index or part of a name: {known}")]
    UnknownDevice {
        /// The index or name asked for.
        choice: String,
        /// The devices there are.
        known: String,
    },

    /// A work-group size the device cannot run.
    #[error(
        "work-group size {columns} x {rows} is not possible: both must be at least 1 and their product at most {max} on this device"
    )]
    WorkGroup {
        /// Work items per group along a row.
        columns: usize,
        /// Work items per group down a column.
        rows: usize,
        /// The device's largest work group.
        max: usize,
    },

    /// The OpenCL driver refused something.
    #[error("OpenCL failed while {doing}: {message}")]
    OpenCl {
        /// What heatlib was doing.
        doing: &'static str,
        /// What the driver said.
        message: String,
    },

    /// Something about this machine the operating system does not say.
    #[error("cannot tell {what} of this machine: {why}")]
    MachineUnknown {
        /// What was asked for.
        what: String,
        /// Why it cannot be known, and what to do.
        why: String,
    },

    /// A picture that cannot be drawn from what it was given.
    #[error("cannot draw the picture: {message}")]
    Picture {
        /// What is wrong with it.
        message: String,
    },

    /// A file that cannot be written.
    #[error("cannot write {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What the operating system said.
        message: String,
    },

    /// A file that cannot be read, or that holds something heatlib refuses.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What is wrong with it, and what to do.
        message: String,
    },

    /// The Rust compiler could not be run, or refused the source.
    #[error("cannot compile: {message}")]
    Compiler {
        /// What went wrong, in the compiler's words where it had some.
        message: String,
    },

    /// Machine code that cannot be shown here.
    #[error("cannot show the machine code: {message}")]
    MachineCode {
        /// Why not.
        message: String,
    },

    /// The Python side could not be measured: no Python with heatpy, or heatpy failed.
    #[error("cannot measure the Python versions: {message}")]
    Python {
        /// What went wrong and what to do.
        message: String,
    },

    /// A timing asked for no timed runs.
    #[error("timing needs at least 1 timed run after the warm-up; asked for 0 repeats")]
    NoRepeats,

    /// More timed runs than any measurement needs: a mistyped count.
    #[error(
        "{repeat} runs is more than the {max} any median needs; ask for at most {max} timed runs and warm-ups (5 to 20 timed runs is usual)"
    )]
    TooManyRepeats {
        /// The runs asked for.
        repeat: usize,
        /// The most that is accepted.
        max: usize,
    },

    /// Measuring the ceilings reached its deadline before it was done.
    #[error(
        "out of time while measuring this machine's ceilings ({done} of {probes} measurements \
         done); `heat roofline --measure` measures and keeps them once, after which they are read at once"
    )]
    CeilingsOutOfTime {
        /// Measurements finished before the deadline.
        done: usize,
        /// Measurements in all.
        probes: usize,
    },

    /// A comparison that reached its deadline before a row was done.
    #[error(
        "out of time for the whole comparison while timing {name} ({done} of its {repeat} timed \
         runs done, the row is left out); ask for fewer timed runs, fewer stages or sizes, or allow more time"
    )]
    ComparisonOutOfTime {
        /// The row being timed.
        name: String,
        /// Timed runs finished before the deadline.
        done: usize,
        /// Timed runs asked for.
        repeat: usize,
    },

    /// A baseline that names no row of a comparison.
    #[error("no row called '{name}' to measure speed-ups against; the rows are: {rows}")]
    UnknownBaseline {
        /// The name asked for.
        name: String,
        /// The rows there are.
        rows: String,
    },

    /// A stage name that does not exist.
    #[error("unknown stage '{name}'; the stages are: {known}")]
    UnknownStage {
        /// The name asked for.
        name: String,
        /// The stages there are.
        known: String,
    },
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

/// What a panic said: its message when it had one (`panic!("...")`, `expect`, an index out of bounds).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic with no message)".to_string())
}

/// Shorthand used across heatlib.
pub type Result<T, E = HeatError> = std::result::Result<T, E>;
