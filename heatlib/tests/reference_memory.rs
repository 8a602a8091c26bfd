//! The reference's memory check counts what the reference allocates: a test
//! of its own, since it counts every allocation of the test process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use heatlib::{Problem, Storage, reference};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: the pointer came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `work`, above what was live before it.
fn peak_of<T>(work: impl FnOnce() -> T) -> (usize, T) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = work();
    (PEAK.load(Ordering::SeqCst) - before, result)
}

#[test]
fn the_memory_check_counts_what_the_reference_allocates() {
    for (nx, nt) in [(3, 100_000), (50, 200), (200, 20), (7, 1)] {
        let problem = Problem::small().with_size(nx, nt);
        for storage in [Storage::FullHistory, Storage::FinalField] {
            let counted = reference::bytes_needed(&problem, storage).0 as f64;
            let (peak, result) = peak_of(|| match storage {
                Storage::FullHistory => reference::history(&problem).map(|h| h.len()),
                _ => reference::final_field(&problem).map(|f| f.len()),
            });
            assert!(result.is_ok(), "nx {nx}, nt {nt}");
            let peak = peak as f64;
            // Never more than counted, but for the few KB the memory check itself
            // reads from /proc; the allocator's own bookkeeping is counted for
            // every row, so the count may be a little above the peak.
            const READING_PROC: f64 = 16384.0;
            assert!(
                peak <= counted + READING_PROC && counted <= 1.5 * peak,
                "nx {nx}, nt {nt}, {storage:?}: peak {peak} bytes, counted {counted}"
            );
        }
    }
}
