//! # heatlib: one heat-flow solver, rewritten once per idea
//!
//! The webinar "Accelerating Python with Cython, Numba and JAX" speeds up one
//! problem, explicit finite differences for 2-D heat flow in a square plate,
//! step by step. heatlib does the same in Rust, one [`Stage`] per idea:
//!
//! | stage | Python counterpart | idea |
//! |---|---|---|
//! | `interpreted` | pure Python loops | an interpreter pays for every operation |
//! | `typed_checked` | Cython, checks on | static types remove the interpreter |
//! | `typed` | Cython `boundscheck(False)`, Numba | no checks in the inner loop: SIMD |
//! | `vectorized` | NumPy slicing | whole-array operations |
//! | `convolve` | `scipy.signal.convolve` | a general compiled routine per step |
//! | `parallel` | Numba `prange` | rows shared among threads |
//! | `opencl` (feature `opencl`) | JAX on a GPU | a kernel compiled at run time, data on the device |
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
//! Every entry point validates its input and returns a [`HeatError`] that says
//! what to change; nothing panics on bad input.

// ndarray's `s![1..-1]` means "all but the first and last", which clippy mistakes for an empty range.
#![allow(clippy::reversed_empty_ranges)]

#[cfg(feature = "display")]
pub mod display;
mod error;
pub mod exercise;
pub mod harmonic;
mod problem;
pub mod reference;
mod solver;
pub mod stages;
mod timing;

pub use error::{Bytes, HeatError, Result};
pub use problem::{Boundary, Problem, TimeStep};
pub use solver::{
    DeviceRun, OpenClSettings, Precision, RunOptions, Snapshot, Solution, Storage,
    available_memory, history_bytes,
};
pub use stages::Stage;
#[cfg(feature = "opencl")]
pub use stages::opencl;
pub use timing::{
    FirstAndLater, Measurement, TimeIt, Timing, first_and_later, max_abs_diff, measure, seconds,
    time_runs, timeit, try_timeit,
};
