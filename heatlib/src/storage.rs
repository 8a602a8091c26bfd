//! A run's buffers: its two working fields, and what it keeps beside them
//! (the full history, or snapshots).
//!
//! The time loop needs only two fields that take turns. Everything else a
//! caller asked to keep is allocated here once, before the loop starts, so
//! that allocating is never timed and a request too large for the machine is
//! refused before anything runs.
//!
//! Every way of solving uses [`RunBuffers`] the same way, in this order:
//!
//! 1. **Prepare** ([`RunBuffers::prepare`], outside any clock): check the
//!    problem, the options and the memory ([`RunBuffers::plan`]), then
//!    allocate, every level starting as the initial field (which holds the
//!    edges no step writes). [`RunBuffers::initial_field`] hands it out.
//! 2. **Start the clock** ([`Buffers::start_clock`]) against the run's time
//!    budget, and check it once a level ([`Deadline::check`]).
//! 3. **March**: either [`RunBuffers::pair`] gives each level's two views to
//!    a step that writes in place, then [`RunBuffers::keep_level`] keeps it
//!    if asked; or a way of solving that holds its own fields (a device, the
//!    bands of the `parallel` stage, split off by [`RunBuffers::split_rows`])
//!    hands each level it computed to [`Buffers::keep`].
//! 4. **Finish**: [`RunBuffers::finish`] after `pair`, else
//!    [`RunBuffers::into_solution`] with the final field, makes the
//!    [`Solution`], refusing a field that is not finite.

use std::ops::Range;
use std::time::{Duration, Instant};

use ndarray::{
    Array2, ArrayBase, ArrayView2, ArrayViewMut2, ArrayViewMut3, Axis, DataMut, Ix3, OwnedRepr,
    RawData, ViewRepr,
};

use crate::error::{HeatError, Result};
use crate::memory::{
    available_memory, check_fits, check_history_fits, fields_bytes, try_copy, try_levels,
};
use crate::options::{RunOptions, Storage};
use crate::problem::Problem;
use crate::solution::{Snapshot, Solution};

/// The time levels a run keeps. Generic over who owns the memory: a [`RunBuffers`]
/// owns it; a [`BandBuffers`] borrows a band of its rows, so that threads
/// working on different bands of the plate can each keep their own rows.
pub(crate) struct Buffers<S: RawData<Elem = f64>> {
    /// Every level, `(nt, rows, nx)`, when the full history was asked for.
    history: Option<ArrayBase<S, Ix3>>,
    /// The snapshot levels, `(snapshots, rows, nx)`; none unless asked for.
    snapshots: ArrayBase<S, Ix3>,
    plan: SnapshotPlan,
    snapshots_taken: usize,
    time_budget: Option<Duration>,
    /// The two fields that take turns when the history is not kept (level k in
    /// `working[k % 2]`); empty for a band's buffers, and with the full history,
    /// where each level is computed straight into its place.
    working: Vec<Array2<f64>>,
}

/// The levels of a whole run.
pub(crate) type RunBuffers = Buffers<OwnedRepr<f64>>;

/// The levels of one band of rows, borrowed from a [`RunBuffers`].
pub(crate) type BandBuffers<'a> = Buffers<ViewRepr<&'a mut f64>>;

/// Which levels become snapshots: every `every`-th, and the last.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SnapshotPlan {
    every: Option<usize>,
    last: usize,
}

impl SnapshotPlan {
    fn for_run(nt: usize, storage: Storage) -> SnapshotPlan {
        SnapshotPlan {
            every: match storage {
                Storage::Snapshots { every } => Some(every),
                _ => None,
            },
            last: nt - 1,
        }
    }

    fn takes(self, level: usize) -> bool {
        self.every
            .is_some_and(|every| level.is_multiple_of(every) || level == self.last)
    }

    /// The levels taken, in order.
    fn levels(self) -> impl Iterator<Item = usize> {
        // Without snapshots, `count` is 0 and nothing is taken.
        let every = self.every.unwrap_or(1);
        let last_if_not_a_multiple = Some(self.last).filter(|last| !last.is_multiple_of(every));
        (0..=self.last)
            .step_by(every)
            .chain(last_if_not_a_multiple)
            .take(self.count())
    }

    /// How many levels are taken, counted without visiting them (`nt` may be huge).
    fn count(self) -> usize {
        match self.every {
            None => 0,
            Some(every) => self.last / every + 1 + usize::from(!self.last.is_multiple_of(every)),
        }
    }
}

