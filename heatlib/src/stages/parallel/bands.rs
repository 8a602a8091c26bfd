//! The machinery of a banded run: the plate's interior rows shared out in
//! bands, one per thread of the pool, each thread on a core of its own; the
//! rows each band hands its neighbours after every step (the halos); the
//! barrier where all bands meet; and a panic or the time budget stopping
//! every band at once. What a band computes is the stage's (`parallel.rs`).

use std::ops::{ControlFlow, Range};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, s};

use super::barrier::SpinBarrier;
use super::cores::Cores;
use crate::error::{HeatError, Result};
use crate::memory::try_copy;
use crate::problem::Problem;
use crate::solution::Solution;
use crate::storage::{BandBuffers, RunBuffers};

/// What a band calls after each level: `(level, its rows of that level, its halo
/// row below, its halo row above)`. It publishes the band's first and last rows,
/// waits for every band, fills the halo rows from the neighbours', and breaks
/// off when the run is out of time.
pub(super) type Exchange<'e> = dyn FnMut(
        usize,
        ArrayView2<'_, f64>,
        ArrayViewMut1<'_, f64>,
        ArrayViewMut1<'_, f64>,
    ) -> ControlFlow<()>
    + 'e;

/// What a band calls once its own fields are made, before its first step: it
/// waits for every band, so that the run's set-up ends when the last band's does.
pub(super) type Ready<'r> = dyn Fn() + Sync + 'r;

/// The threads, bands, halos and barrier around `march`, which marches one band.
/// The time the bands take to make their own fields (until each has called
/// `ready`) is the solution's [`Solution::setup_s`], which timings leave out.
pub(super) fn in_bands(
    problem: &Problem,
    mut buffers: RunBuffers,
    march: impl Fn(
        ArrayView2<'_, f64>,
        Range<usize>,
        BandBuffers<'_>,
        &mut Exchange<'_>,
        &Ready<'_>,
    ) -> Result<Array2<f64>>
    + Sync,
) -> Result<Solution> {
    let entered = Instant::now();
    let bands = bands_of_rows(problem.nx, rayon::current_num_threads());
    let mut plate = try_copy(buffers.initial_field())?;
    let clock = buffers.start_clock(problem.nt);
    // Each thread takes its band's buffers out of its slot; a Mutex makes the hand-over safe.
    let band_buffers: Vec<Mutex<Option<BandBuffers<'_>>>> = buffers
        .split_rows(&bands)
        .into_iter()
        .map(|band_buffer| Mutex::new(Some(band_buffer)))
        .collect();
    let halos: Vec<Mutex<Halos>> = bands.iter().map(|_| Mutex::default()).collect();
    let barrier = SpinBarrier::new(bands.len());
    let cores = Cores::new(bands.len());
    // Band 0 watches the time budget and names the level to stop at; every band
    // reads it after that level's barrier, so all stop at the same level (a plain
    // "stop now" flag could be read a level early by one band and late by another).
    let out_of_time: Mutex<Option<HeatError>> = Mutex::new(None);
    let stop_at = AtomicUsize::new(usize::MAX);
    // A band whose step panics stops here instead of taking the kernel down
    // with it; it breaks the barrier so that the other bands stop too.
    let panicked: Mutex<Option<HeatError>> = Mutex::new(None);
    // When the last band had its fields made: band 0 notes it after the barrier.
    let set_up: Mutex<Option<Instant>> = Mutex::new(None);
    let initial = plate.view();
    // `broadcast` runs the closure once on every thread of the pool, all at
    // once, which the barrier needs; threads beyond the number of bands idle.
    let final_rows = rayon::broadcast(|context| {
        let band = context.index();
        let rows = bands.get(band)?.clone();
        let band_buffer = band_buffers[band]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        let _on_its_core = cores.stay(band, &barrier);
        let level_reached = AtomicUsize::new(0);
        let mut exchange = |level: usize,
                            own: ArrayView2<'_, f64>,
                            mut below: ArrayViewMut1<'_, f64>,
                            mut above: ArrayViewMut1<'_, f64>| {
            level_reached.store(level, Ordering::Relaxed);
            if band == 0
                && let Err(error) = clock.check(level)
            {
                *out_of_time.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                stop_at.store(level, Ordering::Relaxed);
            }
            halos[band]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .publish(level, own.row(0), own.row(own.nrows() - 1));
            // The barrier's release and acquire also carry `stop_at` to every band.
            if barrier.wait().is_err() || stop_at.load(Ordering::Relaxed) <= level {
                return ControlFlow::Break(());
            }
            if let Some(neighbour) = band.checked_sub(1) {
                let neighbour = halos[neighbour]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                below.assign(&neighbour.top(level));
            }
            if let Some(neighbour) = halos.get(band + 1) {
                let neighbour = neighbour.lock().unwrap_or_else(PoisonError::into_inner);
                above.assign(&neighbour.bottom(level));
            }
            ControlFlow::Continue(())
        };
        let ready = || {
            if barrier.wait().is_ok() && band == 0 {
                *set_up.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            }
        };
        let marched = catch_unwind(AssertUnwindSafe(|| {
            march(initial, rows.clone(), band_buffer, &mut exchange, &ready)
        }));
        match marched {
            Ok(values) => {
                // A band that stops with an error (memory refused) must not leave the others
                // waiting for it at the barrier.
                if values.is_err() {
                    barrier.break_off();
                }
                Some(values)
            }
            Err(payload) => {
                barrier.break_off();
                let error = HeatError::StepPanicked {
                    message: crate::error::panic_message(payload.as_ref()),
                    rows: format!("{}..{}", rows.start, rows.end),
                    level: level_reached.load(Ordering::Relaxed) + 1,
                };
                panicked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(error);
                None
            }
        }
    });
    for error in [panicked, out_of_time] {
        if let Some(error) = error.into_inner().unwrap_or_else(PoisonError::into_inner) {
            return Err(error);
        }
    }
    for (rows, values) in bands.iter().zip(final_rows) {
        let values = values.expect(
            "thread k of the pool marches band k, and there are no more bands than threads",
        )?;
        plate.slice_mut(s![rows.clone(), ..]).assign(&values);
    }
    let mut solution = buffers.into_solution(plate, bands.len())?;
    if let Some(set_up) = set_up.into_inner().unwrap_or_else(PoisonError::into_inner) {
        solution.setup_s = (set_up - entered).as_secs_f64();
    }
    Ok(solution)
}

