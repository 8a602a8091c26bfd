//! What the operating system says about this machine: its CPU, its cores and its caches.
//!
//! Linux describes each cache of CPU 0 in
//! `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size,shared_cpu_list}`;
//! the CPU's name is the `model name` line of `/proc/cpuinfo`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{HeatError, Result};

/// One level of data cache, as the operating system describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheLevel {
    /// 1 for L1, 2 for L2, ...
    pub level: u8,
    /// Its size in bytes, for one instance of it.
    pub bytes: u64,
    /// How many of the machine's CPUs share one instance (1: each core has its own).
    pub shared_by: usize,
}

impl CacheLevel {
    /// "L1", "L2", ...
    pub fn name(&self) -> String {
        format!("L{}", self.level)
    }
}

/// The data caches of CPU 0, smallest level first (instruction caches left out).
pub(super) fn caches() -> Result<Vec<CacheLevel>> {
    caches_in(Path::new("/sys/devices/system/cpu/cpu0/cache"))
}

fn caches_in(folder: &Path) -> Result<Vec<CacheLevel>> {
    let unknown = |why: String| HeatError::MachineUnknown {
        what: "the cache sizes".into(),
        why,
    };
    let entries = std::fs::read_dir(folder).map_err(|e| {
        unknown(format!(
            "{} cannot be read ({e}); only Linux describes its caches there",
            folder.display()
        ))
    })?;
    let mut levels = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if read("type").trim() == "Instruction" {
            continue;
        }
        let (Ok(level), Some(bytes)) = (read("level").trim().parse(), parse_size(&read("size")))
        else {
            continue;
        };
        let shared_by = count_cpus(&read("shared_cpu_list")).max(1);
        levels.push(CacheLevel {
            level,
            bytes,
            shared_by,
        });
    }
    levels.sort_by_key(|cache| cache.level);
    levels.dedup_by_key(|cache| cache.level);
    if levels.is_empty() {
        return Err(unknown(format!("{} lists no data cache", folder.display())));
    }
    Ok(levels)
}

/// "48K", "1024K", "32M" as sysfs writes them.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let scale = match unit.trim() {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// How many CPUs a list such as "0-3,8,10-11" names.
fn count_cpus(list: &str) -> usize {
    list.trim()
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(part.parse::<usize>().is_ok()),
        })
        .sum()
}

/// The CPU's name as the OS gives it, or "unknown CPU".
pub(super) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The cores this process may run on.
pub(super) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Today's date as YYYY-MM-DD (UTC), from the system clock.
pub(super) fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cpu_lists_read_as_sysfs_writes_them() {
        assert_eq!(parse_size("48K\n"), Some(48 * 1024));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(count_cpus("0-3,8,10-11\n"), 7);
        assert_eq!(count_cpus("0"), 1);
    }

    #[test]
    fn a_folder_without_caches_is_a_clear_error() {
        let error = caches_in(Path::new("/nonexistent/cache")).unwrap_err();
        assert!(error.to_string().contains("only Linux"), "{error}");
    }

    #[test]
    fn the_date_is_a_plausible_calendar_date() {
        let date = today();
        let parts: Vec<u32> = date.split('-').map(|p| p.parse().unwrap()).collect();
        assert!(parts[0] >= 2024 && (1..=12).contains(&parts[1]) && (1..=31).contains(&parts[2]));
    }
}