impl RunBuffers {
    /// Checks `problem` and `options`, checks that the run fits in memory, then
    /// allocates what it keeps. `working_fields` counts the `nx x nx` arrays the
    /// way of solving needs at once beside the kept levels: 2 for the plain time loop.
    pub(crate) fn prepare(
        problem: &Problem,
        options: &RunOptions,
        working_fields: u128,
    ) -> Result<RunBuffers> {
        let plan = RunBuffers::plan(problem, options, working_fields)?;
        RunBuffers::allocate(problem, options, plan)
    }

    /// What [`RunBuffers::prepare`] checks before it allocates anything.
    pub(crate) fn plan(
        problem: &Problem,
        options: &RunOptions,
        working_fields: u128,
    ) -> Result<SnapshotPlan> {
        problem.validate()?;
        options.validate()?;
        let plan = SnapshotPlan::for_run(problem.nt, options.storage);
        let kept_levels = match options.storage {
            Storage::FullHistory => {
                check_history_fits(problem.nt, problem.nx, available_memory())?;
                problem.nt
            }
            _ => plan.count(),
        };
        let (nt, nx) = (problem.nt, problem.nx);
        check_fits(
            &format!("a run of {nx} x {nx} nodes and {nt} levels"),
            fields_bytes(working_fields + kept_levels as u128, problem.nx),
            "use fewer nodes nx (memory grows with nx^2), or keep fewer levels",
        )?;
        Ok(plan)
    }

    fn allocate(problem: &Problem, options: &RunOptions, plan: SnapshotPlan) -> Result<RunBuffers> {
        // Every kept level starts as the initial field, so it holds the edges, which no step writes.
        let initial = problem.try_initial_field()?;
        let snapshots = try_levels(plan.count(), initial.view())?;
        let (history, working) = match options.storage {
            Storage::FullHistory => (Some(try_levels(problem.nt, initial.view())?), Vec::new()),
            // The initial field itself becomes the second working field.
            _ => (None, vec![try_copy(initial.view())?, initial]),
        };
        Ok(Buffers {
            history,
            snapshots,
            plan,
            snapshots_taken: 0,
            time_budget: options.time_budget,
            working,
        })
    }

    /// The initial field (level 0), as every kept level and working field
    /// starts: to be read before the march, which overwrites it.
    pub(crate) fn initial_field(&self) -> ArrayView2<'_, f64> {
        match (&self.history, self.working.first()) {
            (Some(history), _) => history.index_axis(Axis(0), 0),
            (None, Some(field)) => field.view(),
            (None, None) => {
                unreachable!("a whole run's buffers hold the history or two working fields")
            }
        }
    }

    /// Level `level - 1`, to read, and level `level`, to write: two views into
    /// the history when it is kept, else the two working fields, taking turns.
    pub(crate) fn pair(
        &mut self,
        level: usize,
    ) -> (ArrayViewMut2<'_, f64>, ArrayViewMut2<'_, f64>) {
        if let Some(history) = self.history.as_mut() {
            let (before, from_level) = history.view_mut().split_at(Axis(0), level);
            return (
                before.index_axis_move(Axis(0), level - 1),
                from_level.index_axis_move(Axis(0), 0),
            );
        }
        let [even, odd] = self.working.as_mut_slice() else {
            unreachable!("a whole run's buffers without the history has two working fields");
        };
        if level % 2 == 1 {
            (even.view_mut(), odd.view_mut())
        } else {
            (odd.view_mut(), even.view_mut())
        }
    }

    /// Keeps level `level`, just computed by way of [`RunBuffers::pair`], if it is a snapshot.
    pub(crate) fn keep_level(&mut self, level: usize) {
        if !self.plan.takes(level) {
            return;
        }
        let field = match &self.history {
            Some(history) => history.index_axis(Axis(0), level),
            None => self.working[level % 2].view(),
        };
        self.snapshots
            .index_axis_mut(Axis(0), self.snapshots_taken)
            .assign(&field);
        self.snapshots_taken += 1;
    }

    /// The solution of a run that kept its levels with [`RunBuffers::keep_level`].
    pub(crate) fn finish(mut self, threads: usize) -> Result<Solution> {
        let last = self.plan.last;
        let final_field = match &self.history {
            Some(history) => try_copy(history.index_axis(Axis(0), last))?,
            None => self.working.swap_remove(last % 2),
        };
        self.into_solution(final_field, threads)
    }

    /// The two working fields, both at level 0 (the initial field), for a way of
    /// solving that hands them back as the final field through
    /// [`RunBuffers::into_solution`]; only for runs that keep the final field alone.
    pub(crate) fn take_working_fields(&mut self) -> (Array2<f64>, Array2<f64>) {
        match (
            self.history.is_none(),
            self.working.pop(),
            self.working.pop(),
        ) {
            (true, Some(odd), Some(even)) => (even, odd),
            _ => unreachable!("a run that keeps the final field alone has two working fields"),
        }
    }

    /// One buffers per band of plate rows, each borrowing those rows of every kept level.
    pub(crate) fn split_rows(&mut self, bands: &[Range<usize>]) -> Vec<BandBuffers<'_>> {
        let plan = self.plan;
        let mut history = self
            .history
            .as_mut()
            .map(|history| split_rows(history.view_mut(), bands).into_iter());
        split_rows(self.snapshots.view_mut(), bands)
            .into_iter()
            .map(|snapshots| Buffers {
                history: history.as_mut().and_then(Iterator::next),
                snapshots,
                plan,
                snapshots_taken: 0,
                time_budget: self.time_budget,
                working: Vec::new(),
            })
            .collect()
    }

    /// The solution: the final field the loop ended with, and the kept levels;
    /// refused if the field holds a value that is not finite.
    pub(crate) fn into_solution(
        self,
        final_field: Array2<f64>,
        threads: usize,
    ) -> Result<Solution> {
        check_finite(final_field.view())?;
        let snapshots = self
            .plan
            .levels()
            .zip(self.snapshots.outer_iter())
            .map(|(step, field)| Snapshot {
                step,
                field: field.to_owned(),
            })
            .collect();
        Ok(Solution {
            final_field,
            history: self.history,
            snapshots,
            threads,
            device: None,
            setup_s: 0.0,
        })
    }
}

