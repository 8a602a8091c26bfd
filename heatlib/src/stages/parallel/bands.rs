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
use crate::storage::{BandBuffers, Deadline, RunBuffers};

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

/// What marches one band: `(the initial plate, the band's rows, its buffers, exchange, ready)`,
/// returning the band's rows of the final level.
pub(super) type MarchBand<'m> = dyn Fn(
        ArrayView2<'_, f64>,
        Range<usize>,
        BandBuffers<'_>,
        &mut Exchange<'_>,
        &Ready<'_>,
    ) -> Result<Array2<f64>>
    + Sync
    + 'm;

/// The threads, bands, halos and barrier around `march`, which marches one band.
/// The time the bands take to make their own fields (until each has called
/// `ready`) is the solution's [`Solution::setup_s`], which timings leave out.
pub(super) fn march_each_band(
    problem: &Problem,
    mut buffers: RunBuffers,
    march: &MarchBand<'_>,
) -> Result<Solution> {
    let entered = Instant::now();
    let bands = bands_of_rows(problem.nx, rayon::current_num_threads());
    let mut plate = try_copy(buffers.initial_field())?;
    let meeting = Meeting::new(bands.len(), buffers.start_clock(problem.nt));
    // Each thread takes its band's buffers out of its slot; a Mutex makes the hand-over safe.
    let band_buffers: Vec<Mutex<Option<BandBuffers<'_>>>> = buffers
        .split_rows(&bands)
        .into_iter()
        .map(|band_buffer| Mutex::new(Some(band_buffer)))
        .collect();
    let cores = Cores::new(bands.len());
    let initial = plate.view();
    // `broadcast` runs the closure once on every thread of the pool, all at
    // once, which the barrier needs; threads beyond the number of bands idle.
    let final_rows = rayon::broadcast(|context| {
        let band = context.index();
        let rows = bands.get(band)?.clone();
        let band_buffer = lock(&band_buffers[band]).take()?;
        let _on_its_core = cores.stay(band, &meeting.barrier);
        let mut exchange = |level: usize,
                            own: ArrayView2<'_, f64>,
                            below: ArrayViewMut1<'_, f64>,
                            above: ArrayViewMut1<'_, f64>| {
            meeting.exchange(band, level, own, below, above)
        };
        let ready = || meeting.ready(band);
        meeting.march_band(band, rows.clone(), || {
            march(initial, rows, band_buffer, &mut exchange, &ready)
        })
    });
    let set_up = meeting.outcome()?;
    for (rows, values) in bands.iter().zip(final_rows) {
        let values = values.expect(
            "thread k of the pool marches band k, and there are no more bands than threads",
        )?;
        plate.slice_mut(s![rows.clone(), ..]).assign(&values);
    }
    let mut solution = buffers.into_solution(plate, bands.len())?;
    if let Some(set_up) = set_up {
        solution.setup_s = (set_up - entered).as_secs_f64();
    }
    Ok(solution)
}

/// What the bands share while they march: the rows they hand each other, the barrier
/// where they meet, and how the run ends (the level to stop at, a band's panic, when
/// the last band had its fields made).
struct Meeting {
    halos: Vec<Mutex<Halos>>,
    barrier: SpinBarrier,
    clock: Deadline,
    // Band 0 watches the time budget and names the level to stop at; every band
    // reads it after that level's barrier, so all stop at the same level (a plain
    // "stop now" flag could be read a level early by one band and late by another).
    out_of_time: Mutex<Option<HeatError>>,
    stop_at: AtomicUsize,
    // A band whose step panics stops here instead of taking the kernel down
    // with it; it breaks the barrier so that the other bands stop too.
    panicked: Mutex<Option<HeatError>>,
    // The level each band reached, to say where a panic happened.
    reached: Vec<AtomicUsize>,
    // When the last band had its fields made: band 0 notes it after the barrier.
    set_up: Mutex<Option<Instant>>,
}

impl Meeting {
    fn new(bands: usize, clock: Deadline) -> Meeting {
        Meeting {
            halos: (0..bands).map(|_| Mutex::default()).collect(),
            barrier: SpinBarrier::new(bands),
            clock,
            out_of_time: Mutex::new(None),
            stop_at: AtomicUsize::new(usize::MAX),
            panicked: Mutex::new(None),
            reached: (0..bands).map(|_| AtomicUsize::new(0)).collect(),
            set_up: Mutex::new(None),
        }
    }

    /// Runs `march` for band `band`; a panic or an error in it breaks the barrier, so
    /// that no other band waits for it, and a panic becomes the run's error.
    fn march_band(
        &self,
        band: usize,
        rows: Range<usize>,
        march: impl FnOnce() -> Result<Array2<f64>>,
    ) -> Option<Result<Array2<f64>>> {
        match catch_unwind(AssertUnwindSafe(march)) {
            Ok(values) => {
                if values.is_err() {
                    self.barrier.break_off();
                }
                Some(values)
            }
            Err(payload) => {
                self.barrier.break_off();
                let error = HeatError::StepPanicked {
                    message: crate::error::panic_message(payload.as_ref()),
                    rows: format!("{}..{}", rows.start, rows.end),
                    level: self.reached[band].load(Ordering::Relaxed) + 1,
                };
                lock(&self.panicked).get_or_insert(error);
                None
            }
        }
    }

    /// After `level`: publishes the band's edge rows, waits for every band, fills the
    /// halo rows from the neighbours' edges; breaks off when the run stops.
    fn exchange(
        &self,
        band: usize,
        level: usize,
        own: ArrayView2<'_, f64>,
        mut below: ArrayViewMut1<'_, f64>,
        mut above: ArrayViewMut1<'_, f64>,
    ) -> ControlFlow<()> {
        self.reached[band].store(level, Ordering::Relaxed);
        if band == 0
            && let Err(error) = self.clock.check(level)
        {
            *lock(&self.out_of_time) = Some(error);
            self.stop_at.store(level, Ordering::Relaxed);
        }
        lock(&self.halos[band]).publish(level, own.row(0), own.row(own.nrows() - 1));
        // The barrier's release and acquire also carry `stop_at` to every band.
        if self.barrier.wait().is_err() || self.stop_at.load(Ordering::Relaxed) <= level {
            return ControlFlow::Break(());
        }
        if let Some(neighbour) = band.checked_sub(1) {
            below.assign(&lock(&self.halos[neighbour]).top(level));
        }
        if let Some(neighbour) = self.halos.get(band + 1) {
            above.assign(&lock(neighbour).bottom(level));
        }
        ControlFlow::Continue(())
    }

    /// Band `band` has made its fields: waits for every band; band 0 notes the time.
    fn ready(&self, band: usize) {
        if self.barrier.wait().is_ok() && band == 0 {
            *lock(&self.set_up) = Some(Instant::now());
        }
    }

    /// How the run ended: a band's panic, else running out of time, as the error;
    /// otherwise when the last band had its fields made.
    fn outcome(self) -> Result<Option<Instant>> {
        for error in [self.panicked, self.out_of_time] {
            if let Some(error) = error.into_inner().unwrap_or_else(PoisonError::into_inner) {
                return Err(error);
            }
        }
        Ok(self
            .set_up
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner))
    }
}

/// The value behind a mutex, even if a band panicked while holding it (each
/// holds it only to copy rows or note an error, which leaves it whole).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
