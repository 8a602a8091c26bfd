//! The check of the vectorization exercise: a sine wave, sample by sample.

use super::{CheckReport, attempt, differs};
use crate::harmonic;

/// Checks a learner's sine wave, `signal(t, frequency)`, against `sin(2 pi f t)`.
pub fn check_signal(signal: fn(&[f32], f32) -> Vec<f32>) -> CheckReport {
    let mut lines = Vec::new();
    let mut passed = true;
    for samples in [1, 7, 1000] {
        let t = harmonic::time_axis(samples).to_vec();
        let expected = harmonic::typed_loop(&t, harmonic::FREQUENCY);
        match attempt(|| signal(&t, harmonic::FREQUENCY)) {
            Err(panicked) => {
                passed = false;
                lines.push(format!("{samples} samples: {panicked}"));
                break;
            }
            Ok(yours) if yours.len() != samples => {
                passed = false;
                lines.push(format!(
                    "{samples} samples: you returned {} values",
                    yours.len()
                ));
            }
            Ok(yours) => {
                let wrong = yours
                    .iter()
                    .zip(&expected)
                    .position(|(&a, &b)| differs(a as f64, b as f64, 1e-5));
                match wrong {
                    None => lines.push(format!("{samples} samples: right (to 1e-5)")),
                    Some(k) => {
                        passed = false;
                        lines.push(format!(
                            "{samples} samples: sample {k} (t = {}) is {}, expected {}",
                            t[k], yours[k], expected[k]
                        ));
                    }
                }
            }
        }
    }
    CheckReport {
        subject: "your signal".into(),
        passed,
        lines,
    }
}