/// Refuses a field with an infinite or NaN value. A non-finite value never
/// leaves the plate once it appears (its neighbours take it up, NaN stays
/// NaN), so the final field shows whether any level had one.
fn check_finite(field: ArrayView2<'_, f64>) -> Result<()> {
    let mut not_finite = field.indexed_iter().filter(|(_, value)| !value.is_finite());
    let Some(((row, column), _)) = not_finite.next() else {
        return Ok(());
    };
    Err(HeatError::NotFinite {
        count: 1 + not_finite.count(),
        row,
        column,
        advice: "With checked inputs this comes from the step: a gamma above 1/4 \
                 (allow_unstable) grows without bound, and a step of your own may divide by \
                 zero or read a cell it should not",
    })
}

/// The clock of one run against its time budget.
pub(crate) struct Deadline {
    start: Instant,
    budget: Option<Duration>,
    nt: usize,
}

impl Deadline {
    /// Whether the run has a time budget at all.
    #[cfg(feature = "opencl")]
    pub(crate) fn has_budget(&self) -> bool {
        self.budget.is_some()
    }

    /// Refuses to go on past the budget, once `level` of the run's `nt` levels is done.
    pub(crate) fn check(&self, level: usize) -> Result<()> {
        let Some(budget) = self.budget else {
            return Ok(());
        };
        let elapsed = self.start.elapsed();
        if elapsed <= budget || level + 1 >= self.nt {
            return Ok(());
        }
        Err(HeatError::OutOfTime {
            budget_s: budget.as_secs_f64(),
            level,
            nt: self.nt,
            estimate_s: elapsed.as_secs_f64() * (self.nt - 1) as f64 / level.max(1) as f64,
        })
    }
}

impl<S: DataMut<Elem = f64>> Buffers<S> {
    /// Starts the clock of a run of `nt` levels against the budget this buffers was prepared with.
    pub(crate) fn start_clock(&self, nt: usize) -> Deadline {
        Deadline {
            start: Instant::now(),
            budget: self.time_budget,
            nt,
        }
    }

    /// Whether `level` is to be kept (a device copies back only those).
    #[cfg(feature = "opencl")]
    pub(crate) fn wants(&self, level: usize) -> bool {
        self.history.is_some() || self.plan.takes(level)
    }

    /// The kept history's `(nt, rows, nx)` levels, to compute into directly; `None` without one.
    pub(crate) fn history_rows(&mut self) -> Option<ArrayViewMut3<'_, f64>> {
        self.history.as_mut().map(|history| history.view_mut())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_levels_are_every_kth_and_the_last_counted_without_visiting_them() {
        for last in 0..30 {
            for every in [None, Some(1), Some(2), Some(3), Some(7), Some(40)] {
                let plan = SnapshotPlan { every, last };
                let visited: Vec<usize> = (0..=last).filter(|&l| plan.takes(l)).collect();
                assert_eq!(
                    plan.levels().collect::<Vec<_>>(),
                    visited,
                    "{last} {every:?}"
                );
                assert_eq!(plan.count(), visited.len());
            }
        }
        let huge = SnapshotPlan {
            every: Some(1),
            last: usize::MAX - 1,
        };
        assert_eq!(huge.count(), usize::MAX);
    }
}
