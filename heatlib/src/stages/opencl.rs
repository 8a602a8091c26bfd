//! Stage `opencl`: the stencil as an OpenCL kernel, compiled at run time, data kept on the device.
//!
//! Python counterpart: JAX on a GPU (`jax.jit` of the array update, XLA
//! compiling it for the accelerator).
//!
//! The idea: a GPU has thousands of lanes, so one work item per cell; the
//! kernel source ([`KERNEL_SOURCE`]) is compiled for the device the first time
//! it is needed (the JIT lesson: the first run pays for the build, later runs
//! do not), and the field stays in device memory for all time steps, two
//! buffers taking turns, because copying it over the bus every step would cost
//! more than the step. Only what the caller keeps comes back.
//!
//! The same code runs on a CPU through PoCL, an OpenCL implementation for
//! CPUs, so every machine can run it; a real GPU needs its vendor's driver.

use std::time::Instant;

use ndarray::Array2;
use ocl::{Buffer, Context, Kernel, OclPrm, Program, Queue};

use crate::error::{HeatError, Result};
use crate::memory::try_filled;
use crate::options::{OpenClSettings, Precision, RunOptions};
use crate::problem::Problem;
use crate::solution::{DeviceRun, Solution};
use crate::stages::Stage;
use crate::storage::RunBuffers;

mod device;
mod shared;

use device::choose;
pub(crate) use device::failed;
pub use device::{DEVICE_VARIABLE, DeviceInfo, DeviceKind, devices};
pub(crate) use shared::march_shared;

/// The OpenCL C source of one time step. `real` is `double` or `float`.
/// (The kernel is not called `step`: that is an OpenCL built-in function.)
pub const KERNEL_SOURCE: &str = include_str!("opencl/heat_update.cl");

/// A program built for one device: build once, run many problems.
///
/// ```no_run
/// use heatlib::opencl::OpenClSolver;
/// use heatlib::{OpenClSettings, Problem, RunOptions};
/// let mut solver = OpenClSolver::new(&OpenClSettings::default())?;
/// println!("built for {} in {:.3} s", solver.device().name, solver.build_seconds());
/// let (solution, run) = solver.solve(&Problem::large(), &RunOptions::final_field())?;
/// println!("{:.4} s on the device", run.compute_s);
/// # Ok::<(), heatlib::HeatError>(())
/// ```
pub struct OpenClSolver {
    info: DeviceInfo,
    settings: OpenClSettings,
    queue: Queue,
    program: Program,
    build_seconds: f64,
    runs: usize,
    /// The value of [`DEVICE_VARIABLE`] when the device was chosen.
    environment: Option<String>,
}

impl OpenClSolver {
    /// Chooses the device and compiles the kernel for it (timed: [`OpenClSolver::build_seconds`]).
    pub fn new(settings: &OpenClSettings) -> Result<OpenClSolver> {
        let (info, platform, device) = choose(settings.device.as_deref())?;
        if settings.precision == Precision::F64 && !info.fp64 {
            return Err(HeatError::NoDoublePrecision { device: info.name });
        }
        if let Some([columns, rows]) = settings.work_group
            && (columns == 0 || rows == 0 || columns * rows > info.max_work_group_size)
        {
            return Err(HeatError::WorkGroup {
                columns,
                rows,
                max: info.max_work_group_size,
            });
        }
        let context = Context::builder()
            .platform(platform)
            .devices(device)
            .build()
            .map_err(failed("creating a context"))?;
        let queue =
            Queue::new(&context, device, None).map_err(failed("creating a command queue"))?;
        let start = Instant::now();
        let mut builder = Program::builder();
        builder.devices(device).src(KERNEL_SOURCE);
        if settings.precision == Precision::F64 {
            builder.cmplr_def("USE_DOUBLE", 1);
        }
        let program = builder
            .build(&context)
            .map_err(failed("compiling the kernel"))?;
        Ok(OpenClSolver {
            info,
            settings: settings.clone(),
            queue,
            program,
            build_seconds: start.elapsed().as_secs_f64(),
            runs: 0,
            environment: std::env::var(DEVICE_VARIABLE).ok(),
        })
    }

    /// The device the program was built for.
    pub fn device(&self) -> &DeviceInfo {
        &self.info
    }

    /// The command queue of the chosen device, for other kernels on it (the roofline's copy probe).
    pub(crate) fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Seconds it took to compile the kernel source for the device.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// The work-group size for a plate of `nx` nodes per side: the one
    /// [`OpenClSettings::work_group`] gives, else the device's own choice
    /// ([`DeviceInfo::work_group`]).
    pub fn work_group(&self, nx: usize) -> [usize; 2] {
        self.settings
            .work_group
            .unwrap_or_else(|| self.info.work_group(nx))
    }

    /// Solves `problem` on the device and returns the solution and its timings.
    pub fn solve(
        &mut self,
        problem: &Problem,
        options: &RunOptions,
    ) -> Result<(Solution, DeviceRun)> {
        let kept = RunBuffers::prepare(problem, options, Stage::OpenCl.working_fields())?;
        self.march(problem, kept)
    }

    fn march(&mut self, problem: &Problem, kept: RunBuffers) -> Result<(Solution, DeviceRun)> {
        let build_s = if self.runs == 0 {
            self.build_seconds
        } else {
            0.0
        };
        self.runs += 1;
        let run = match self.settings.precision {
            Precision::F64 => self.march_as::<f64>(problem, kept),
            Precision::F32 => self.march_as::<f32>(problem, kept),
        };
        run.map(|(solution, mut timings)| {
            timings.build_s = build_s;
            (solution, timings)
        })
    }

