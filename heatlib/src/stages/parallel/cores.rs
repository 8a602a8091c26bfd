//! Keeping each band's thread on one core (Linux; elsewhere nothing is done).

use std::sync::atomic::{AtomicI32, Ordering};

use super::barrier::SpinBarrier;

/// Where each band's thread runs. A thread that the system moves to another
/// core leaves its band's rows in the old core's cache, and every other band
/// waits at the next barrier while it fetches them again (docs/stages.md has
/// the figures: kept on their cores, the bands ran faster and steadier, and
/// about twice as fast beside a program busy on one core).
///
/// So each band's thread stays on one core for the run, and is free again when
/// its band is done. With as many bands as cores to run on (a laptop's cores,
/// or a container's), band k takes the k-th core. With more cores than bands,
/// a thread keeps the core the system chose for it, when no other band's thread
/// is on it: fixed cores there could put two programs' threads on the same ones.
pub(super) struct Cores {
    at_start: Vec<AtomicI32>,
}

impl Cores {
    pub(super) fn new(bands: usize) -> Cores {
        Cores {
            at_start: (0..bands).map(|_| AtomicI32::new(-1)).collect(),
        }
    }

    /// Called by every band's thread before its first level (it waits for the
    /// others); the thread stays on its core until the returned guard is dropped.
    pub(super) fn stay(&self, band: usize, barrier: &SpinBarrier) -> Option<OnOneCore> {
        let core = OnOneCore::current_core();
        self.at_start[band].store(core.unwrap_or(-1), Ordering::Relaxed);
        barrier.wait().ok()?;
        let allowed = OnOneCore::allowed_cores()?;
        if allowed.len() == self.at_start.len() {
            return OnOneCore::pin(allowed[band]);
        }
        let core = core?;
        let shared = self
            .at_start
            .iter()
            .enumerate()
            .any(|(other, at)| other != band && at.load(Ordering::Relaxed) == core);
        if shared { None } else { OnOneCore::pin(core) }
    }
}

/// The calling thread kept on one core; dropping it restores the cores it could run on before.
pub(super) struct OnOneCore {
    #[cfg(target_os = "linux")]
    allowed_before: libc::cpu_set_t,
}

#[cfg(target_os = "linux")]
impl OnOneCore {
    fn current_core() -> Option<i32> {
        // SAFETY: sched_getcpu takes no arguments and only reads the calling thread's state.
        let core = unsafe { libc::sched_getcpu() };
        (core >= 0).then_some(core)
    }

    /// The cores the calling thread may run on.
    fn allowed() -> Option<libc::cpu_set_t> {
        // SAFETY: cpu_set_t is a plain bit set, valid when zeroed; the call writes
        // only the set we pass, for the calling thread (pid 0).
        unsafe {
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            (libc::sched_getaffinity(0, size, &mut allowed) == 0).then_some(allowed)
        }
    }

    pub(super) fn allowed_cores() -> Option<Vec<i32>> {
        let allowed = OnOneCore::allowed()?;
        let cores = (0..libc::CPU_SETSIZE)
            // SAFETY: CPU_ISSET reads one bit of the set, inside CPU_SETSIZE.
            .filter(|&core| unsafe { libc::CPU_ISSET(core as usize, &allowed) })
            .collect();
        Some(cores)
    }

    fn pin(core: i32) -> Option<OnOneCore> {
        let allowed_before = OnOneCore::allowed()?;
        // SAFETY: as in `allowed`; CPU_SET writes one bit of our own set.
        unsafe {
            let mut only: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(usize::try_from(core).ok()?, &mut only);
            let size = std::mem::size_of::<libc::cpu_set_t>();
            (libc::sched_setaffinity(0, size, &only) == 0).then_some(OnOneCore { allowed_before })
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl OnOneCore {
    fn current_core() -> Option<i32> {
        None
    }

    pub(super) fn allowed_cores() -> Option<Vec<i32>> {
        None
    }

    fn pin(_core: i32) -> Option<OnOneCore> {
        None
    }
}

impl Drop for OnOneCore {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        // SAFETY: restores the set saved by `pin`, for the calling thread: the guard
        // lives on the stack of the thread that made it.
        unsafe {
            let size = std::mem::size_of::<libc::cpu_set_t>();
            libc::sched_setaffinity(0, size, &self.allowed_before);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn each_band_stays_on_one_core_and_is_free_again_after() {
        let bands = 2;
        let cores = Cores::new(bands);
        let barrier = SpinBarrier::new(bands);
        let before = OnOneCore::allowed_cores();
        std::thread::scope(|scope| {
            for band in 0..bands {
                let (cores, barrier, before) = (&cores, &barrier, &before);
                scope.spawn(move || {
                    let stay = cores.stay(band, barrier);
                    if stay.is_some() {
                        assert_eq!(OnOneCore::allowed_cores().map(|c| c.len()), Some(1));
                    }
                    drop(stay);
                    assert_eq!(&OnOneCore::allowed_cores(), before);
                });
            }
        });
    }
}
