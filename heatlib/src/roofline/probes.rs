//! Small loops that measure what the machine can deliver: bytes per second
//! from each level of the memory hierarchy, and floating-point operations per second.
//!
//! Each probe runs on `threads` threads at once, each on its own share of the
//! working set (as `parallel`'s bands share a plate), with one untimed
//! warm-up run, then timed runs (median, fastest, slowest), as every
//! measurement in heatlib is made.
//!
//! Bytes are counted as a write-back cache with write-allocate (every
//! x86-64 CPU) moves them, which is also how the traffic model counts a
//! stage's bytes: a store first reads its cache line in ("read for
//! ownership"), then writes it back. So writing an element moves 16 bytes,
//! and copying one moves 24 (8 read, 8 read for ownership, 8 written back).
//! STREAM counts the same copy as 16 bytes, so its figures are 2/3 of these.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::timing::Timing;

/// How a bandwidth probe walks its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// Sum an array: 8 bytes in per element.
    Read,
    /// Fill an array: 16 bytes per element (read for ownership, written back),
    /// what the full history does to each new level.
    Write,
    /// `b[i] = s * a[i]`: read one array, write another, 24 bytes per element;
    /// a two-buffer time step's traffic when the rows it reads stay in cache.
    Copy,
}

impl Pattern {
    /// Every pattern, in the order tables show them.
    pub const ALL: [Pattern; 3] = [Pattern::Read, Pattern::Write, Pattern::Copy];

    /// Bytes moved per element, counted as a write-allocate cache moves them.
    pub fn bytes_per_element(self) -> f64 {
        match self {
            Pattern::Read => 8.0,
            Pattern::Write => 16.0,
            Pattern::Copy => 24.0,
        }
    }

    /// Arrays the pattern walks (each `working set / arrays` bytes long).
    fn arrays(self) -> usize {
        match self {
            Pattern::Read | Pattern::Write => 1,
            Pattern::Copy => 2,
        }
    }

    /// Its name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Read => "read",
            Pattern::Write => "write",
            Pattern::Copy => "copy",
        }
    }
}

/// Bytes each thread moves per timed run: long enough for a steady clock
/// (a few milliseconds from main memory), short enough for a quick sweep.
const BYTES_PER_RUN: f64 = 96.0 * 1024.0 * 1024.0;

/// An array of doubles that starts on a 64-byte cache line, so that every
/// SIMD load reads one whole line: a `Vec<f64>` starts wherever the allocator
/// puts it, and a 64-byte load that straddles two lines costs two (the same
/// probe measured 230 or 390 GB/s from L1, depending only on where its array
/// happened to start).
struct Aligned {
    storage: Vec<f64>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn filled(len: usize, value: f64) -> Aligned {
        let storage = vec![value; len + 8];
        // At most 7 doubles on; `align_offset` may only say "impossible" for
        // alignments a double cannot reach, which 64 bytes is not.
        let start = storage.as_ptr().align_offset(64).min(8);
        Aligned {
            storage,
            start,
            len,
        }
    }

    fn values(&self) -> &[f64] {
        &self.storage[self.start..][..self.len]
    }

    fn values_mut(&mut self) -> &mut [f64] {
        &mut self.storage[self.start..][..self.len]
    }
}

/// Seconds for each timed run of `pattern` over `working_set` bytes in all,
/// shared among `threads` threads; the first (warm-up) run is left out.
pub(super) fn bandwidth_runs(
    pattern: Pattern,
    working_set: u64,
    threads: usize,
    repeat: usize,
) -> Timing {
    let elements = elements_per_thread(pattern, working_set, threads);
    let bytes = elements as f64 * pattern.bytes_per_element();
    let passes = (BYTES_PER_RUN / bytes).ceil().max(1.0) as usize;
    let runs = on_threads(threads, repeat, || {
        let mut a = Aligned::filled(elements, 1.0);
        let mut b = Aligned::filled(
            if pattern == Pattern::Copy {
                elements
            } else {
                0
            },
            0.0,
        );
        move || {
            // Each pass differs from the one before (a value changed, a new
            // factor), so that no compiler can reuse one pass's work for the next.
            for pass in 0..passes {
                let value = pass as f64;
                match pattern {
                    Pattern::Read => {
                        black_box(sum(black_box(a.values())));
                        a.values_mut()[pass % elements] = value;
                    }
                    Pattern::Write => fill(black_box(a.values_mut()), value),
                    Pattern::Copy => scale(black_box(a.values()), black_box(b.values_mut()), value),
                }
            }
        }
    });
    // Seconds per pass, so that every probe's time is per working set walked once.
    Timing {
        runs: runs.into_iter().map(|s| s / passes as f64).collect(),
    }
}

/// Elements of each array a thread walks: whole cache lines.
fn elements_per_thread(pattern: Pattern, working_set: u64, threads: usize) -> usize {
    8 * (working_set as usize / threads / pattern.arrays() / 64).max(8)
}