    /// The time loop on the device: the initial field uploaded, then one kernel launch per
    /// level, the queue waited for only where a level is kept or the budget is checked.
    fn march_as<T: Real>(
        &self,
        problem: &Problem,
        mut kept: RunBuffers,
    ) -> Result<(Solution, DeviceRun)> {
        let nx = problem.nx;
        self.info.check_fields_fit(nx, size_of::<T>())?;
        let work_group = self.work_group(nx);
        let (buffers, upload_s) = self.upload::<T>(kept.initial_field().iter().copied(), nx)?;
        let kernels = self.step_kernels(&buffers, problem, work_group)?;
        let mut download = Download::new(nx)?;
        if kept.wants(0) {
            kept.keep(0, download.level(&buffers, 0)?.view());
        }
        let mut compute_s = 0.0;
        let mut clock = Instant::now();
        let deadline = kept.start_clock(problem.nt);
        for level in 1..problem.nt {
            // SAFETY: the kernel reads and writes only inside two buffers of nx * nx
            // values, each work item checks its cell is in the interior, and both
            // buffers outlive the queue's work (it is finished below).
            unsafe { kernels[(level - 1) % 2].enq() }.map_err(failed("running a time step"))?;
            // The queue runs ahead of this loop; under a time budget, wait for it now and then.
            if deadline.has_budget() && level % 64 == 0 {
                self.finish_steps()?;
                deadline.check(level)?;
            }
            if kept.wants(level) {
                self.finish_steps()?;
                compute_s += clock.elapsed().as_secs_f64();
                kept.keep(level, download.level(&buffers, level)?.view());
                clock = Instant::now();
            }
        }
        self.finish_steps()?;
        compute_s += clock.elapsed().as_secs_f64();
        let final_field = download.level(&buffers, problem.nt - 1)?;
        // One host thread drives the device; its compute units are reported apart.
        let solution = kept.into_solution(final_field, 1)?;
        Ok((
            solution,
            DeviceRun {
                device: self.info.name.clone(),
                compute_units: self.info.compute_units,
                build_s: 0.0,
                upload_s,
                compute_s,
                download_s: download.seconds,
                work_group,
                precision: self.settings.precision,
            },
        ))
    }

    /// The two fields on the device, each holding the initial field (as `T`), and the
    /// seconds the copies took.
    fn upload<T: Real>(
        &self,
        initial: impl Iterator<Item = f64>,
        nx: usize,
    ) -> Result<([Buffer<T>; 2], f64)> {
        let mut host = try_filled(nx * nx, T::from_f64(0.0), "the field for the device")?;
        for (value, x) in host.iter_mut().zip(initial) {
            *value = T::from_f64(x);
        }
        let start = Instant::now();
        let buffer = || {
            Buffer::<T>::builder()
                .queue(self.queue.clone())
                .len(host.len())
                .copy_host_slice(&host)
                .build()
                .map_err(failed("copying the initial field to the device"))
        };
        let buffers = [buffer()?, buffer()?];
        self.queue
            .finish()
            .map_err(failed("copying the initial field to the device"))?;
        Ok((buffers, start.elapsed().as_secs_f64()))
    }

    /// Two launches of the update, the fields swapped: step k runs `kernels[(k - 1) % 2]`,
    /// reading `buffers[(k - 1) % 2]` and writing the other.
    fn step_kernels<T: Real>(
        &self,
        buffers: &[Buffer<T>; 2],
        problem: &Problem,
        work_group: [usize; 2],
    ) -> Result<[Kernel; 2]> {
        let nx = problem.nx;
        let global = [
            (nx - 2).next_multiple_of(work_group[0]),
            (nx - 2).next_multiple_of(work_group[1]),
        ];
        let gamma = problem.gamma();
        let kernel = |from: usize| {
            Kernel::builder()
                .program(&self.program)
                .name("heat_update")
                .queue(self.queue.clone())
                .global_work_size(global)
                .local_work_size(work_group)
                .arg(&buffers[from])
                .arg(&buffers[1 - from])
                .arg(nx as i64)
                .arg(T::from_f64(gamma))
                .arg(T::from_f64(1.0 - 4.0 * gamma)) // the centre's weight
                .build()
                .map_err(failed("setting up the kernel"))
        };
        Ok([kernel(0)?, kernel(1)?])
    }

    /// Waits until the device has run every step launched so far.
    fn finish_steps(&self) -> Result<()> {
        self.queue.finish().map_err(failed("running a time step"))
    }
}

/// Copies of levels from the device to the host, through one host buffer, and the seconds
/// they took.
struct Download<T: Real> {
    nx: usize,
    host: Vec<T>,
    seconds: f64,
}

impl<T: Real> Download<T> {
    fn new(nx: usize) -> Result<Download<T>> {
        let host = try_filled(nx * nx, T::from_f64(0.0), "the field read back")?;
        Ok(Download {
            nx,
            host,
            seconds: 0.0,
        })
    }

    /// Level `level`, from the buffer it was written to, as a field of `f64`.
    fn level(&mut self, buffers: &[Buffer<T>; 2], level: usize) -> Result<Array2<f64>> {
        let start = Instant::now();
        buffers[level % 2]
            .read(&mut self.host)
            .enq()
            .map_err(failed("copying the field back from the device"))?;
        self.seconds += start.elapsed().as_secs_f64();
        let nx = self.nx;
        Ok(Array2::from_shape_fn((nx, nx), |(i, j)| {
            self.host[i * nx + j].to_f64()
        }))
    }
}

/// The element types the kernel is built for.
trait Real: OclPrm {
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}
