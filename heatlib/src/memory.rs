//! How much memory a run needs, how much the machine has, and how the big arrays are backed.
//!
//! Storage asks here before it allocates, so that a request that cannot fit
//! is refused with a message instead of killing the process (in a notebook,
//! that would lose the learner's variables).

use std::path::Path;

use ndarray::{Array2, Array3, ArrayView2};

use crate::error::{Bytes, HeatError, Result};

/// Bytes of `count` fields of `nx x nx` values (saturating: no machine has that many).
pub fn fields_bytes(count: u128, nx: usize) -> Bytes {
    let cells = (nx as u128).saturating_mul(nx as u128);
    Bytes(
        count
            .saturating_mul(cells)
            .saturating_mul(std::mem::size_of::<f64>() as u128),
    )
}

/// Refuses `needed` bytes for `what` when this process cannot take them
/// (where that is known), or when no array can be that large.
pub(crate) fn check_fits(what: &str, needed: Bytes, advice: &str) -> Result<()> {
    check_fits_in(what, needed, advice, available_memory())
}

fn check_fits_in(what: &str, needed: Bytes, advice: &str, available: Option<u64>) -> Result<()> {
    let limit = match available {
        Some(available) => (available as u128).min(isize::MAX as u128),
        None => isize::MAX as u128,
    };
    if needed.0 <= limit {
        return Ok(());
    }
    Err(HeatError::OutOfMemory {
        what: what.to_string(),
        needed,
        available: Bytes(limit),
        advice: advice.to_string(),
    })
}

/// A vector of `len` copies of `value`, or an error if the allocator cannot
/// give the memory: memory another program took after [`check_fits`] said
/// yes becomes a message, not an abort that ends the kernel.
pub(crate) fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut data = Vec::new();
    data.try_reserve_exact(len)
        .map_err(|_| HeatError::OutOfMemory {
            what: what.to_string(),
            needed: Bytes(len as u128 * std::mem::size_of::<T>() as u128),
            available: Bytes(available_memory().unwrap_or(0) as u128),
            advice: "the machine ran short while allocating; close other notebooks or \
                     programs, or ask for less"
                .to_string(),
        })?;
    // Before the first touch: pages are backed as they are first written.
    advise_huge_pages(data.spare_capacity_mut());
    data.resize(len, value);
    Ok(data)
}

/// The number of values of an array of this shape, or an error when no array can have it.
fn cells(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |product, &length| product.checked_mul(length))
        .ok_or_else(|| HeatError::OutOfMemory {
            what: format!("an array of shape {shape:?}"),
            needed: Bytes(u128::MAX),
            available: Bytes(isize::MAX as u128),
            advice: "use fewer nodes nx or fewer levels".to_string(),
        })
}

/// An `(rows, cols)` field of `value`s, allocated as [`try_filled`] does.
pub(crate) fn try_field(rows: usize, cols: usize, value: f64) -> Result<Array2<f64>> {
    let data = try_filled(cells(&[rows, cols])?, value, "a field")?;
    Ok(Array2::from_shape_vec((rows, cols), data).expect("rows * cols values make that shape"))
}

/// A `(levels, rows, cols)` array of zeros, allocated as [`try_filled`] does.
pub(crate) fn try_zeros3(levels: usize, rows: usize, cols: usize) -> Result<Array3<f64>> {
    let data = try_filled(cells(&[levels, rows, cols])?, 0.0, "the kept time levels")?;
    Ok(Array3::from_shape_vec((levels, rows, cols), data)
        .expect("levels * rows * cols values make that shape"))
}

/// A copy of `field`, allocated as [`try_filled`] does.
pub(crate) fn try_copy(field: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let (rows, cols) = field.dim();
    let mut copy = try_field(rows, cols, 0.0)?;
    copy.assign(&field);
    Ok(copy)
}

/// `levels` copies of `field`, allocated as [`try_filled`] does. Every page is
/// written here, before any clock starts, as NumPy's `np.full` does.
pub(crate) fn try_levels(levels: usize, field: ArrayView2<'_, f64>) -> Result<Array3<f64>> {
    let (rows, cols) = field.dim();
    let data = try_filled(cells(&[levels, rows, cols])?, 0.0, "the kept time levels")?;
    let mut copies = Array3::from_shape_vec((levels, rows, cols), data)
        .expect("levels * rows * cols values make that shape");
    for mut level in copies.outer_iter_mut() {
        level.assign(&field);
    }
    Ok(copies)
}

