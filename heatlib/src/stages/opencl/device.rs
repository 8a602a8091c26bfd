//! Finding the OpenCL devices of this machine, describing them, and picking one.

use std::sync::Mutex;

use ocl::enums::{DeviceInfo as ClDeviceInfo, DeviceInfoResult};
use ocl::flags::DeviceType;
use ocl::{Device, Platform};

use crate::error::{Bytes, HeatError, Result};

/// The environment variable that picks the device when none is given: an
/// index from [`devices`] (or `heat devices`), or part of a device's name.
pub const DEVICE_VARIABLE: &str = "HEAT_OPENCL_DEVICE";

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

impl DeviceInfo {
    /// The work-group size this device gets for a plate of `nx` nodes per
    /// side: 32 x 8 on a GPU (a warp or wavefront wide, 256 items); on a
    /// CPU, where a work group runs as one vectorised loop, a whole interior
    /// row (up to 256 cells, so little padding is wasted) times a few rows.
    pub fn work_group(&self, nx: usize) -> [usize; 2] {
        let max = self.max_work_group_size.max(1);
        match self.kind {
            DeviceKind::Gpu => [32.min(max), (max / 32).clamp(1, 8)],
            _ => {
                let columns = (nx - 2).min(256).min(max);
                [columns, (512 / columns).clamp(1, 8).min(max / columns)]
            }
        }
    }

    /// Refuses a plate whose two fields of `nx x nx` values, `value_bytes`
    /// each, do not fit on the device, in all or as one buffer.
    pub(super) fn check_fields_fit(&self, nx: usize, value_bytes: usize) -> Result<()> {
        let buffer = Bytes((nx as u128 * nx as u128).saturating_mul(value_bytes as u128));
        let device = &self.name;
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
        let max_allocation = self.max_allocation_bytes;
        if max_allocation > 0 && buffer.0 > max_allocation as u128 {
            return refuse(format!("one field on '{device}'"), buffer, max_allocation);
        }
        let global = self.global_memory_bytes;
        if global > 0 && buffer.0.saturating_mul(2) > global as u128 {
            return refuse(
                format!("two fields on '{device}'"),
                Bytes(buffer.0.saturating_mul(2)),
                global,
            );
        }
        Ok(())
    }
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

pub(crate) fn failed(doing: &'static str) -> impl FnOnce(ocl::Error) -> HeatError {
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
pub(super) fn choose(choice: Option<&str>) -> Result<(DeviceInfo, Platform, Device)> {
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
