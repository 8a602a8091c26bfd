//! The time loop shared by the CPU stages, and what a run keeps.
//!
//! A CPU stage only says how to compute one time level from the previous one
//! (its `advance` function); this module owns everything else: validation,
//! where the time levels live (the whole history, or two buffers that take
//! turns), snapshots, and the thread pool. Keeping that here is what lets a
//! learner diff two stages and see only the idea that separates them.

use std::ops::Range;

use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2, ArrayViewMut3, Axis, s};

use crate::error::{Bytes, HeatError, Result};
use crate::problem::Problem;

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
    Snapshots { every: usize },
}

/// How to run a stage: what to keep, on how many threads, on which OpenCL device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOptions {
    pub storage: Storage,
    /// Threads for the `parallel` stage; `None` uses rayon's default
    /// (the `RAYON_NUM_THREADS` environment variable, else one per core).
    pub threads: Option<usize>,
    /// Device, precision and work-group size for the `opencl` stage.
    pub opencl: OpenClSettings,
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

/// Settings of the `opencl` stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenClSettings {
    /// A device index (as `heat devices` lists them) or part of its name; `None`
    /// reads `HEAT_OPENCL_DEVICE`, else takes the first GPU, else the first CPU device.
    pub device: Option<String>,
    pub precision: Precision,
    /// Work-group size (columns, rows); `None` picks one for the device.
    pub work_group: Option<[usize; 2]>,
}

/// Timings of one run on an OpenCL device, each waited for (the queue is
/// finished before the clock stops).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRun {
    pub device: String,
    /// Compiling the kernel source for the device; 0 when an earlier run's program was reused.
    pub build_s: f64,
    /// Copying the initial field to the device.
    pub upload_s: f64,
    /// All the time steps.
    pub compute_s: f64,
    /// Copying back what was kept (the final field, snapshots or the history).
    pub download_s: f64,
    /// Work-group size used, (columns, rows).
    pub work_group: [usize; 2],
    pub precision: Precision,
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

    /// Run the parallel stage on `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> RunOptions {
        self.threads = Some(threads);
        self
    }
}

/// The field at one time level.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Time level, 0 being the initial field.
    pub step: usize,
    pub field: Array2<f64>,
}

/// What a run returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The field at the last time level, `nt - 1`.
    pub final_field: Array2<f64>,
    /// Every time level, shape `(nt, nx, nx)`, when [`Storage::FullHistory`] was asked for.
    pub history: Option<Array3<f64>>,
    /// The snapshots, when [`Storage::Snapshots`] was asked for (the first is step 0, the last is `nt - 1`).
    pub snapshots: Vec<Snapshot>,
    /// Threads the run used.
    pub threads: usize,
    /// For the `opencl` stage: the device and where the time went.
    pub device: Option<DeviceRun>,
}

/// One explicit time step: the interior of `next` from `current`; the edges of `next` are already set.
pub(crate) type Advance = fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>, f64);

/// Calls `advance` once per time step on storage that [`prepare`] made for `problem`.
pub(crate) fn run(problem: &Problem, mut keep: Keep, advance: Advance) -> Solution {
    // A single band: the whole plate, its edge rows as the halos.
    let whole_plate = 1..problem.nx - 1;
    let mut bands = keep.split(std::slice::from_ref(&whole_plate));
    let band = bands.pop().expect("one band per range given");
    let final_rows = march_band(problem, whole_plate.clone(), band, advance, |_, _| {});
    keep.into_solution(problem, [(whole_plate, final_rows)], 1)
}

/// Checks `problem` and `options`, then allocates what the run keeps.
pub(crate) fn prepare(problem: &Problem, options: &RunOptions) -> Result<Keep> {
    check(problem, options)?;
    Ok(Keep::allocate(problem, options.storage))
}

/// Everything that must hold before any memory is touched.
fn check(problem: &Problem, options: &RunOptions) -> Result<()> {
    problem.validate()?;
    match options.storage {
        Storage::FullHistory => check_history_fits(problem.nt, problem.nx, available_memory()),
        Storage::Snapshots { every: 0 } => Err(HeatError::ZeroSnapshotInterval { every: 0 }),
        _ => Ok(()),
    }?;
    match options.threads {
        Some(0) => Err(HeatError::Threads {
            threads: 0,
            reason: "the thread count must be at least 1".into(),
        }),
        _ => Ok(()),
    }
}

/// Runs `work` in a pool of `threads` threads, or in rayon's current pool.
pub(crate) fn in_thread_pool<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T> {
    match threads {
        None => Ok(work()),
        Some(threads) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|error| HeatError::Threads {
                    threads,
                    reason: error.to_string(),
                })?;
            Ok(pool.install(work))
        }
    }
}

