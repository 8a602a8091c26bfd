//! Keeping the ceilings: measured once per machine, kept in a JSON file, read back.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Ceilings, machine};
use crate::error::{HeatError, Result};

/// Bumped when the file's contents change meaning, so that an old file is measured again.
pub(super) const FORMAT: u32 = 2;
/// The environment variable that names the file the ceilings are kept in.
pub const FILE_VARIABLE: &str = "HEAT_ROOFLINE_FILE";
/// The largest kept file read: one machine's ceilings take a few tens of kilobytes.
pub const KEPT_FILE_LIMIT: u64 = 1 << 20;

/// What the kept file holds ([`Ceilings::kept`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Kept {
    /// This machine's ceilings, in today's format: no need to measure.
    Usable(Ceilings),
    /// A file that cannot be used, and why: measure again.
    Refused(String),
    /// No file yet, or no place to keep one.
    Missing,
}

impl Ceilings {
    /// The ceilings kept for this machine, measured (and kept) first if there
    /// are none yet, or if the ones kept are from another CPU, core count or
    /// file format. The file is [`FILE_VARIABLE`] if set, else
    /// `$XDG_CACHE_HOME/heat-accel/roofline.json` (`~/.cache/...`).
    pub fn of_this_machine() -> Result<Ceilings> {
        Ceilings::of_this_machine_until(None)
    }

    /// [`Ceilings::of_this_machine`], stopping with [`HeatError::CeilingsOutOfTime`]
    /// if measuring is still going at `deadline`.
    pub fn of_this_machine_until(deadline: Option<Instant>) -> Result<Ceilings> {
        match Ceilings::kept() {
            Kept::Usable(kept) => Ok(kept),
            Kept::Refused(_) | Kept::Missing => Ceilings::measure_and_keep(deadline),
        }
    }

    /// What the kept file ([`Ceilings::file`]) holds, read once.
    pub fn kept() -> Kept {
        let Some(path) = Ceilings::file() else {
            return Kept::Missing;
        };
        if std::fs::symlink_metadata(&path).is_err() {
            return Kept::Missing;
        }
        match Ceilings::load(&path) {
            Err(error) => Kept::Refused(error.to_string()),
            Ok(kept) if !kept.is_of_this_machine() => Kept::Refused(format!(
                "{} was measured on another machine or by another heatlib",
                path.display()
            )),
            Ok(kept) => Kept::Usable(kept),
        }
    }

    /// Measures the ceilings now ([`Ceilings::measure_until`]) and keeps them
    /// in [`Ceilings::file`] for next time.
    pub fn measure_and_keep(deadline: Option<Instant>) -> Result<Ceilings> {
        let measured = Ceilings::measure_until(deadline)?;
        if let Some(path) = Ceilings::file() {
            // Keeping them only saves the next measurement; a cache that cannot be
            // written (a read-only home) costs a few seconds next time, no more.
            let _ = measured.save(&path);
        }
        Ok(measured)
    }

    /// Where [`Ceilings::of_this_machine`] keeps them.
    pub fn file() -> Option<PathBuf> {
        let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = nonempty(FILE_VARIABLE) {
            return Some(path.into());
        }
        let cache = nonempty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(cache.join("heat-accel").join("roofline.json"))
    }

    /// Reads ceilings written by [`Ceilings::save`] or `heat roofline --json`,
    /// refusing a file that is no regular file, larger than any such file
    /// ([`KEPT_FILE_LIMIT`]), or whose figures cannot be ceilings ([`Ceilings::check`]).
    pub fn load(path: &Path) -> Result<Ceilings> {
        let text = crate::files::read_text(path, KEPT_FILE_LIMIT, "ceilings heatlib wrote")?;
        let refused = |message: String| HeatError::Read {
            path: path.display().to_string(),
            message,
        };
        let ceilings: Ceilings = serde_json::from_str(&text)
            .map_err(|e| refused(format!("not ceilings heatlib wrote: {e}")))?;
        ceilings.check().map_err(refused)?;
        Ok(ceilings)
    }

