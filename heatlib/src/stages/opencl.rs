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

use std::sync::Mutex;
use std::time::Instant;

use ndarray::Array2;
use ocl::enums::{DeviceInfo as ClDeviceInfo, DeviceInfoResult};
use ocl::flags::DeviceType;
use ocl::{Buffer, Context, Device, Kernel, OclPrm, Platform, Program, Queue};

use crate::error::{Bytes, HeatError, Result};
use crate::memory::try_filled;
use crate::options::{OpenClSettings, Precision, RunOptions};
use crate::problem::Problem;
use crate::solution::{DeviceRun, Solution};
use crate::stages::Stage;
use crate::storage::Record;

mod bandwidth;

/// The environment variable that picks the device when none is given: an
/// index from [`devices`] (or `heat devices`), or part of a device's name.
pub const DEVICE_VARIABLE: &str = "HEAT_OPENCL_DEVICE";

/// The OpenCL C source of one time step. `real` is `double` or `float`.
/// (The kernel is not called `step`: that is an OpenCL built-in function.)
pub const KERNEL_SOURCE: &str = r#"
#ifdef USE_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
#else
typedef float real;
#endif
// No fused multiply-add: round exactly as the CPU stages do.
#pragma OPENCL FP_CONTRACT OFF

// Indices are 64-bit (long): with 32-bit ints, i * nx + j wraps from nx = 46341
// on, and a device with that much memory would read and write out of bounds.
__kernel void heat_update(__global const real *current, __global real *next,
                          const long nx, const real gamma, const real centre_weight)
{
    const long j = get_global_id(0) + 1;   // column, skipping the left edge
    const long i = get_global_id(1) + 1;   // row, skipping the bottom edge
    if (i >= nx - 1 || j >= nx - 1) return;   // work items beyond the interior
    const long c = i * nx + j;
    next[c] = gamma * (current[c + nx] + current[c - nx] + current[c + 1] + current[c - 1])
            + centre_weight * current[c];
}
"#;

/// What kind of device it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A graphics processor.
    Gpu,
    /// The CPU, for example through PoCL.
    Cpu,
    /// Another kind of accelerator (an FPGA, a DSP).
    Accelerator,
    /// Anything its driver does not call one of the above.
    Other,
}

/// One OpenCL device, as `heat devices` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Position in the list, counting over all platforms: what [`DEVICE_VARIABLE`] takes.
    pub index: usize,
    /// The OpenCL platform (driver) it belongs to.
    pub platform: String,
    /// The device's name, as its driver reports it.
    pub name: String,
    /// GPU, CPU or other.
    pub kind: DeviceKind,
    /// Cores of a CPU, multiprocessors of a GPU.
    pub compute_units: u32,
    /// Memory on the device.
    pub global_memory_bytes: u64,
    /// The largest single buffer the device allows.
    pub max_allocation_bytes: u64,
    /// The most work items one work group can hold.
    pub max_work_group_size: usize,
    /// Whether it computes in double precision (`cl_khr_fp64`).
    pub fp64: bool,
}

/// Every OpenCL device on this machine. An error (not an empty list) when there is none.
pub fn devices() -> Result<Vec<DeviceInfo>> {
    Ok(all_devices()?
        .into_iter()
        .map(|(info, _, _)| info)
        .collect())
}

fn no_device(detail: impl Into<String>) -> HeatError {
    HeatError::NoOpenClDevice {
        detail: detail.into(),
    }
}

fn failed(doing: &'static str) -> impl FnOnce(ocl::Error) -> HeatError {
    move |error| HeatError::OpenCl {
        doing,
        message: error
            .to_string()
            .lines()
            .take(12)
            .collect::<Vec<_>>()
            .join(" / "),
    }
}

/// Device discovery, one thread at a time: PoCL can report no devices to a
/// thread that asks while another thread is still initialising it.
static DISCOVERY: Mutex<()> = Mutex::new(());

fn all_devices() -> Result<Vec<(DeviceInfo, Platform, Device)>> {
    let _one_at_a_time = DISCOVERY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let platforms = ocl::core::get_platform_ids().map_err(|e| {
        no_device(format!(
            "no OpenCL platform: {}",
            first_line(&e.to_string())
        ))
    })?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for platform in Platform::list_from_core(platforms) {
        let platform_name = platform
            .name()
            .unwrap_or_else(|_| "unknown platform".into());
        let devices = match Device::list_all(platform) {
            Ok(devices) => devices,
            Err(error) => {
                problems.push(format!(
                    "{platform_name}: {}",
                    first_line(&error.to_string())
                ));
                continue;
            }
        };
        for device in devices {
            let info = describe(found.len(), &platform_name, &device)
                .map_err(failed("reading device information"))?;
            found.push((info, platform, device));
        }
    }
    if found.is_empty() {
        return Err(no_device(format!(
            "OpenCL platforms exist but offer no device ({})",
            problems.join("; ")
        )));
    }
    Ok(found)
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
}

