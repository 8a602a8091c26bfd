//! How to run a stage: which time levels to keep, on how many threads, on which OpenCL device.

use std::time::Duration;

use crate::error::{HeatError, Result};

/// Which time levels a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// Every time level, shape `(nt, nx, nx)`, as the webinar's array: index any step.
    /// Memory grows with `nt`: the large problem needs 1.28 GB.
    FullHistory,
    /// Two buffers that take turns; only the final field comes back. Memory: two fields.
    #[default]
    FinalField,
    /// Two buffers, plus a copy of the field every `every` steps (and the last one), for animations.
    Snapshots {
        /// Steps between two snapshots; at least 1.
        every: usize,
    },
}

impl Storage {
    /// A short name for tables and JSON: `full`, `final` or `snapshots`.
    pub fn name(self) -> &'static str {
        match self {
            Storage::FullHistory => "full",
            Storage::FinalField => "final",
            Storage::Snapshots { .. } => "snapshots",
        }
    }
}

/// How to run a stage: what to keep, on how many threads, on which OpenCL device.
///
/// ```
/// use heatlib::{RunOptions, Storage};
/// let options = RunOptions::full_history().with_threads(2);
/// assert_eq!(options.storage, Storage::FullHistory);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOptions {
    /// Which time levels come back.
    pub storage: Storage,
    /// Threads for the `parallel` stage (and for a step of your own that uses rayon);
    /// `None`: the `RAYON_NUM_THREADS` environment variable, else one per core
    /// (see [`RunOptions::thread_count`]).
    pub threads: Option<usize>,
    /// Device, precision and work-group size for the `opencl` stage.
    pub opencl: OpenClSettings,
    /// How long a run may take before it stops with [`HeatError::OutOfTime`]; `None`: no limit.
    pub time_budget: Option<Duration>,
}

impl RunOptions {
    /// Keep only the final field (the default).
    pub fn final_field() -> RunOptions {
        RunOptions::default()
    }

    /// Keep every time level.
    pub fn full_history() -> RunOptions {
        RunOptions {
            storage: Storage::FullHistory,
            ..RunOptions::default()
        }
    }

    /// Keep the final field and a snapshot every `every` steps.
    pub fn snapshots_every(every: usize) -> RunOptions {
        RunOptions {
            storage: Storage::Snapshots { every },
            ..RunOptions::default()
        }
    }

    /// Run on a pool of `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> RunOptions {
        self.threads = Some(threads);
        self
    }

    /// Stop a run that is still going after `budget`, with an error that says how far it
    /// got and how long the whole run would take.
    ///
    /// In a notebook, interrupting a cell ends the kernel's worker and every variable with
    /// it; a budget ends only the run:
    ///
    /// ```
    /// use std::time::Duration;
    /// use heatlib::{HeatError, Problem, RunOptions, Stage};
    /// let options = RunOptions::final_field().with_time_budget(Duration::from_millis(50));
    /// let result = Stage::Interpreted.solve(&Problem::large(), &options);
    /// assert!(matches!(result, Err(HeatError::OutOfTime { .. })));
    /// ```
    pub fn with_time_budget(mut self, budget: Duration) -> RunOptions {
        self.time_budget = Some(budget);
        self
    }

    /// Refuses options that mean nothing or cannot run: snapshots every 0 steps,
    /// a thread count of 0 or past [`THREADS_PER_CORE`] per core (asked for here or
    /// through `RAYON_NUM_THREADS`).
    pub fn validate(&self) -> Result<()> {
        if let Storage::Snapshots { every: 0 } = self.storage {
            return Err(HeatError::ZeroSnapshotInterval { every: 0 });
        }
        self.thread_count().map(|_| ())
    }

    /// The threads a run uses: [`RunOptions::threads`] if set, else the
    /// `RAYON_NUM_THREADS` environment variable (rayon's own convention: unset,
    /// 0 or not a number mean one per core), else one per core; refused when 0
    /// or more than [`THREADS_PER_CORE`] per core.
    pub fn thread_count(&self) -> Result<usize> {
        let most = most_threads();
        let (threads, asked_by) = match self.threads {
            Some(threads) => (threads, ""),
            None => match std::env::var(THREADS_VARIABLE)
                .ok()
                .and_then(|v| v.trim().parse().ok())
            {
                Some(threads) if threads > 0 => (threads, "RAYON_NUM_THREADS asks for them, but "),
                _ => (cores(), ""),
            },
        };
        if threads == 0 {
            return Err(HeatError::Threads {
                threads: 0,
                reason: "the thread count must be at least 1".into(),
            });
        }
        if threads > most {
            return Err(HeatError::Threads {
                threads,
                reason: format!(
                    "{asked_by}at most {most} here ({THREADS_PER_CORE} per core); \
                     more threads than cores only take turns, and each costs memory and start-up time"
                ),
            });
        }
        Ok(threads)
    }
}

/// The environment variable rayon reads for its default thread count.
const THREADS_VARIABLE: &str = "RAYON_NUM_THREADS";

/// Threads per core a run may ask for: enough to show what oversubscription
/// costs, few enough that the pool starts at once (60,000 threads took minutes).
pub const THREADS_PER_CORE: usize = 16;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn most_threads() -> usize {
    cores() * THREADS_PER_CORE
}

/// Number format on an OpenCL device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 64-bit floats, as every CPU stage: results agree with the reference to 1e-12.
    /// Needs a device with `cl_khr_fp64`.
    #[default]
    F64,
    /// 32-bit floats: about 7 significant digits, so results differ from the
    /// reference by around 1e-5 of the temperatures; faster on many GPUs.
    F32,
}

impl Precision {
    /// The number format's name, as tables and `heat bench --json` write it: `f64` or `f32`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

/// Settings of the `opencl` stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenClSettings {
    /// A device index (as `heat devices` lists them) or part of its name; `None`
    /// reads `HEAT_OPENCL_DEVICE`, else takes the first GPU, else the first CPU device.
    pub device: Option<String>,
    /// Number format on the device.
    pub precision: Precision,
    /// Work-group size (columns, rows); `None` picks one for the device.
    pub work_group: Option<[usize; 2]>,
}
