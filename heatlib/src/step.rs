//! The one contract every stage keeps: compute the next time level from the current one.
//!
//! A stage is a [`Step`] plus the time loop that calls it ([`solve_with`](crate::solve_with)).
//! Your own step, written in a notebook cell, is a `Step` too, so it runs
//! through the very loop and storage the library's stages use, and it can be
//! checked ([`exercise::check_step`](crate::exercise::check_step)) and timed
//! ([`Comparison::add_step`](crate::Comparison::add_step)) exactly as they are.

use ndarray::{ArrayView2, ArrayViewMut2};

/// One explicit time step: the interior of `next`, computed from `current`.
///
/// Any function or closure with this signature is a `Step`:
///
/// ```
/// use heatlib::{Problem, RunOptions, reference, max_abs_diff, solve_with};
/// use ndarray::{ArrayView2, ArrayViewMut2};
///
/// fn my_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
///     let (rows, columns) = current.dim();
///     for i in 1..rows - 1 {
///         for j in 1..columns - 1 {
///             next[[i, j]] = gamma
///                 * (current[[i + 1, j]] + current[[i - 1, j]] + current[[i, j + 1]] + current[[i, j - 1]])
///                 + (1.0 - 4.0 * gamma) * current[[i, j]];
///         }
///     }
/// }
///
/// let problem = Problem::small();
/// let solution = solve_with(&my_step, &problem, &RunOptions::final_field())?;
/// let exact = reference::final_field(&problem)?;
/// assert!(max_abs_diff(solution.final_field.view(), exact.view()) < 1e-12);
/// # Ok::<(), heatlib::HeatError>(())
/// ```
///
/// # What a step receives
///
/// `current` and `next` have the same shape, `rows x columns`, both at least
/// 3 x 3, and both are contiguous in row-major order (`as_slice()` returns
/// `Some`), so a step may work on whole rows as slices.
///
/// - Columns `0` and `columns - 1` are the plate's left and right edges.
/// - Rows `0` and `rows - 1` are the *halo*: either the plate's bottom and top
///   edges (when one step covers the whole plate), or copies of the rows just
///   outside a band (when the plate is cut into bands of rows, one per
///   thread, as the `parallel` stage does). Either way they are the values the
///   band's first and last rows need as neighbours.
/// - `gamma` is `alpha dt / dx^2`, at most 1/4, and not always 1/4.
///
/// # What it must write
///
/// Every interior cell of `next`, `1 <= i <= rows - 2` and
/// `1 <= j <= columns - 2`, by the update rule
///
/// ```text
/// next[i,j] = gamma (current[i+1,j] + current[i-1,j] + current[i,j+1] + current[i,j-1]) + (1 - 4 gamma) current[i,j]
/// ```
///
/// # What it must not do
///
/// - Read `next`: its interior holds the level *before* `current` (the two
///   buffers take turns), which is exactly the stale data a wrong step would
///   silently use.
/// - Write `next`'s first or last row or column: the edges stay fixed, and
///   the halo rows belong to the time loop.
/// - Assume the field is the whole plate, or square: a band is a strip.
///
/// # Threads
///
/// A step may be called from several threads at once, each on its own band
/// with its own `current` and `next` (hence `Sync`). It may also use threads
/// inside one call (rayon's pool, for example); then it runs on the pool of
/// [`RunOptions::threads`](crate::RunOptions::threads).
pub trait Step: Sync {
    /// Writes the interior of `next` from `current`; see the trait's documentation.
    fn advance(&self, current: ArrayView2<'_, f64>, next: ArrayViewMut2<'_, f64>, gamma: f64);
}

/// A step as a plain function pointer: what a `fn my_step(current, next, gamma)` becomes
/// when passed where a value is needed, e.g. to
/// [`MachineCode::of_step`](crate::machine_code::MachineCode::of_step).
pub type StepFn = fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>, f64);

impl<F> Step for F
where
    F: Fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>, f64) + Sync,
{
    fn advance(&self, current: ArrayView2<'_, f64>, next: ArrayViewMut2<'_, f64>, gamma: f64) {
        self(current, next, gamma)
    }
}
