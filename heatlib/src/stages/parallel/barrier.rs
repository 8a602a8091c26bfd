//! Where the bands' threads wait for each other after every time level.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Threads wait here until all have arrived. Spinning (rather than sleeping)
/// keeps the wait to well under a microsecond when every thread has a core;
/// it yields the core after a while in case there are more threads than cores.
///
/// A thread that will never arrive (its band's step panicked) breaks the
/// barrier: every wait then returns [`Broken`] at once, so the other bands
/// stop instead of spinning for ever.
pub(super) struct SpinBarrier {
    parties: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    broken: AtomicBool,
}

/// The barrier was broken: one of its threads will never arrive.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Broken;

impl SpinBarrier {
    pub(super) fn new(parties: usize) -> SpinBarrier {
        SpinBarrier {
            parties,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            broken: AtomicBool::new(false),
        }
    }

    /// Returns once every party has called `wait` for this round, or
    /// [`Broken`] as soon as the barrier is broken.
    pub(super) fn wait(&self) -> Result<(), Broken> {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.parties {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return self.check();
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            self.check()?;
            if spins < 10_000 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
        self.check()
    }

    /// Releases every thread waiting now or later: one party will never arrive.
    pub(super) fn break_off(&self) {
        self.broken.store(true, Ordering::Release);
    }

    fn check(&self) -> Result<(), Broken> {
        if self.broken.load(Ordering::Acquire) {
            Err(Broken)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn barrier_holds_threads_together() {
        let barrier = SpinBarrier::new(3);
        let counter = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    for round in 1..=100 {
                        counter.fetch_add(1, Ordering::SeqCst);
                        assert_eq!(barrier.wait(), Ok(()));
                        assert!(counter.load(Ordering::SeqCst) >= 3 * round);
                        assert_eq!(barrier.wait(), Ok(()));
                    }
                });
            }
        });
        assert_eq!(counter.into_inner(), 300);
    }

    #[test]
    fn a_broken_barrier_releases_the_waiting_threads() {
        let barrier = SpinBarrier::new(3);
        let start = Instant::now();
        std::thread::scope(|scope| {
            let waiters: Vec<_> = (0..2).map(|_| scope.spawn(|| barrier.wait())).collect();
            std::thread::sleep(Duration::from_millis(50));
            barrier.break_off();
            for waiter in waiters {
                assert_eq!(waiter.join().expect("a waiter returns"), Err(Broken));
            }
        });
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(barrier.wait(), Err(Broken), "later waits return at once");
    }
}