/// The time levels a run keeps, allocated once before the time loop.
pub(crate) struct Keep {
    history: Option<Array3<f64>>,
    snapshot_steps: Vec<usize>,
    snapshots: Array3<f64>,
}

/// One band's share of [`Keep`]: the same time levels, only the band's rows.
pub(crate) struct BandKeep<'a> {
    history: Option<ArrayViewMut3<'a, f64>>,
    snapshots: ArrayViewMut3<'a, f64>,
    snapshot_steps: &'a [usize],
    snapshots_taken: usize,
}

impl BandKeep<'_> {
    /// Whether the band's rows at `step` are to be kept (the CPU stages
    /// simply copy every step; a device copies back only what is kept).
    #[cfg(feature = "opencl")]
    pub(crate) fn wants(&self, step: usize) -> bool {
        self.history.is_some() || self.snapshot_steps.get(self.snapshots_taken) == Some(&step)
    }

    /// Keeps the band's rows at `step`, if they are wanted (steps come in order).
    pub(crate) fn record(&mut self, step: usize, own_rows: ArrayView2<'_, f64>) {
        if let Some(history) = self.history.as_mut() {
            history.index_axis_mut(Axis(0), step).assign(&own_rows);
        }
        if self.snapshot_steps.get(self.snapshots_taken) == Some(&step) {
            self.snapshots
                .index_axis_mut(Axis(0), self.snapshots_taken)
                .assign(&own_rows);
            self.snapshots_taken += 1;
        }
    }
}

impl Keep {
    fn allocate(problem: &Problem, storage: Storage) -> Keep {
        let (nt, nx) = (problem.nt, problem.nx);
        let snapshot_steps: Vec<usize> = match storage {
            Storage::Snapshots { every } => (0..nt)
                .filter(|step| step % every == 0 || *step == nt - 1)
                .collect(),
            _ => Vec::new(),
        };
        // Only the edge rows are written here; the bands fill the rows between.
        // Zeroed memory comes lazily from the OS, so pages are touched as the steps reach them.
        let with_edges = |levels: usize| {
            let mut levels = Array3::<f64>::zeros((levels, nx, nx));
            if let Some(data) = levels.as_slice_mut() {
                advise_huge_pages(data);
            }
            let initial = problem.initial_field();
            for last_row in [0, nx - 1] {
                levels
                    .index_axis_mut(Axis(1), last_row)
                    .assign(&initial.row(last_row));
            }
            levels
        };
        Keep {
            history: (storage == Storage::FullHistory).then(|| with_edges(nt)),
            snapshots: with_edges(snapshot_steps.len()),
            snapshot_steps,
        }
    }

    /// Mutable views of the kept levels, one per band of plate rows.
    pub(crate) fn split(&mut self, bands: &[Range<usize>]) -> Vec<BandKeep<'_>> {
        let Keep {
            history,
            snapshot_steps,
            snapshots,
        } = self;
        let mut history = history
            .as_mut()
            .map(|h| split_rows(h.view_mut(), bands).into_iter());
        split_rows(snapshots.view_mut(), bands)
            .into_iter()
            .map(|snapshots| BandKeep {
                history: history.as_mut().and_then(Iterator::next),
                snapshots,
                snapshot_steps,
                snapshots_taken: 0,
            })
            .collect()
    }

    /// The solution, from the kept levels and each band's final rows.
    pub(crate) fn into_solution(
        self,
        problem: &Problem,
        bands: impl IntoIterator<Item = (Range<usize>, Array2<f64>)>,
        threads: usize,
    ) -> Solution {
        let mut final_field = problem.initial_field();
        for (rows, values) in bands {
            final_field.slice_mut(s![rows, ..]).assign(&values);
        }
        let snapshots = self
            .snapshot_steps
            .iter()
            .zip(self.snapshots.outer_iter())
            .map(|(&step, field)| Snapshot {
                step,
                field: field.to_owned(),
            })
            .collect();
        Solution {
            final_field,
            history: self.history,
            snapshots,
            threads,
            device: None,
        }
    }
}

/// Splits axis 1 (the plate's rows) of `levels` into the given bands.
fn split_rows<'a>(
    levels: ArrayViewMut3<'a, f64>,
    bands: &[Range<usize>],
) -> Vec<ArrayViewMut3<'a, f64>> {
    let mut views = Vec::with_capacity(bands.len());
    let (_, mut rest) = levels.split_at(Axis(1), bands[0].start);
    let mut at = bands[0].start;
    for rows in bands {
        let (band, after) = rest.split_at(Axis(1), rows.end - at);
        views.push(band);
        rest = after;
        at = rows.end;
    }
    views
}