/// Splits the plate's interior rows `1..nx-1` into at most `threads` bands of near-equal size.
pub(crate) fn bands_of_rows(nx: usize, threads: usize) -> Vec<Range<usize>> {
    let interior = nx - 2;
    let count = threads.clamp(1, interior);
    (0..count)
        .map(|band| 1 + band * interior / count..1 + (band + 1) * interior / count)
        .collect()
}

/// A band's first and last rows after a step, for its neighbours. Two copies
/// (even and odd steps), so that a band that finishes step k+1 early does not
/// overwrite rows a slower neighbour is still reading for step k.
#[derive(Default)]
struct Halos {
    bottom: [Vec<f64>; 2],
    top: [Vec<f64>; 2],
}

impl Halos {
    fn publish(&mut self, step: usize, bottom: ArrayView1<'_, f64>, top: ArrayView1<'_, f64>) {
        let parity = step % 2;
        for (slot, row) in [
            (&mut self.bottom[parity], bottom),
            (&mut self.top[parity], top),
        ] {
            slot.clear();
            slot.extend(row.iter());
        }
    }

    fn bottom(&self, step: usize) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.bottom[step % 2])
    }

    fn top(&self, step: usize) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.top[step % 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_interior_once() {
        for nx in [3, 4, 5, 50, 201] {
            for threads in [1, 2, 3, 7, 64, 1000] {
                let bands = bands_of_rows(nx, threads);
                assert!(bands.len() <= threads && !bands.is_empty());
                assert_eq!(bands[0].start, 1);
                assert_eq!(bands.last().map(|b| b.end), Some(nx - 1));
                for pair in bands.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                    assert!(!pair[0].is_empty());
                }
            }
        }
    }
}
