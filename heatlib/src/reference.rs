//! The reference solution every stage is checked against, and the measure of agreement.
//!
//! Written as literally as the equation, with its own edge set-up and time
//! loop, and sharing no code with the stages or their time loop, so a
//! mistake there cannot hide by being made twice.

use ndarray::{Array2, ArrayView2, Zip};

use crate::error::Result;
use crate::memory::{check_fits, fields_bytes};
use crate::problem::Problem;

/// Every time level of `problem`, from 0 to `nt - 1`.
pub fn history(problem: &Problem) -> Result<Vec<Array2<f64>>> {
    problem.validate()?;
    fits_beside_its_two_levels(problem, problem.nt)?;
    let mut levels = Vec::with_capacity(problem.nt);
    march(problem, |level| levels.push(to_array(level)))?;
    Ok(levels)
}

/// The last time level of `problem`.
pub fn final_field(problem: &Problem) -> Result<Array2<f64>> {
    problem.validate()?;
    // The last level, kept as lists, then as an array.
    fits_beside_its_two_levels(problem, 2)?;
    let mut last = Vec::new();
    march(problem, |level| last = level.to_vec())?;
    Ok(to_array(&last))
}

/// Refuses a reference that would not fit: the two levels it marches with and `kept` more.
fn fits_beside_its_two_levels(problem: &Problem, kept: usize) -> Result<()> {
    let nx = problem.nx;
    check_fits(
        &format!("the reference solution of {nx} x {nx} nodes"),
        fields_bytes(2 + kept as u128, nx),
        "use fewer nodes nx (memory grows with nx^2)",
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

fn to_array(level: &[Vec<f64>]) -> Array2<f64> {
    let n = level.len();
    Array2::from_shape_fn((n, n), |(i, j)| level[i][j])
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
