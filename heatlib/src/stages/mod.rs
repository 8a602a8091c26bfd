//! The stages: one solver, rewritten once per idea.
//!
//! Every CPU stage is a module with one function,
//! `advance(current, next, gamma)`: a [`Step`](crate::Step), which computes
//! the interior of the next time level. The time loop in
//! [`solve_with`](crate::solve_with) does the rest. Diff two stage files and
//! the difference is the idea.
//!
//! Some stages add a little more: `parallel_rows` hands out the rows of each
//! step to a pool of threads; `parallel` runs the `typed` step on bands of
//! rows, one band per thread, for the whole run; `wavefront` carries several steps in one pass
//! over the rows with `typed`'s row update (and `wavefront_parallel` one such
//! pass per thread); `opencl` keeps its fields on a device.

use std::fmt;
use std::str::FromStr;

use crate::error::{HeatError, Result};
use crate::options::{RunOptions, Storage};
use crate::problem::Problem;
use crate::solution::Solution;
use crate::solver;
use crate::step::StepFn;
use crate::storage::RunBuffers;

mod convolve;
pub mod interpreted;
#[cfg(feature = "opencl")]
pub mod opencl;
pub(crate) mod parallel;
mod parallel_rows;
mod source;
mod typed;
pub(crate) mod typed_checked;
mod vectorized;
pub mod wavefront;

pub use convolve::convolve_same;
pub use parallel::solve_in_bands;
pub use source::SourceCode;

/// Why `typed` and `parallel` may assume a plain row-major field.
const CONTIGUOUS: &str = "the solver's fields are contiguous row-major arrays";