/// Marches one band of plate rows through all time levels and returns its final rows.
///
/// The band works on its own two buffers: its rows plus one halo row below
/// and above. `advance` updates the buffer's interior, which is exactly the
/// band's rows; `exchange(step, next)` then refreshes the halo rows of
/// `next` (a band that touches the plate's edge keeps that edge as its halo).
pub(crate) fn march_band(
    problem: &Problem,
    rows: Range<usize>,
    mut keep: BandKeep<'_>,
    advance: Advance,
    mut exchange: impl FnMut(usize, ArrayViewMut2<'_, f64>),
) -> Array2<f64> {
    let gamma = problem.gamma();
    let mut current = problem
        .initial_field()
        .slice(s![rows.start - 1..rows.end + 1, ..])
        .to_owned();
    // Both buffers start with the edges set, and `advance` never writes them.
    let mut next = current.clone();
    keep.record(0, current.slice(s![1..-1, ..]));
    for step in 1..problem.nt {
        advance(current.view(), next.view_mut(), gamma);
        exchange(step, next.view_mut());
        std::mem::swap(&mut current, &mut next);
        keep.record(step, current.slice(s![1..-1, ..]));
    }
    current.slice(s![1..-1, ..]).to_owned()
}

/// Asks Linux to back a large array with 2 MB pages where it can. The full
/// history of the large problem is 1.28 GB: with 4 KB pages, the first touch
/// of each page is a separate page fault (over 300,000 of them), which took
/// longer than the computation itself. Elsewhere this does nothing.
fn advise_huge_pages(data: &mut [f64]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = data.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(data);
        let first_huge_page = start.next_multiple_of(HUGE_PAGE);
        if end >= first_huge_page + HUGE_PAGE {
            let length = (end - first_huge_page) / HUGE_PAGE * HUGE_PAGE;
            // SAFETY: the range lies inside `data`, which we borrow mutably; MADV_HUGEPAGE
            // only changes how the kernel backs these pages, never their contents.
            unsafe {
                libc::madvise(
                    first_huge_page as *mut libc::c_void,
                    length,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = data;
}

/// Bytes of the full history, `nt x nx x nx x 8`, without overflow.
pub fn history_bytes(nt: usize, nx: usize) -> Bytes {
    Bytes(nt as u128 * nx as u128 * nx as u128 * std::mem::size_of::<f64>() as u128)
}

/// Refuses a full history larger than `available` bytes (when that is known).
pub(crate) fn check_history_fits(nt: usize, nx: usize, available: Option<u64>) -> Result<()> {
    let needed = history_bytes(nt, nx);
    let addressable = needed.0 <= isize::MAX as u128;
    match available {
        Some(available) if needed.0 > available as u128 || !addressable => {
            Err(HeatError::HistoryTooLarge {
                nt,
                nx,
                needed,
                available: Bytes(available as u128),
            })
        }
        None if !addressable => Err(HeatError::HistoryTooLarge {
            nt,
            nx,
            needed,
            available: Bytes(isize::MAX as u128),
        }),
        _ => Ok(()),
    }
}

/// Memory this process can still take: the smaller of the system's
/// `MemAvailable` and what the cgroup limit leaves; `None` where neither is known.
pub fn available_memory() -> Option<u64> {
    let system = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| meminfo_available(&text));
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
    };
    let cgroup = match (
        read("/sys/fs/cgroup/memory.max"),
        read("/sys/fs/cgroup/memory.current"),
    ) {
        (Some(max), Some(current)) => Some(max.saturating_sub(current)),
        _ => None,
    };
    match (system, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn meminfo_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available_in_bytes() {
        let text = "MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(meminfo_available(text), Some(2 * 1024 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn history_that_fits_is_accepted() {
        assert_eq!(check_history_fits(1000, 50, Some(20_000_001)), Ok(()));
        assert_eq!(check_history_fits(1000, 50, None), Ok(()));
    }

    #[test]
    fn history_beyond_available_memory_is_refused_with_advice() {
        let error = check_history_fits(4000, 200, Some(1_000_000_000)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("1.28 GB"), "{message}");
        assert!(message.contains("1.00 GB is available"), "{message}");
        assert!(message.contains("final field"), "{message}");
        assert!(message.contains("snapshots"), "{message}");
    }

    #[test]
    fn history_beyond_the_address_space_is_refused_even_when_memory_is_unknown() {
        let error = check_history_fits(usize::MAX, 1 << 20, None).unwrap_err();
        assert!(matches!(error, HeatError::HistoryTooLarge { .. }));
    }
}
