//! The webinar's vectorization example: a sampled sine wave, four ways.
//!
//! `signal = sin(2 pi f t)` with `f = 2 Hz`, `dt = 0.005 s` and `N` samples of
//! `t` as 32-bit floats. Each function computes the same signal; what changes
//! is who runs the loop:
//!
//! | function | Python counterpart | who runs the loop |
//! |---|---|---|
//! | [`interpreted`] | `for k in range(N): signal[k] = sin(2*pi*f*t[k])` | an interpreter, one operation at a time |
//! | [`typed_loop`] | the same loop in Cython or Numba | compiled code, one element at a time |
//! | [`whole_array`] | `np.sin(2*np.pi*f*t)` | one call on the whole array |
//! | [`parallel`] | JAX or Numba `parallel=True` | all cores, each on a share of the array |

use ndarray::Array1;
use rayon::prelude::*;

use crate::interpreter::{Input, run_loop};

/// The webinar's frequency, in Hz.
pub const FREQUENCY: f32 = 2.0;
/// The webinar's sample spacing, in seconds.
pub const DT: f32 = 0.005;

/// The rule the interpreter runs for every sample.
pub const RULE: &str = "signal[k] = sin(2 * pi * f * t[k])";

/// `N` sample times `0, dt, 2 dt, ...` as 32-bit floats.
pub fn time_axis(samples: usize) -> Array1<f32> {
    Array1::from_shape_fn(samples, |k| k as f32 * DT)
}

fn angular(frequency: f32) -> f32 {
    2.0 * std::f32::consts::PI * frequency
}

/// An interpreter evaluates [`RULE`] for each sample: name look-ups, type
/// checks and a new object per operation, as in the Python loop.
/// (It computes in 64-bit floats, as Python does, and rounds the result to 32 bits.)
pub fn interpreted(t: &[f32], frequency: f32) -> Vec<f32> {
    let times: Vec<f64> = t.iter().map(|&x| x as f64).collect();
    let inputs = [
        ("t", Input::List(&times)),
        ("f", Input::Number(frequency as f64)),
        ("pi", Input::Number(std::f64::consts::PI)),
    ];
    run_loop(RULE, "k", t.len(), &inputs, "signal")
        .expect("RULE only meets numbers and lists")
        .into_iter()
        .map(|x| x as f32)
        .collect()
}

/// A compiled loop over the samples, one at a time.
pub fn typed_loop(t: &[f32], frequency: f32) -> Vec<f32> {
    let w = angular(frequency);
    let mut signal = vec![0.0; t.len()];
    for k in 0..t.len() {
        signal[k] = (w * t[k]).sin();
    }
    signal
}

/// One whole-array operation: NumPy's `np.sin(2*np.pi*f*t)` is ndarray's `mapv`.
pub fn whole_array(t: &Array1<f32>, frequency: f32) -> Array1<f32> {
    let w = angular(frequency);
    t.mapv(|x| (w * x).sin())
}

/// The whole-array operation shared among threads by rayon.
pub fn parallel(t: &[f32], frequency: f32) -> Vec<f32> {
    let w = angular(frequency);
    t.par_iter().map(|&x| (w * x).sin()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_ways_agree() {
        let t = time_axis(2001);
        let slice = t.as_slice().expect("a new array is contiguous");
        let reference = typed_loop(slice, FREQUENCY);
        let others = [
            interpreted(slice, FREQUENCY),
            whole_array(&t, FREQUENCY).to_vec(),
            parallel(slice, FREQUENCY),
        ];
        for other in others {
            let largest = reference
                .iter()
                .zip(&other)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(largest < 1e-5, "{largest}");
        }
        // A quarter period (0.125 s = 25 samples) in, the signal is at its peak.
        assert!((reference[25] - 1.0).abs() < 1e-5);
    }
}