fn describe(index: usize, platform: &str, device: &Device) -> ocl::Result<DeviceInfo> {
    let kind = match device.info(ClDeviceInfo::Type)? {
        DeviceInfoResult::Type(t) if t.contains(DeviceType::GPU) => DeviceKind::Gpu,
        DeviceInfoResult::Type(t) if t.contains(DeviceType::CPU) => DeviceKind::Cpu,
        DeviceInfoResult::Type(t) if t.contains(DeviceType::ACCELERATOR) => DeviceKind::Accelerator,
        _ => DeviceKind::Other,
    };
    let compute_units = match device.info(ClDeviceInfo::MaxComputeUnits)? {
        DeviceInfoResult::MaxComputeUnits(n) => n,
        _ => 0,
    };
    let global_memory_bytes = match device.info(ClDeviceInfo::GlobalMemSize)? {
        DeviceInfoResult::GlobalMemSize(n) => n,
        _ => 0,
    };
    let max_allocation_bytes = match device.info(ClDeviceInfo::MaxMemAllocSize)? {
        DeviceInfoResult::MaxMemAllocSize(n) => n,
        _ => 0,
    };
    let fp64 = match device.info(ClDeviceInfo::Extensions)? {
        DeviceInfoResult::Extensions(list) => list.split_whitespace().any(|e| e == "cl_khr_fp64"),
        _ => false,
    };
    Ok(DeviceInfo {
        index,
        platform: platform.trim().to_string(),
        name: device.name()?.trim().to_string(),
        kind,
        compute_units,
        global_memory_bytes,
        max_allocation_bytes,
        max_work_group_size: device.max_wg_size()?,
        fp64,
    })
}

