//! The check of the full-history exercise: the largest |T| of every level.

use ndarray::ArrayView3;

use super::{CheckReport, attempt, differs};
use crate::problem::{Boundary, Problem};
use crate::reference;

/// Checks a learner's `largest_per_level(history)`, which must return, for
/// each time level of a full history, the largest |T| on the plate.
pub fn check_largest_per_level(
    largest_per_level: fn(ArrayView3<'_, f64>) -> Vec<f64>,
) -> CheckReport {
    let mut lines = Vec::new();
    let mut passed = true;
    let cases = [
        (
            "a stable plate, gamma = 0.25, its bottom edge at -150",
            Problem::small().with_size(12, 30).with_boundary(Boundary {
                bottom: -150.0,
                ..Boundary::WEBINAR
            }),
        ),
        (
            "an unstable plate, gamma = 0.3",
            Problem::small()
                .with_size(12, 30)
                .with_gamma(0.3)
                .allow_unstable(),
        ),
    ];
    for (name, problem) in cases {
        let levels = match reference::history(&problem) {
            Ok(levels) => levels,
            Err(error) => {
                lines.push(format!("{name}: {error}"));
                passed = false;
                continue;
            }
        };
        let expected: Vec<f64> = levels
            .outer_iter()
            .map(|level| level.iter().fold(0.0f64, |m, t| m.max(t.abs())))
            .collect();
        match attempt(|| largest_per_level(levels.view())) {
            Err(panicked) => {
                passed = false;
                lines.push(format!("{name}: {panicked}"));
                break;
            }
            Ok(yours) if yours.len() != expected.len() => {
                passed = false;
                lines.push(format!(
                    "{name}: {} values for {} time levels; one per level, please",
                    yours.len(),
                    expected.len()
                ));
            }
            Ok(yours) => match yours
                .iter()
                .zip(&expected)
                .position(|(&a, &b)| differs(a, b, 1e-12 * b.abs().max(1.0)))
            {
                None => lines.push(format!("{name}: right at every level")),
                Some(level) => {
                    passed = false;
                    lines.push(format!(
                        "{name}: level {level}: yours {}, expected {} (the largest |T|, absolute values)",
                        yours[level], expected[level]
                    ));
                }
            },
        }
    }
    CheckReport {
        subject: "your largest |T| per level".into(),
        passed,
        lines,
    }
}
