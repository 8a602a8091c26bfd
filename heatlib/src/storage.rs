//! What a run keeps beside its two working fields: the full history, or snapshots.
//!
//! The time loop needs only two fields that take turns. Everything else a
//! caller asked to keep is allocated here once, before the loop starts, so
//! that allocating is never timed and a request too large for the machine is
//! refused before anything runs.

use std::ops::Range;

use ndarray::{
    Array2, Array3, ArrayBase, ArrayView2, ArrayViewMut3, Axis, DataMut, Ix3, OwnedRepr, RawData,
    ViewRepr,
};

use crate::error::Result;
use crate::memory::{advise_huge_pages, available_memory, check_history_fits};
use crate::options::{RunOptions, Storage};
use crate::problem::Problem;
use crate::solution::{Snapshot, Solution};

/// The time levels a run keeps. Generic over who owns the memory: a [`Record`]
/// owns it; a [`RowRecord`] borrows a band of its rows, so that threads
/// working on different bands of the plate can each keep their own rows.
pub(crate) struct Levels<S: RawData<Elem = f64>> {
    /// Every level, `(nt, rows, nx)`, when the full history was asked for.
    history: Option<ArrayBase<S, Ix3>>,
    /// The snapshot levels, `(snapshots, rows, nx)`; none unless asked for.
    snapshots: ArrayBase<S, Ix3>,
    plan: SnapshotPlan,
    snapshots_taken: usize,
}

/// The levels of a whole run.
pub(crate) type Record = Levels<OwnedRepr<f64>>;

/// The levels of one band of rows, borrowed from a [`Record`].
pub(crate) type RowRecord<'a> = Levels<ViewRepr<&'a mut f64>>;

/// Which levels become snapshots: every `every`-th, and the last.
#[derive(Debug, Clone, Copy)]
struct SnapshotPlan {
    every: Option<usize>,
    last: usize,
}

impl SnapshotPlan {
    fn takes(self, level: usize) -> bool {
        self.every
            .is_some_and(|every| level.is_multiple_of(every) || level == self.last)
    }

    fn levels(self) -> impl Iterator<Item = usize> {
        (0..=self.last).filter(move |&level| self.takes(level))
    }
}

impl Record {
    /// Checks `problem` and `options`, then allocates what the run keeps.
    pub(crate) fn prepare(problem: &Problem, options: &RunOptions) -> Result<Record> {
        problem.validate()?;
        options.validate()?;
        if options.storage == Storage::FullHistory {
            check_history_fits(problem.nt, problem.nx, available_memory())?;
        }
        Ok(Record::allocate(problem, options.storage))
    }

    fn allocate(problem: &Problem, storage: Storage) -> Record {
        let (nt, nx) = (problem.nt, problem.nx);
        let plan = SnapshotPlan {
            every: match storage {
                Storage::Snapshots { every } => Some(every),
                _ => None,
            },
            last: nt - 1,
        };
        // The edge rows are written here, once: a band of rows keeps only its own rows.
        let with_edges = |levels: usize| {
            let mut levels = Array3::<f64>::zeros((levels, nx, nx));
            if let Some(data) = levels.as_slice_mut() {
                advise_huge_pages(data);
            }
            let initial = problem.initial_field();
            for edge in [0, nx - 1] {
                levels
                    .index_axis_mut(Axis(1), edge)
                    .assign(&initial.row(edge));
            }
            levels
        };
        Levels {
            history: (storage == Storage::FullHistory).then(|| with_edges(nt)),
            snapshots: with_edges(plan.levels().count()),
            plan,
            snapshots_taken: 0,
        }
    }

    /// One record per band of plate rows, each borrowing those rows of every kept level.
    pub(crate) fn split_rows(&mut self, bands: &[Range<usize>]) -> Vec<RowRecord<'_>> {
        let plan = self.plan;
        let mut history = self
            .history
            .as_mut()
            .map(|history| split_rows(history.view_mut(), bands).into_iter());
        split_rows(self.snapshots.view_mut(), bands)
            .into_iter()
            .map(|snapshots| Levels {
                history: history.as_mut().and_then(Iterator::next),
                snapshots,
                plan,
                snapshots_taken: 0,
            })
            .collect()
    }

    /// The solution: the final field the loop ended with, and the kept levels.
    pub(crate) fn into_solution(self, final_field: Array2<f64>, threads: usize) -> Solution {
        let snapshots = self
            .plan
            .levels()
            .zip(self.snapshots.outer_iter())
            .map(|(step, field)| Snapshot {
                step,
                field: field.to_owned(),
            })
            .collect();
        Solution {
            final_field,
            history: self.history,
            snapshots,
            threads,
            device: None,
        }
    }
}

impl<S: DataMut<Elem = f64>> Levels<S> {
    /// Whether `level` is to be kept (a device copies back only those).
    #[cfg(feature = "opencl")]
    pub(crate) fn wants(&self, level: usize) -> bool {
        self.history.is_some() || self.plan.takes(level)
    }

    /// Keeps `field` as time level `level`, if that level is wanted. Levels come in order.
    pub(crate) fn keep(&mut self, level: usize, field: ArrayView2<'_, f64>) {
        if let Some(history) = self.history.as_mut() {
            history.index_axis_mut(Axis(0), level).assign(&field);
        }
        if self.plan.takes(level) {
            self.snapshots
                .index_axis_mut(Axis(0), self.snapshots_taken)
                .assign(&field);
            self.snapshots_taken += 1;
        }
    }
}

/// Splits axis 1 (the plate's rows) of `levels` into the given bands, which are in order.
fn split_rows<'a>(
    levels: ArrayViewMut3<'a, f64>,
    bands: &[Range<usize>],
) -> Vec<ArrayViewMut3<'a, f64>> {
    let mut views = Vec::with_capacity(bands.len());
    let mut rest = levels;
    let mut at = 0;
    for rows in bands {
        let (_, from_band) = rest.split_at(Axis(1), rows.start - at);
        let (band, after) = from_band.split_at(Axis(1), rows.len());
        views.push(band);
        rest = after;
        at = rows.end;
    }
    views
}
