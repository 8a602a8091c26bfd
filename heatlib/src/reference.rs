//! The reference solution every stage is checked against, and the measure of agreement.
//!
//! Written as literally as the equation, with its own edge set-up and time
//! loop, and sharing no code with the stages or their time loop, so a
//! mistake there cannot hide by being made twice.

use ndarray::{Array2, Array3, ArrayView2, Axis, Zip};

use crate::error::{Bytes, Result};
use crate::memory::{check_fits, fields_bytes, try_field, try_zeros3};
use crate::options::Storage;
use crate::problem::Problem;

/// Every time level of `problem`, from 0 to `nt - 1`, as one `(nt, nx, nx)`
/// array (level `k` is `history.index_axis(Axis(0), k)`), the shape of
/// `heat run --history full` and of the webinar's `T`.
pub fn history(problem: &Problem) -> Result<Array3<f64>> {
    fits(problem, Storage::FullHistory)?;
    let nx = problem.nx;
    let mut history = try_zeros3(problem.nt, nx, nx)?;
    let mut levels = history.outer_iter_mut();
    march(problem, |level| {
        if let Some(mut kept) = levels.next() {
            copy_into(level, &mut kept);
        }
    })?;
    Ok(history)
}

/// The last time level of `problem`.
pub fn final_field(problem: &Problem) -> Result<Array2<f64>> {
    fits(problem, Storage::FinalField)?;
    let nx = problem.nx;
    let mut last = try_field(nx, nx, 0.0)?;
    let mut level_count = 0;
    march(problem, |level| {
        level_count += 1;
        if level_count == problem.nt {
            copy_into(level, &mut last.view_mut());
        }
    })?;
    Ok(last)
}

/// The memory the reference takes for `problem`, everything it allocates
/// counted: the two levels it marches with, as lists of rows (each row its own
/// allocation), and the array it returns: every level with
/// [`Storage::FullHistory`], else the final field.
pub fn bytes_needed(problem: &Problem, storage: Storage) -> Bytes {
    let nx = problem.nx as u128;
    // A row is nx values, plus the row's own pointer, capacity and length in
    // its level's list, plus what the allocator keeps beside each allocation.
    let list_level = nx.saturating_mul((nx * 8).saturating_add(24 + 16));
    let kept = match storage {
        Storage::FullHistory => problem.nt as u128,
        Storage::FinalField | Storage::Snapshots { .. } => 1,
    };
    Bytes(
        fields_bytes(kept, problem.nx)
            .0
            .saturating_add(list_level.saturating_mul(2)),
    )
}

/// Refuses a reference that would not fit in memory.
fn fits(problem: &Problem, storage: Storage) -> Result<()> {
    problem.validate()?;
    let nx = problem.nx;
    check_fits(
        &format!("the reference solution of {nx} x {nx} nodes"),
        bytes_needed(problem, storage),
        match storage {
            Storage::FullHistory => {
                "use fewer nodes nx or fewer levels nt (the full history grows with nt x nx^2)"
            }
            _ => "use fewer nodes nx (memory grows with nx^2)",
        },
    )
}

fn march(problem: &Problem, mut visit: impl FnMut(&[Vec<f64>])) -> Result<()> {
    problem.validate()?;
    let n = problem.nx;
    let g = problem.gamma();
    let edges = problem.boundary;
    let mut t: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| match (i, j) {
                    _ if i == n - 1 => edges.top,
                    (0, _) => edges.bottom,
                    (_, 0) => edges.left,
                    _ if j == n - 1 => edges.right,
                    _ => problem.initial,
                })
                .collect()
        })
        .collect();
    visit(&t);
    for _ in 1..problem.nt {
        let mut next = t.clone();
        for i in 1..n - 1 {
            for j in 1..n - 1 {
                next[i][j] = g * (t[i + 1][j] + t[i - 1][j] + t[i][j + 1] + t[i][j - 1])
                    + (1.0 - 4.0 * g) * t[i][j];
            }
        }
        t = next;
        visit(&t);
    }
    Ok(())
}

fn copy_into(level: &[Vec<f64>], field: &mut ndarray::ArrayViewMut2<'_, f64>) {
    for (row, mut kept) in level.iter().zip(field.axis_iter_mut(Axis(0))) {
        kept.assign(&ndarray::ArrayView1::from(row.as_slice()));
    }
}

/// The largest absolute difference between two fields of the same shape;
/// infinite when the shapes differ, NaN when either holds a NaN (so a
/// comparison with a tolerance fails, as it should).
pub fn max_abs_diff(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    if a.dim() != b.dim() {
        return f64::INFINITY;
    }
    Zip::from(a).and(b).fold(0.0, |largest: f64, x, y| {
        let difference = (x - y).abs();
        if difference.is_nan() || largest.is_nan() {
            f64::NAN
        } else {
            largest.max(difference)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn differences_see_nan_and_shape() {
        let a = array![[0.0, 1.0], [2.0, 3.0]];
        let b = array![[0.0, 1.5], [2.0, 2.0]];
        assert_eq!(max_abs_diff(a.view(), b.view()), 1.0);
        let c = array![[0.0, f64::NAN], [2.0, 3.0]];
        assert!(max_abs_diff(a.view(), c.view()).is_nan());
        assert!(max_abs_diff(c.view(), a.view()).is_nan());
        let d = Array2::zeros((3, 2));
        assert_eq!(max_abs_diff(a.view(), d.view()), f64::INFINITY);
    }
}
