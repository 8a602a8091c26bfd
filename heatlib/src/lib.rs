//! # heatlib: one heat-flow solver, rewritten once per idea
//!
//! The webinar "Accelerating Python with Cython, Numba and JAX" speeds up one
//! problem, explicit finite differences for 2-D heat flow in a square plate,
//! step by step. heatlib does the same in Rust, one [`Stage`] per idea:
//!
//! | stage | Python counterpart | idea |
//! |---|---|---|
//! | `interpreted` | pure Python loops | an interpreter pays for every operation at run time |
//! | `typed_checked` | Cython with typed memoryviews, checks on | static types remove the interpreter; bounds checks remain |
//! | `typed` | Cython boundscheck(False) / Numba @njit | whole rows without checks let the compiler use SIMD |
//! | `vectorized` | NumPy whole-array slicing | whole-array operations on shifted views |
//! | `convolve` | scipy.signal.convolve2d | a general compiled routine, called once per step |
//! | `parallel_rows` | Numba parallel=True with prange | the rows of each step handed out to a pool of threads |
//! | `parallel` | (none in the webinar: threads that keep their rows) | threads that stay, each with its band of rows in its own cache |
//! | `wavefront` | Numba @njit, several steps per pass | several time steps per pass, while the rows are in cache |
//! | `wavefront_parallel` | Numba prange over bands, several steps per pass | a wavefront per thread, each on its own band of rows |
//! | `opencl` | JAX on a GPU | a kernel compiled at run time, data kept on the device |
//!
//! (`opencl` with the cargo feature `opencl`. The table is `heat stages --json`.)
//!
//! ```
//! use heatlib::{Problem, RunOptions, Stage, reference, max_abs_diff};
//! let problem = Problem::small();
//! let solution = Stage::Vectorized.solve(&problem, &RunOptions::final_field())?;
//! let exact = reference::final_field(&problem)?;
//! assert!(max_abs_diff(solution.final_field.view(), exact.view()) < 1e-12);
//! # Ok::<(), heatlib::HeatError>(())
//! ```
//!
//! ## How it fits together
//!
//! Follow one [`Problem`] from `Stage::Typed.solve(&problem, &options)` to its [`Solution`]:
//!
//! - [`Problem`] is the plate: size, time steps, `gamma`, edge temperatures.
//!   It validates itself and makes the initial field.
//! - [`RunOptions`] says what to keep ([`Storage`]: the final field, the full
//!   history or snapshots), on how many threads, on which OpenCL device.
//! - Storage is allocated before the time loop, after checking that it fits
//!   in memory ([`available_memory`], [`history_bytes`]).
//! - A [`Step`] computes one time level from the previous one: the one
//!   contract every stage keeps, and the one a step of your own keeps too.
//! - The time loop, [`solve_with`], calls the step on each pair of levels
//!   (two fields taking turns, or two levels of the full history, written in
//!   place) and keeps what was asked for. The `parallel` stage runs one such loop per band
//!   of rows, and `opencl` keeps its fields on a device.
//! - The [`Solution`] holds the final field, and the history or snapshots.
//!
//! Around that:
//!
//! - [`reference`](mod@reference) is the update rule written as literally as possible, with
//!   its own loop; every stage is checked against it ([`max_abs_diff`]).
//! - [`benchmark`] measures stages and your own steps one way (warm-up, then
//!   repeats, median and spread) and compares them in a [`Comparison`] with
//!   one stated baseline; `heat bench`, the notebooks and the docs site all print it.
//!   Each measurement is also a [`BenchRow`], the one definition of `heat bench
//!   --json`'s keys (its schema: `heat bench --schema`).
//! - Results are data: a comparison, the Python side beside it, a race, a check
//!   and the machine's ceilings each make a [`Table`], rendered as text, HTML and
//!   JSON; every table, listing and picture implements [`Show`], the one trait
//!   that gives evcxr a value's MIME bundle (the kernel brings it into scope).
//! - [`timeit`] and [`first_and_later`] time any work, as IPython's `%timeit` does.
//! - [`exercise`] checks a learner's step and says where it first goes wrong.
//! - [`roofline`] measures this machine's ceilings (bandwidth per cache
//!   level, arithmetic) and places every stage on them through a model of
//!   its traffic: how fast it could be, and what holds it back.
//! - [`harmonic`] is the vectorization example, `sin(2 pi f t)`.
//! - [`python`] runs the webinar's Python versions (the repository's
//!   `python/heatpy`) on a comparison's problem and sets them beside the Rust
//!   stages of the same ideas.
//! - `machine_code` (feature `machine-code`, on by default) shows the machine
//!   code of a step, its bounds checks and SIMD instructions marked.
//! - [`write_npy`] saves a field or a history for NumPy, whole or not at all.
//! - `display` (feature `display`, on by default) draws heatmaps, charts and
//!   animations, shown inline in an evcxr notebook.
//!
//! Every entry point validates its input and returns a [`HeatError`] that says
//! what to change; nothing panics on bad input (a panic in the notebook kernel
//! would lose the learner's variables).

#![deny(missing_docs)]
#![deny(unreachable_pub)]
// ndarray's `s![1..-1]` means "all but the first and last", which clippy mistakes for an empty range.
#![allow(clippy::reversed_empty_ranges)]

pub mod benchmark;
#[cfg(feature = "display")]
pub mod display;
mod error;
pub mod exercise;
mod files;
pub mod harmonic;
mod interpreter;
#[cfg(feature = "machine-code")]
pub mod machine_code;
mod memory;
mod options;
mod problem;
pub mod python;
pub mod reference;
pub mod roofline;
mod show;
mod solution;
mod solver;
pub mod stages;
mod step;
mod storage;
mod table;
mod timing;

pub use benchmark::{BenchRow, Comparison, Measurement, compare};
pub use error::{Bytes, HeatError, Result};
pub use exercise::{Race, race};
pub use files::{read_text, write_npy, write_text};
pub use memory::{available_memory, fields_bytes, history_bytes};
pub use options::{OpenClSettings, Precision, RunOptions, Storage, THREADS_PER_CORE};
pub use problem::{Boundary, Problem, TimeStep};
pub use reference::max_abs_diff;
pub use show::{Representation, Show, TABLE_MIME_TYPE};
pub use solution::{DeviceRun, Snapshot, Solution};
pub use solver::solve_with;
#[cfg(feature = "opencl")]
pub use stages::opencl;
pub use stages::{SourceCode, Stage, solve_in_bands};
pub use step::{Step, StepFn};
pub use table::{Cell, Table, format_ratio};
pub use timing::{
    FirstAndLater, MAX_REPEAT, TimeIt, Timing, compile_seconds, first_and_later, format_seconds,
    time_runs, timeit, try_timeit,
};