/// Bytes of the full history, `nt x nx x nx x 8` (saturating: no machine has that many).
pub fn history_bytes(nt: usize, nx: usize) -> Bytes {
    fields_bytes(nt as u128, nx)
}

/// Refuses a full history larger than `available` bytes (when that is known),
/// or larger than any array can be.
pub(crate) fn check_history_fits(nt: usize, nx: usize, available: Option<u64>) -> Result<()> {
    let needed = history_bytes(nt, nx);
    let addressable = needed.0 <= isize::MAX as u128;
    let refuse = |available: u128| {
        Err(HeatError::HistoryTooLarge {
            nt,
            nx,
            needed,
            available: Bytes(available),
        })
    };
    match available {
        Some(available) if needed.0 > available as u128 || !addressable => {
            refuse(available as u128)
        }
        None if !addressable => refuse(isize::MAX as u128),
        _ => Ok(()),
    }
}

/// Memory this process can still take: the smaller of the system's
/// `MemAvailable` and what the memory limits of its control groups leave
/// (cgroup v2 or v1, the process's own group and every group above it: a
/// container's `--memory`, a Hub's per-learner limit, a systemd slice);
/// `None` where neither is known.
pub fn available_memory() -> Option<u64> {
    let system = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| meminfo_available(&text));
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|membership| cgroup_headroom(Path::new("/sys/fs/cgroup"), &membership));
    match (system, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The least that any memory limit over this process leaves: for each group
/// it belongs to (`/proc/self/cgroup`'s lines, `0::/path` for cgroup v2,
/// `N:memory:/path` for v1) and each group above it up to `root`, the limit
/// less the usage. Inside a container the path may name the host's group,
/// which is not mounted there; the groups above it that are mounted (the
/// container's own, at the root) still count.
fn cgroup_headroom(root: &Path, membership: &str) -> Option<u64> {
    let mut least: Option<u64> = None;
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let (base, limit_file, usage_file) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        // A path with `..` names a group above this namespace's root: only the root is ours to read.
        let mut group = if path.split('/').any(|part| part == "..") {
            base.clone()
        } else {
            base.join(path.trim_start_matches('/'))
        };
        loop {
            let read = |file: &str| {
                std::fs::read_to_string(group.join(file))
                    .ok()
                    .and_then(|text| text.trim().parse::<u64>().ok())
            };
            // "max" (v2) does not parse: no limit at this level. The usage counts
            // the page cache, whose inactive part the kernel gives back before it
            // kills anything: the "working set" that container tools report.
            if let (Some(limit), Some(usage)) = (read(limit_file), read(usage_file)) {
                let reclaimable = std::fs::read_to_string(group.join("memory.stat"))
                    .ok()
                    .and_then(|stat| inactive_file(&stat))
                    .unwrap_or(0);
                let headroom = limit.saturating_sub(usage.saturating_sub(reclaimable));
                least = Some(least.map_or(headroom, |least| least.min(headroom)));
            }
            if group == base || !group.pop() || !group.starts_with(&base) {
                break;
            }
        }
    }
    least
}

