//! The stages: one solver, rewritten once per idea.
//!
//! Every CPU stage is a module with one function,
//! `advance(current, next, gamma)`, that computes the interior of the next
//! time level; the shared time loop in [`crate::solver`] does the rest.
//! Diff two stage files and the difference is the idea.

use std::fmt;
use std::str::FromStr;

use crate::error::{HeatError, Result};
use crate::problem::Problem;
use crate::solver::{self, Keep, RunOptions, Solution};

mod convolve;
pub mod interpreted;
#[cfg(feature = "opencl")]
pub mod opencl;
mod parallel;
mod typed;
pub(crate) mod typed_checked;
mod vectorized;

pub use convolve::convolve_same;

/// Why `typed` and `parallel` may assume a plain row-major field.
const CONTIGUOUS: &str = "the solver's fields are contiguous row-major arrays";

/// One implementation of the solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Interpreted,
    TypedChecked,
    Typed,
    Vectorized,
    Convolve,
    Parallel,
    /// Built with the `opencl` cargo feature.
    #[cfg(feature = "opencl")]
    OpenCl,
}

impl Stage {
    /// Every stage, slowest idea first.
    pub const ALL: &[Stage] = &[
        Stage::Interpreted,
        Stage::TypedChecked,
        Stage::Typed,
        Stage::Vectorized,
        Stage::Convolve,
        Stage::Parallel,
        #[cfg(feature = "opencl")]
        Stage::OpenCl,
    ];

    /// The name used on the command line and in tables: the module's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Interpreted => "interpreted",
            Stage::TypedChecked => "typed_checked",
            Stage::Typed => "typed",
            Stage::Vectorized => "vectorized",
            Stage::Convolve => "convolve",
            Stage::Parallel => "parallel",
            #[cfg(feature = "opencl")]
            Stage::OpenCl => "opencl",
        }
    }

    /// What the webinar used for the same idea in Python.
    pub fn python_analog(self) -> &'static str {
        match self {
            Stage::Interpreted => "pure Python loops",
            Stage::TypedChecked => "Cython with typed memoryviews, checks on",
            Stage::Typed => "Cython boundscheck(False) / Numba @njit",
            Stage::Vectorized => "NumPy whole-array slicing",
            Stage::Convolve => "scipy.signal.convolve",
            Stage::Parallel => "Numba parallel=True with prange",
            #[cfg(feature = "opencl")]
            Stage::OpenCl => "JAX on a GPU",
        }
    }

    /// The one idea the stage teaches.
    pub fn idea(self) -> &'static str {
        match self {
            Stage::Interpreted => "an interpreter pays for every operation at run time",
            Stage::TypedChecked => "static types remove the interpreter; bounds checks remain",
            Stage::Typed => "whole rows without checks let the compiler use SIMD",
            Stage::Vectorized => "whole-array operations on shifted views",
            Stage::Convolve => "a general compiled routine, called once per step",
            Stage::Parallel => "rows of one step shared among threads",
            #[cfg(feature = "opencl")]
            Stage::OpenCl => "a kernel compiled at run time, data kept on the device",
        }
    }

    /// Runs this stage on `problem`, keeping what `options` asks for.
    ///
    /// ```
    /// use heatlib::{Problem, RunOptions, Stage};
    /// let solution = Stage::Typed.solve(&Problem::small(), &RunOptions::final_field())?;
    /// assert_eq!(solution.final_field.dim(), (50, 50));
    /// # Ok::<(), heatlib::HeatError>(())
    /// ```
    pub fn solve(self, problem: &Problem, options: &RunOptions) -> Result<Solution> {
        let keep = solver::prepare(problem, options)?;
        solver::in_thread_pool(options.threads, || self.run(problem, options, keep))?
    }

    /// Runs on storage already prepared, in the current thread pool: the part worth timing.
    #[cfg_attr(not(feature = "opencl"), allow(unused_variables))]
    pub(crate) fn run(
        self,
        problem: &Problem,
        options: &RunOptions,
        keep: Keep,
    ) -> Result<Solution> {
        let advance: solver::Advance = match self {
            Stage::Interpreted => interpreted::advance,
            Stage::TypedChecked => typed_checked::advance,
            Stage::Typed => typed::advance,
            Stage::Vectorized => vectorized::advance,
            Stage::Convolve => convolve::advance,
            Stage::Parallel => return Ok(parallel::run(problem, keep)),
            #[cfg(feature = "opencl")]
            Stage::OpenCl => return opencl::run_shared(problem, &options.opencl, keep),
        };
        Ok(solver::run(problem, keep, advance))
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stage {
    type Err = HeatError;

    fn from_str(name: &str) -> Result<Stage> {
        Stage::ALL
            .iter()
            .copied()
            .find(|stage| stage.name() == name.trim())
            .ok_or_else(|| HeatError::UnknownStage {
                name: name.to_string(),
                known: Stage::ALL
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