/// One implementation of the solver; [`Stage::idea`] says what each teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A small interpreter runs the update rule from its text (pure Python).
    Interpreted,
    /// The direct typed loop, `field[[i, j]]` checked on every access (Cython, checks on).
    TypedChecked,
    /// Typed loops over row slices: no checks inside, SIMD (Cython `boundscheck(False)`, Numba).
    Typed,
    /// Whole-array operations on shifted views (NumPy).
    Vectorized,
    /// A general 2-D convolution per step (`scipy.signal.convolve`).
    Convolve,
    /// The rows of each step handed out to a pool of threads (Numba `prange`).
    ParallelRows,
    /// The `typed` step on bands of rows that stay with one thread each for the whole run.
    Parallel,
    /// Several time steps per pass over the rows, while they are in cache (Numba, a wavefront).
    Wavefront,
    /// The wavefront on bands of rows, one per thread (Numba `prange` over bands).
    WavefrontParallel,
    /// An OpenCL kernel on a GPU or, through PoCL, the CPU (JAX on a GPU).
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
        Stage::ParallelRows,
        Stage::Parallel,
        Stage::Wavefront,
        Stage::WavefrontParallel,
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
            Stage::ParallelRows => "parallel_rows",
            Stage::Parallel => "parallel",
            Stage::Wavefront => "wavefront",
            Stage::WavefrontParallel => "wavefront_parallel",
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
            Stage::Convolve => "scipy.signal.convolve2d",
            Stage::ParallelRows => "Numba parallel=True with prange",
            Stage::Parallel => "(none in the webinar: threads that keep their rows)",
            Stage::Wavefront => "Numba @njit, several steps per pass",
            Stage::WavefrontParallel => "Numba prange over bands, several steps per pass",
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
            Stage::ParallelRows => "the rows of each step handed out to a pool of threads",
            Stage::Parallel => "threads that stay, each with its band of rows in its own cache",
            Stage::Wavefront => "several time steps per pass, while the rows are in cache",
            Stage::WavefrontParallel => "a wavefront per thread, each on its own band of rows",
            #[cfg(feature = "opencl")]
            Stage::OpenCl => "a kernel compiled at run time, data kept on the device",
        }
    }

    /// Whether the stage skips the centre term when its weight `1 - 4 gamma`
    /// is exactly 0 (the webinar's gamma = 1/4), as the webinar's own loops
    /// did: `typed`, and the stages that run `typed`'s row update (`parallel_rows`,
    /// `parallel`, the wavefronts), and the `opencl` kernel. heatpy's
    /// versions say the same of themselves, and each Python version is paired
    /// only with a stage that does the same arithmetic (a test checks it).
    pub fn skips_zero_centre(self) -> bool {
        match self {
            Stage::Typed
            | Stage::ParallelRows
            | Stage::Parallel
            | Stage::Wavefront
            | Stage::WavefrontParallel => true,
            #[cfg(feature = "opencl")]
            Stage::OpenCl => true,
            Stage::Interpreted | Stage::TypedChecked | Stage::Vectorized | Stage::Convolve => false,
        }
    }

    /// Every stage that can run on this machine: all of [`Stage::ALL`] but
    /// `opencl` when there is no OpenCL device (see [`Stage::unavailable`]).
    pub fn available() -> Vec<Stage> {
        let unavailable = Stage::unavailable();
        Stage::ALL
            .iter()
            .copied()
            .filter(|stage| !unavailable.iter().any(|(left_out, _)| left_out == stage))
            .collect()
    }

    /// The stages that cannot run on this machine, each with the reason and what to install.
    pub fn unavailable() -> Vec<(Stage, String)> {
        #[cfg(feature = "opencl")]
        if let Err(error) = opencl::devices() {
            return vec![(Stage::OpenCl, error.to_string())];
        }
        Vec::new()
    }

    /// The source file of this stage, as compiled into the library you are running.
    pub fn source(self) -> SourceCode {
        let (file, text) = match self {
            Stage::Interpreted => ("interpreted.rs", include_str!("interpreted.rs")),
            Stage::TypedChecked => ("typed_checked.rs", include_str!("typed_checked.rs")),
            Stage::Typed => ("typed.rs", include_str!("typed.rs")),
            Stage::Vectorized => ("vectorized.rs", include_str!("vectorized.rs")),
            Stage::Convolve => ("convolve.rs", include_str!("convolve.rs")),
            Stage::ParallelRows => ("parallel_rows.rs", include_str!("parallel_rows.rs")),
            Stage::Parallel => ("parallel.rs", include_str!("parallel.rs")),
            Stage::Wavefront | Stage::WavefrontParallel => {
                ("wavefront.rs", include_str!("wavefront.rs"))
            }
            #[cfg(feature = "opencl")]
            Stage::OpenCl => ("opencl.rs", include_str!("opencl.rs")),
        };
        SourceCode {
            path: format!("heatlib/src/stages/{file}"),
            text: text.to_string(),
        }
    }

    /// The stage's step as a plain function (`parallel` runs `typed`'s on each
    /// band, the wavefront stages `typed`'s row update in each pass); `None` for
    /// `opencl`, whose step is a kernel on a device.
    ///
    /// # Panics
    ///
    /// The `typed` step (and so `parallel`'s) reads its fields as slices: it
    /// panics when handed views that are not contiguous in memory, such as
    /// `field.slice(s![.., ..;2])`. The library's time loops never do that;
    /// call it on whole arrays, or on views of whole rows.
    pub fn step_fn(self) -> Option<StepFn> {
        match self {
            Stage::Interpreted => Some(interpreted::advance),
            Stage::TypedChecked => Some(typed_checked::advance),
            Stage::Typed | Stage::Parallel | Stage::Wavefront | Stage::WavefrontParallel => {
                Some(typed::advance)
            }
            Stage::Vectorized => Some(vectorized::advance),
            Stage::Convolve => Some(convolve::advance),
            Stage::ParallelRows => Some(parallel_rows::advance),
            #[cfg(feature = "opencl")]
            Stage::OpenCl => None,
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
        let threaded = self.shares_work_among_threads();
        solver::prepare_then_march(
            problem,
            options,
            self.working_fields(),
            threaded,
            |buffers| self.march(problem, options, buffers),
        )
    }

    /// Whether the stage shares its work among the threads of a rayon pool.
    pub(crate) fn shares_work_among_threads(self) -> bool {
        matches!(
            self,
            Stage::ParallelRows | Stage::Parallel | Stage::WavefrontParallel
        )
    }

    /// How many arrays of the plate's size the stage holds at once beside the
    /// kept levels, so that a run too large for the machine is refused before it starts.
    pub(crate) fn working_fields(self) -> u128 {
        match self {
            Stage::Interpreted => interpreted::WORKING_FIELDS,
            // The convolution's result is a new array every step.
            Stage::Convolve => solver::TWO_FIELDS + 1,
            Stage::Parallel => parallel::WORKING_FIELDS,
            // The host's copy of the initial field, and a copy of each field read back.
            #[cfg(feature = "opencl")]
            Stage::OpenCl => solver::TWO_FIELDS + 1,
            Stage::TypedChecked
            | Stage::Typed
            | Stage::ParallelRows
            | Stage::Vectorized
            | Stage::Wavefront
            | Stage::WavefrontParallel => solver::TWO_FIELDS,
        }
    }

    /// Runs on storage already prepared, in the current thread pool: the part worth timing.
    pub(crate) fn march(
        self,
        problem: &Problem,
        options: &RunOptions,
        buffers: RunBuffers,
    ) -> Result<Solution> {
        match self {
            Stage::Interpreted => solver::march(&interpreted::advance, problem, buffers),
            Stage::TypedChecked => solver::march(&typed_checked::advance, problem, buffers),
            Stage::Typed => solver::march(&typed::advance, problem, buffers),
            Stage::Vectorized => solver::march(&vectorized::advance, problem, buffers),
            Stage::Convolve => solver::march(&convolve::advance, problem, buffers),
            // One time loop, whose every step the pool's threads share.
            Stage::ParallelRows => {
                solver::march(&parallel_rows::advance, problem, buffers).map(|solution| Solution {
                    threads: rayon::current_num_threads(),
                    ..solution
                })
            }
            Stage::Parallel if options.storage == Storage::FullHistory => {
                parallel::march_typed_into_history(problem, buffers)
            }
            Stage::Parallel => parallel::march_in_bands(&typed::advance, problem, buffers),
            Stage::Wavefront | Stage::WavefrontParallel => {
                let steps = wavefront::steps_per_pass(problem.nx);
                let threaded = self.shares_work_among_threads();
                wavefront::march(problem, options, buffers, steps, threaded)
            }
            #[cfg(feature = "opencl")]
            Stage::OpenCl => opencl::march_shared(problem, &options.opencl, buffers),
        }
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