/// Bytes moved by all threads together in one pass of `bandwidth_runs`.
pub(super) fn bytes_per_pass(pattern: Pattern, working_set: u64, threads: usize) -> f64 {
    (elements_per_thread(pattern, working_set, threads) * threads) as f64
        * pattern.bytes_per_element()
}

/// Sum with 32 independent accumulators, so that the additions' latency
/// overlaps and the loads set the pace (the compiler turns them into SIMD
/// adds). Never inlined, here or in the other probes: each is one loop
/// compiled on its own, the same in every build that links heatlib.
#[inline(never)]
fn sum(values: &[f64]) -> f64 {
    let mut partial = [0.0_f64; 32];
    let chunks = values.chunks_exact(32);
    let rest: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (p, v) in partial.iter_mut().zip(chunk) {
            *p += v;
        }
    }
    partial.iter().sum::<f64>() + rest
}

#[inline(never)]
fn fill(values: &mut [f64], value: f64) {
    for v in values {
        *v = value;
    }
}

// A multiply keeps the compiler from calling memcpy, whose large copies
// bypass the cache and would measure another traffic than a stage's.
#[inline(never)]
fn scale(from: &[f64], to: &mut [f64], factor: f64) {
    for (t, f) in to.iter_mut().zip(from) {
        *t = factor * f;
    }
}

/// Multiply-adds per timed run per thread.
const FLOP_ITERATIONS: usize = 2_000_000;
/// Independent multiply-add chains: enough to keep every FMA unit busy
/// through each instruction's latency, 8 AVX-512 registers of 8 doubles.
const CHAINS: usize = 64;

/// Seconds for each timed run of the multiply-add loop on `threads` threads,
/// and the floating-point operations each run does in all.
pub(super) fn flop_runs(threads: usize, repeat: usize) -> (Timing, f64) {
    let runs = on_threads(threads, repeat, || {
        || {
            let mut acc = black_box([1.0_f64; CHAINS]);
            let (m, a) = black_box((0.999_999, 1e-6));
            for _ in 0..FLOP_ITERATIONS {
                for x in &mut acc {
                    *x = multiply_add(*x, m, a);
                }
            }
            black_box(acc);
        }
    });
    let flops = (2 * CHAINS * FLOP_ITERATIONS * threads) as f64;
    (Timing { runs }, flops)
}

/// `x * m + a`: one fused instruction where the CPU has FMA (heatlib is built
/// for the machine's own CPU); without it, `mul_add` would be a slow library
/// call, so a multiply and an add are used instead, the same 2 flops.
#[inline(always)]
fn multiply_add(x: f64, m: f64, a: f64) -> f64 {
    #[cfg(target_feature = "fma")]
    {
        x.mul_add(m, a)
    }
    #[cfg(not(target_feature = "fma"))]
    {
        x * m + a
    }
}

/// Whether the multiply-add probe used fused multiply-add instructions.
pub(super) const FUSED: bool = cfg!(target_feature = "fma");

/// Runs `work` (made on each thread by `make`, so its memory is that thread's)
/// on `threads` threads at once: one warm-up, then `repeat` runs, each timed
/// from a common start until the last thread is done.
fn on_threads<W: FnMut()>(threads: usize, repeat: usize, make: impl Fn() -> W + Sync) -> Vec<f64> {
    let start_line = Barrier::new(threads);
    let finish_line = Barrier::new(threads);
    std::thread::scope(|scope| {
        let runners: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut work = make();
                    let mut seconds = Vec::with_capacity(repeat);
                    for run in 0..=repeat {
                        start_line.wait();
                        let start = Instant::now();
                        work();
                        finish_line.wait();
                        if run > 0 {
                            seconds.push(start.elapsed().as_secs_f64());
                        }
                    }
                    seconds
                })
            })
            .collect();
        // Each thread's clock runs from the common start to the common finish;
        // thread 0's is as good as any.
        let mut all: Vec<Vec<f64>> = runners
            .into_iter()
            .map(|runner| runner.join().unwrap_or_default())
            .collect();
        all.swap_remove(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probes_compute_what_they_say() {
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(sum(&values), 499_500.0);
        let mut out = vec![0.0; 1000];
        scale(&values, &mut out, 0.5);
        assert_eq!(out[999], 499.5);
        fill(&mut out, 2.0);
        assert!(out.iter().all(|&v| v == 2.0));
    }

    #[test]
    fn aligned_arrays_start_on_a_cache_line() {
        for len in [0, 1, 7, 1000] {
            let mut array = Aligned::filled(len, 3.0);
            assert_eq!(array.values().len(), len);
            assert_eq!(array.values_mut().as_ptr() as usize % 64, 0);
            assert!(array.values().iter().all(|&v| v == 3.0));
        }
    }

    #[test]
    fn every_probe_returns_one_time_per_run() {
        let timing = bandwidth_runs(Pattern::Copy, 64 * 1024, 2, 3);
        assert_eq!(timing.runs.len(), 3);
        assert!(timing.runs.iter().all(|&s| s > 0.0 && s.is_finite()));
    }
}
