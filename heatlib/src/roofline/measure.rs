//! Measuring the ceilings: the caches from the OS, then every probe on one
//! thread and on all cores, and the OpenCL device's copy.

use super::kept::FORMAT;
use super::{Bandwidth, CacheLevel, Ceilings, DeviceBandwidth, FlopRate, Pattern, machine, probes};
use std::time::Instant;

use crate::error::{HeatError, Result};

/// Timed runs per probe, after one warm-up.
const REPEAT: usize = 7;

impl Ceilings {
    /// Measures the caches, bandwidths and arithmetic rate now (3-4 seconds on a
    /// 2-core machine, up to a minute on a slow or busy one).
    pub fn measure() -> Result<Ceilings> {
        Ceilings::measure_until(None)
    }

    /// [`Ceilings::measure`], stopping with [`HeatError::CeilingsOutOfTime`] if
    /// it is still going at `deadline` (checked between two measurements).
    pub fn measure_until(deadline: Option<Instant>) -> Result<Ceilings> {
        let caches = machine::caches()?;
        let cores = machine::cores();
        let threads: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
        let sets = working_sets(&caches);
        let probes = threads.len() * (sets.len() * Pattern::ALL.len() + 1);
        let mut done = 0;
        let mut in_time = || {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(HeatError::CeilingsOutOfTime { done, probes });
            }
            done += 1;
            Ok(())
        };
        let mut bandwidth = Vec::new();
        for &threads in &threads {
            for &working_set in &sets {
                for pattern in Pattern::ALL {
                    in_time()?;
                    let timing = probes::bandwidth_runs(pattern, working_set, threads, REPEAT);
                    let bytes = probes::bytes_per_pass(pattern, working_set, threads);
                    bandwidth.push(Bandwidth {
                        pattern,
                        working_set,
                        threads,
                        gb_per_s: bytes / timing.median() / 1e9,
                        min_gb_per_s: bytes / timing.max() / 1e9,
                        max_gb_per_s: bytes / timing.min() / 1e9,
                    });
                }
            }
        }
        let mut flops = Vec::new();
        for &threads in &threads {
            in_time()?;
            let (timing, count) = probes::flop_runs(threads, REPEAT);
            flops.push(FlopRate {
                threads,
                gflops: count / timing.median() / 1e9,
                min_gflops: count / timing.max() / 1e9,
                max_gflops: count / timing.min() / 1e9,
                fused: probes::FUSED,
            });
        }
        let (device, device_note) = match device_bandwidth() {
            Ok(device) => (Some(device), None),
            Err(why) => (None, Some(why)),
        };
        Ok(Ceilings {
            format: FORMAT,
            measured_on: machine::today(),
            cpu: machine::cpu_model(),
            cores,
            caches,
            bandwidth,
            flops,
            device,
            device_note,
        })
    }
}

/// Working sets from 16 KiB, doubling, to at least four times the largest cache.
fn working_sets(caches: &[CacheLevel]) -> Vec<u64> {
    let largest = caches.iter().map(|c| c.bytes).max().unwrap_or(32 << 20);
    let mut sets = vec![16 << 10];
    while *sets.last().unwrap_or(&0) < 4 * largest {
        sets.push(sets.last().unwrap_or(&1) * 2);
    }
    sets
}

#[cfg(feature = "opencl")]
fn device_bandwidth() -> std::result::Result<DeviceBandwidth, String> {
    use crate::options::{OpenClSettings, Precision};
    let solver = crate::stages::opencl::OpenClSolver::new(&OpenClSettings {
        precision: Precision::F32,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let (timing, bytes) =
        super::device_copy::copy_bandwidth(&solver, REPEAT).map_err(|e| e.to_string())?;
    Ok(DeviceBandwidth {
        device: solver.device().name.clone(),
        gb_per_s: bytes / timing.median() / 1e9,
        min_gb_per_s: bytes / timing.max() / 1e9,
        max_gb_per_s: bytes / timing.min() / 1e9,
    })
}

#[cfg(not(feature = "opencl"))]
fn device_bandwidth() -> std::result::Result<DeviceBandwidth, String> {
    Err("heatlib was built without its `opencl` feature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_sets_double_from_l1_to_past_four_times_the_last_cache() {
        let caches = [CacheLevel {
            level: 3,
            bytes: 32 << 20,
            shared_by: 2,
        }];
        let sets = working_sets(&caches);
        assert_eq!(sets[0], 16 << 10);
        assert_eq!(*sets.last().unwrap(), 128 << 20);
        assert!(sets.windows(2).all(|w| w[1] == 2 * w[0]));
    }
}
