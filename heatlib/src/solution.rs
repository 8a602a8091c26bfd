//! What a run returns: the final field, and whatever else was asked for.

use ndarray::{Array2, Array3};

use crate::options::Precision;

/// The field at one time level.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Time level, 0 being the initial field.
    pub step: usize,
    /// The temperatures at that level, `nx x nx`.
    pub field: Array2<f64>,
}

/// What a run returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The field at the last time level, `nt - 1`.
    pub final_field: Array2<f64>,
    /// Every time level, shape `(nt, nx, nx)`, when [`Storage::FullHistory`](crate::Storage::FullHistory) was asked for.
    pub history: Option<Array3<f64>>,
    /// The snapshots, when [`Storage::Snapshots`](crate::Storage::Snapshots) was asked for
    /// (the first is step 0, the last is `nt - 1`).
    pub snapshots: Vec<Snapshot>,
    /// CPU threads that computed time steps: 1 for a serial stage; for
    /// `parallel`, the number of bands (at most the pool's size, fewer on a
    /// plate with fewer interior rows than threads); 1 for `opencl`, whose
    /// host thread only drives the device (see [`DeviceRun::compute_units`]).
    pub threads: usize,
    /// For the `opencl` stage: the device and where the time went.
    pub device: Option<DeviceRun>,
    /// Seconds the run spent making fields of its own before its first step
    /// (the `parallel` stage's bands: each band's rows copied from the initial
    /// field); timings count them as set-up, as they do allocating the storage.
    pub setup_s: f64,
}

/// Timings of one run on an OpenCL device, each waited for (the queue is
/// finished before the clock stops).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRun {
    /// The device's name, as its driver reports it.
    pub device: String,
    /// The device's compute units (cores of a CPU, multiprocessors of a GPU).
    pub compute_units: u32,
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
    /// Number format used on the device.
    pub precision: Precision,
}