/// Picks a device: by index or by part of its name, else from [`DEVICE_VARIABLE`],
/// else the first GPU, else the first CPU, else the first device.
fn choose(choice: Option<&str>) -> Result<(DeviceInfo, Platform, Device)> {
    let from_environment = std::env::var(DEVICE_VARIABLE)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let choice = choice.map(str::to_string).or(from_environment);
    let mut found = all_devices()?;
    let position = match &choice {
        Some(choice) => {
            let wanted = choice.trim().to_lowercase();
            found
                .iter()
                .position(|(info, _, _)| {
                    wanted.parse::<usize>().ok() == Some(info.index)
                        || info.name.to_lowercase().contains(&wanted)
                })
                .ok_or_else(|| HeatError::UnknownDevice {
                    choice: choice.clone(),
                    known: found
                        .iter()
                        .map(|(info, _, _)| format!("{}: {}", info.index, info.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
        }
        None => [DeviceKind::Gpu, DeviceKind::Cpu]
            .iter()
            .find_map(|kind| found.iter().position(|(info, _, _)| info.kind == *kind))
            .unwrap_or(0),
    };
    Ok(found.swap_remove(position))
}

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

    /// Seconds it took to compile the kernel source for the device.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// The work-group size for a plate of `nx` nodes per side: the caller's, or
    /// 32 x 8 on a GPU (a warp or wavefront wide, 256 items); on a CPU, where
    /// a work group runs as one vectorised loop, a whole interior row (up to
    /// 256 cells, so little padding is wasted) times a few rows. On PoCL with
    /// the large plate, 198 x 2 ran at 1.59 G cell updates/s, 32 x 8 at 1.48 G,
    /// and 256 x 1 (58 idle cells per row) at 1.29 G.
    pub fn work_group(&self, nx: usize) -> [usize; 2] {
        if let Some(size) = self.settings.work_group {
            return size;
        }
        let max = self.info.max_work_group_size.max(1);
        match self.info.kind {
            DeviceKind::Gpu => [32.min(max), (max / 32).clamp(1, 8)],
            _ => {
                let columns = (nx - 2).min(256).min(max);
                [columns, (512 / columns).clamp(1, 8).min(max / columns)]
            }
        }
    }

    /// Solves `problem` on the device and returns the solution and its timings.
    pub fn solve(
        &mut self,
        problem: &Problem,
        options: &RunOptions,
    ) -> Result<(Solution, DeviceRun)> {
        let record = Record::prepare(problem, options, Stage::OpenCl.working_fields())?;
        self.run(problem, record)
    }

    fn run(&mut self, problem: &Problem, record: Record) -> Result<(Solution, DeviceRun)> {
        let build_s = if self.runs == 0 {
            self.build_seconds
        } else {
            0.0
        };
        self.runs += 1;
        let run = match self.settings.precision {
            Precision::F64 => self.march::<f64>(problem, record),
            Precision::F32 => self.march::<f32>(problem, record),
        };
        run.map(|(solution, mut timings)| {
            timings.build_s = build_s;
            (solution, timings)
        })
    }

    /// Refuses a plate whose two fields do not fit on the device, in all or as one buffer.
    fn check_buffers_fit<T: Real>(&self, nx: usize) -> Result<()> {
        let buffer = Bytes((nx as u128 * nx as u128).saturating_mul(size_of::<T>() as u128));
        let device = &self.info.name;
        let advice = "use fewer nodes nx, single precision (Precision::F32, half the bytes), \
                      or a CPU stage";
        let refuse = |what: String, needed: Bytes, available: u64| {
            Err(HeatError::OutOfMemory {
                what,
                needed,
                available: Bytes(available as u128),
                advice: advice.to_string(),
            })
        };
        let max_allocation = self.info.max_allocation_bytes;
        if max_allocation > 0 && buffer.0 > max_allocation as u128 {
            return refuse(format!("one field on '{device}'"), buffer, max_allocation);
        }
        let global = self.info.global_memory_bytes;
        if global > 0 && buffer.0.saturating_mul(2) > global as u128 {
            return refuse(
                format!("two fields on '{device}'"),
                Bytes(buffer.0.saturating_mul(2)),
                global,
            );
        }
        Ok(())
    }

    fn march<T: Real>(
        &self,
        problem: &Problem,
        mut record: Record,
    ) -> Result<(Solution, DeviceRun)> {
        let nx = problem.nx;
        self.check_buffers_fit::<T>(nx)?;
        let work_group = self.work_group(nx);
        let global = [
            (nx - 2).next_multiple_of(work_group[0]),
            (nx - 2).next_multiple_of(work_group[1]),
        ];
        let mut initial = try_filled(nx * nx, T::from_f64(0.0), "the field for the device")?;
        for (value, &x) in initial.iter_mut().zip(problem.try_initial_field()?.iter()) {
            *value = T::from_f64(x);
        }

        let start = Instant::now();
        let buffer = || {
            Buffer::<T>::builder()
                .queue(self.queue.clone())
                .len(initial.len())
                .copy_host_slice(&initial)
                .build()
                .map_err(failed("copying the initial field to the device"))
        };
        let buffers = [buffer()?, buffer()?];
        self.queue
            .finish()
            .map_err(failed("copying the initial field to the device"))?;
        let upload_s = start.elapsed().as_secs_f64();

        // Two kernels with their buffers swapped: step k reads buffers[k % 2].
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
        let kernels = [kernel(0)?, kernel(1)?];

        let mut host = try_filled(initial.len(), T::from_f64(0.0), "the field read back")?;
        let (mut compute_s, mut download_s) = (0.0, 0.0);
        let mut download = |level: usize, host: &mut Vec<T>| -> Result<Array2<f64>> {
            let start = Instant::now();
            buffers[level % 2]
                .read(&mut *host)
                .enq()
                .map_err(failed("copying the field back from the device"))?;
            download_s += start.elapsed().as_secs_f64();
            Ok(Array2::from_shape_fn((nx, nx), |(i, j)| {
                host[i * nx + j].to_f64()
            }))
        };
        if record.wants(0) {
            record.keep(0, download(0, &mut host)?.view());
        }
        let mut clock = Instant::now();
        let deadline = record.start_clock(problem.nt);
        for level in 1..problem.nt {
            // SAFETY: the kernel reads and writes only inside two buffers of nx * nx
            // values, each work item checks its cell is in the interior, and both
            // buffers outlive the queue's work (it is finished below).
            unsafe { kernels[(level - 1) % 2].enq() }.map_err(failed("running a time step"))?;
            // The queue runs ahead of this loop; under a time budget, wait for it now and then.
            if deadline.has_budget() && level % 64 == 0 {
                self.queue.finish().map_err(failed("running a time step"))?;
                deadline.check(level)?;
            }
            if record.wants(level) {
                self.queue.finish().map_err(failed("running a time step"))?;
                compute_s += clock.elapsed().as_secs_f64();
                record.keep(level, download(level, &mut host)?.view());
                clock = Instant::now();
            }
        }
        self.queue.finish().map_err(failed("running a time step"))?;
        compute_s += clock.elapsed().as_secs_f64();
        let final_field = download(problem.nt - 1, &mut host)?;
        // One host thread drives the device; its compute units are reported apart.
        let solution = record.into_solution(final_field, 1)?;
        Ok((
            solution,
            DeviceRun {
                device: self.info.name.clone(),
                compute_units: self.info.compute_units,
                build_s: 0.0,
                upload_s,
                compute_s,
                download_s,
                work_group,
                precision: self.settings.precision,
            },
        ))
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

/// The program `Stage::OpenCl` reuses between calls, built on first use.
static SHARED: Mutex<Option<OpenClSolver>> = Mutex::new(None);

/// Runs on the shared program, building it first if there is none yet or
/// the device or precision asked for has changed since.
pub(crate) fn run_shared(
    problem: &Problem,
    settings: &OpenClSettings,
    record: Record,
) -> Result<Solution> {
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let environment = std::env::var(DEVICE_VARIABLE).ok();
    let reusable = shared
        .as_ref()
        .is_some_and(|solver| solver.settings == *settings && solver.environment == environment);
    if !reusable {
        *shared = None;
        *shared = Some(OpenClSolver::new(settings)?);
    }
    let solver = shared.as_mut().expect("built just above");
    let (mut solution, run) = solver.run(problem, record)?;
    solution.device = Some(run);
    Ok(solution)
}