    /// Refuses figures no measurement gives: a bandwidth, a flop rate or a cache
    /// of zero, negative, infinite or NaN, and empty lists. Every prediction
    /// divides by them, so one bad figure would print a negative or NaN ceiling.
    pub fn check(&self) -> std::result::Result<(), String> {
        let positive = |name: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} is {value}, not a positive number"))
            }
        };
        if self.caches.is_empty() || self.bandwidth.is_empty() || self.flops.is_empty() {
            return Err("it has no caches, bandwidths or flop rates".into());
        }
        for cache in &self.caches {
            if cache.bytes == 0 || cache.shared_by == 0 {
                return Err(format!(
                    "the {} cache has a size or a sharing of 0",
                    cache.name()
                ));
            }
        }
        for b in &self.bandwidth {
            if b.working_set == 0 || b.threads == 0 {
                return Err("a bandwidth has a working set or a thread count of 0".into());
            }
            positive("a bandwidth (GB/s)", b.gb_per_s)?;
            positive("a bandwidth's slowest run (GB/s)", b.min_gb_per_s)?;
            positive("a bandwidth's fastest run (GB/s)", b.max_gb_per_s)?;
        }
        for f in &self.flops {
            if f.threads == 0 {
                return Err("a flop rate has a thread count of 0".into());
            }
            positive("a flop rate (Gflop/s)", f.gflops)?;
            positive("a flop rate's slowest run (Gflop/s)", f.min_gflops)?;
            positive("a flop rate's fastest run (Gflop/s)", f.max_gflops)?;
        }
        if let Some(device) = &self.device {
            positive("the device's bandwidth (GB/s)", device.gb_per_s)?;
            positive("the device's slowest run (GB/s)", device.min_gb_per_s)?;
            positive("the device's fastest run (GB/s)", device.max_gb_per_s)?;
        }
        Ok(())
    }

    /// Whether these ceilings were measured here, in today's format.
    fn is_of_this_machine(&self) -> bool {
        self.format == FORMAT
            && self.cpu == machine::cpu_model()
            && self.cores == machine::cores()
            && machine::caches().is_ok_and(|caches| caches == self.caches)
    }

    /// Writes them as JSON, whole or not at all.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| HeatError::File {
                path: folder.display().to_string(),
                message: e.to_string(),
            })?;
        }
        crate::files::write_text(path, &(self.to_json() + "\n"))
    }

    /// The ceilings as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Bandwidth, CacheLevel, FlopRate, Pattern};
    use super::*;
    use crate::files::ScratchFolder;

    fn plausible() -> Ceilings {
        Ceilings {
            format: FORMAT,
            measured_on: "2026-12-06".into(),
            cpu: "a test CPU".into(),
            cores: 2,
            caches: vec![CacheLevel {
                level: 1,
                bytes: 48 << 10,
                shared_by: 1,
            }],
            bandwidth: vec![Bandwidth {
                pattern: Pattern::ALL[0],
                working_set: 16 << 10,
                threads: 1,
                gb_per_s: 100.0,
                min_gb_per_s: 90.0,
                max_gb_per_s: 110.0,
            }],
            flops: vec![FlopRate {
                threads: 1,
                gflops: 50.0,
                min_gflops: 45.0,
                max_gflops: 55.0,
                fused: true,
            }],
            device: None,
            device_note: None,
        }
    }

    #[test]
    fn kept_figures_that_no_measurement_gives_are_refused_with_the_reason() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let path = folder.path().join("roofline.json");
        plausible().save(&path).expect("saved");
        assert_eq!(Ceilings::load(&path).expect("read back"), plausible());
        type Spoil = fn(&mut Ceilings);
        let spoil: [(&str, Spoil); 6] = [
            ("not a positive number", |c| c.bandwidth[0].gb_per_s = 0.0),
            ("not a positive number", |c| {
                c.bandwidth[0].min_gb_per_s = -208.0
            }),
            ("not a positive number", |c| c.flops[0].gflops = -1.0),
            ("no caches, bandwidths or flop rates", |c| {
                c.bandwidth.clear()
            }),
            ("no caches, bandwidths or flop rates", |c| c.flops.clear()),
            ("size or a sharing of 0", |c| c.caches[0].bytes = 0),
        ];
        for (says, spoil) in spoil {
            let mut ceilings = plausible();
            spoil(&mut ceilings);
            ceilings.save(&path).expect("saved");
            let error = Ceilings::load(&path).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
            assert!(error.starts_with("cannot read"), "{error}");
        }
        std::fs::write(&path, "{\"format\": 2}").expect("written");
        let error = Ceilings::load(&path).unwrap_err().to_string();
        assert!(error.contains("not ceilings heatlib wrote"), "{error}");
    }

    #[test]
    fn a_kept_file_that_is_no_file_or_too_large_is_refused_at_once() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let large = folder.path().join("large.json");
        std::fs::write(&large, vec![b' '; KEPT_FILE_LIMIT as usize + 1]).expect("written");
        for path in [Path::new("/dev/zero"), folder.path(), &large] {
            let started = Instant::now();
            assert!(Ceilings::load(path).is_err(), "{}", path.display());
            assert!(started.elapsed().as_secs() < 5, "{}", path.display());
        }
    }

    #[test]
    fn measuring_stops_at_its_deadline() {
        let error = Ceilings::measure_until(Some(Instant::now())).unwrap_err();
        assert!(
            matches!(error, HeatError::CeilingsOutOfTime { done: 0, probes } if probes > 0),
            "{error}"
        );
    }
}