/// The inactive page cache in a `memory.stat`: `inactive_file` (v2) or `total_inactive_file` (v1).
fn inactive_file(stat: &str) -> Option<u64> {
    let value = |key: &str| {
        stat.lines().find_map(|line| {
            line.strip_prefix(key)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
    };
    value("total_inactive_file").or_else(|| value("inactive_file"))
}

fn meminfo_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Asks Linux to back a large array with 2 MB pages where it can. The full
/// history of the large problem is 1.28 GB: with 4 KB pages, the first touch
/// of each page is a separate page fault (over 300,000 of them), which took
/// longer than the computation itself. Elsewhere this does nothing.
fn advise_huge_pages<T>(data: &mut [T]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available_in_bytes() {
        let text = "MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(meminfo_available(text), Some(2 * 1024 * 1024));
        assert_eq!(meminfo_available("MemTotal: 1 kB\n"), None);
    }

    /// A made-up /sys/fs/cgroup with one group's limit and usage in `files`.
    fn fake_cgroups(files: &[(&str, &str)]) -> crate::files::ScratchFolder {
        let root = crate::files::ScratchFolder::new("heatlib-test-cgroup").expect("a folder");
        for (path, value) in files {
            let file = root.path().join(path);
            std::fs::create_dir_all(file.parent().expect("a folder")).expect("made");
            std::fs::write(file, value).expect("written");
        }
        root
    }

    #[test]
    fn the_tightest_cgroup_limit_counts_v2_and_v1_nested() {
        const GB: u64 = 1_000_000_000;
        // v2: a learner's 2 GB limit two levels down, under a 10 GB slice.
        let v2 = fake_cgroups(&[
            ("memory.max", "max\n"),
            ("memory.current", "5000000000\n"),
            ("hub.slice/memory.max", "10000000000\n"),
            ("hub.slice/memory.current", "4000000000\n"),
            ("hub.slice/learner-7/memory.max", "2000000000\n"),
            ("hub.slice/learner-7/memory.current", "500000000\n"),
        ]);
        assert_eq!(
            cgroup_headroom(v2.path(), "0::/hub.slice/learner-7\n"),
            Some(3 * GB / 2)
        );
        // The slice is the tighter when it is nearly full.
        std::fs::write(v2.path().join("hub.slice/memory.current"), "9500000000").unwrap();
        assert_eq!(
            cgroup_headroom(v2.path(), "0::/hub.slice/learner-7"),
            Some(GB / 2)
        );
        // Inactive page cache (a history just written to disk) is given back first.
        std::fs::write(
            v2.path().join("hub.slice/memory.stat"),
            "anon 8000000000\ninactive_file 1000000000\nactive_file 3\n",
        )
        .unwrap();
        assert_eq!(
            cgroup_headroom(v2.path(), "0::/hub.slice/learner-7"),
            Some(3 * GB / 2)
        );
        // v1, as on a hybrid host: the memory controller's own hierarchy.
        let v1 = fake_cgroups(&[
            ("memory/memory.limit_in_bytes", "9223372036854771712"),
            ("memory/memory.usage_in_bytes", "7000000000"),
            ("memory/box/memory.limit_in_bytes", "2000000000"),
            ("memory/box/memory.usage_in_bytes", "1200000000"),
            (
                "memory/box/memory.stat",
                "cache 5\ninactive_file 9\ntotal_inactive_file 0\n",
            ),
        ]);
        let membership = "4:memory:/box\n3:cpuset:/\n0::/\n";
        assert_eq!(cgroup_headroom(v1.path(), membership), Some(800_000_000));
        // Inside a container: the host's path is not mounted; the root (the container's group) counts.
        let container = fake_cgroups(&[
            ("memory.max", "2000000000"),
            ("memory.current", "1500000000"),
        ]);
        assert_eq!(
            cgroup_headroom(container.path(), "0::/machine.slice/libpod-abc.scope"),
            Some(GB / 2)
        );
        // A group outside this cgroup namespace (`..`): never a file above the mount.
        assert_eq!(
            cgroup_headroom(container.path(), "0::/../../escape"),
            Some(GB / 2)
        );
        // No limit anywhere, or no memory controller: unknown.
        let none = fake_cgroups(&[("memory.max", "max"), ("memory.current", "1")]);
        assert_eq!(cgroup_headroom(none.path(), "0::/"), None);
        assert_eq!(cgroup_headroom(none.path(), "3:cpuset:/\n"), None);
    }

    #[test]
    fn a_request_beyond_available_memory_says_what_and_what_to_do() {
        let needed = fields_bytes(2, 60_000);
        assert_eq!(needed, Bytes(57_600_000_000));
        let error =
            check_fits_in("the run", needed, "use a smaller nx", Some(8_000_000_000)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the run needs 57.60 GB but only 8.00 GB is available; use a smaller nx"
        );
        assert_eq!(
            check_fits_in("the run", needed, "", Some(60_000_000_000)),
            Ok(())
        );
        assert!(check_fits_in("the run", Bytes(u128::MAX), "", None).is_err());
    }

    #[test]
    fn an_allocation_the_allocator_refuses_is_an_error() {
        let error = try_filled(usize::MAX / 8, 0.0_f64, "a huge field").unwrap_err();
        assert!(matches!(error, HeatError::OutOfMemory { .. }), "{error}");
        assert_eq!(
            try_field(2, 3, 1.5).unwrap(),
            Array2::from_elem((2, 3), 1.5)
        );
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
