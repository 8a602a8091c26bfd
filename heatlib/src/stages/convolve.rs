//! Stage `convolve`: the Laplacian as a 3x3 convolution, applied once per time step.
//!
//! Python counterpart: `scipy.signal.convolve(T[k], K, mode='same')` with
//! `K = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]`, then `T + g * laplacian`.
//!
//! The idea: a general-purpose compiled routine, called once per step, does
//! the inner loops for you. Like SciPy's direct method for a small kernel, it
//! makes one pass over memory: each output row is built while it sits in
//! cache. It is general, so it pays for generality: it multiplies all nine
//! weights (the zeros too), allocates its result every step, computes the
//! edges you then throw away, and leaves the update to a second pass. No
//! maintained Rust crate offers SciPy's `convolve(mode='same')` on ndarray
//! without pulling in an FFT stack, so [`convolve_same`] is written here, plainly.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip, array, s};

pub(crate) fn advance(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let laplacian_kernel = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
    let laplacian = convolve_same(current, laplacian_kernel.view());
    Zip::from(next.slice_mut(s![1..-1, 1..-1]))
        .and(current.slice(s![1..-1, 1..-1]))
        .and(laplacian.slice(s![1..-1, 1..-1]))
        .for_each(|out, &centre, &lap| *out = centre + gamma * lap);
}

/// Two-dimensional convolution with zero padding, keeping the input's shape:
/// SciPy's `convolve(input, kernel, mode='same')` for kernels of odd size.
///
/// The kernel is flipped, as in the mathematical definition of convolution
/// (it makes no difference for a symmetric kernel such as the Laplacian).
/// One pass over memory: for each output row, every weight adds its shifted
/// input row, while that output row stays in cache.
pub fn convolve_same(input: ArrayView2<'_, f64>, kernel: ArrayView2<'_, f64>) -> Array2<f64> {
    let (rows, cols) = input.dim();
    let (centre_row, centre_col) = (kernel.nrows() / 2, kernel.ncols() / 2);
    let mut output = Array2::zeros((rows, cols));
    for (i, mut out_row) in output.rows_mut().into_iter().enumerate() {
        let out_row = out_row
            .as_slice_mut()
            .expect("a new array's rows are contiguous");
        for ((ki, kj), &weight) in kernel.indexed_iter() {
            // Output (i, j) takes input (i + centre_row - ki, j + centre_col - kj).
            let Some(from_row) = (i + centre_row).checked_sub(ki).filter(|&r| r < rows) else {
                continue;
            };
            let Some((out_cols, in_cols)) = overlap(cols, centre_col as isize - kj as isize) else {
                continue;
            };
            let out = &mut out_row[out_cols];
            let from = input.row(from_row);
            match from.as_slice() {
                Some(from) => add_scaled(out, weight, from[in_cols].iter()),
                None => add_scaled(out, weight, from.slice(s![in_cols]).iter()),
            }
        }
    }
    output
}

/// `out += weight * from`, element by element: on plain slices, a loop the compiler vectorises.
fn add_scaled<'a>(out: &mut [f64], weight: f64, from: impl Iterator<Item = &'a f64>) {
    for (out, &value) in out.iter_mut().zip(from) {
        *out += weight * value;
    }
}

/// For a shift of `shift` along an axis of length `len`: the output range and
/// the input range that overlap, or `None` when the shift leaves nothing.
fn overlap(len: usize, shift: isize) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let magnitude = shift.unsigned_abs();
    if magnitude >= len {
        return None;
    }
    let span = len - magnitude;
    Some(if shift >= 0 {
        (0..span, magnitude..len)
    } else {
        (magnitude..len, 0..span)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_an_asymmetric_kernel_as_scipy_does() {
        // Same result as scipy.signal.convolve(input, kernel, mode='same').
        let input = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]];
        let kernel = array![[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]];
        // A 1 right of centre, flipped, takes each cell's left neighbour.
        let expected = array![[0.0, 1.0, 2.0], [0.0, 4.0, 5.0], [0.0, 7.0, 8.0]];
        assert_eq!(convolve_same(input.view(), kernel.view()), expected);
    }

    #[test]
    fn matches_the_definition_for_a_larger_asymmetric_kernel() {
        let input = Array2::from_shape_fn((7, 6), |(i, j)| (i * 6 + j) as f64 * 0.5 - 3.0);
        let kernel = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64) - 2.0 * j as f64 + 0.25);
        let direct = convolve_same(input.view(), kernel.view());
        for ((i, j), &value) in direct.indexed_iter() {
            let mut expected = 0.0;
            for ((ki, kj), &weight) in kernel.indexed_iter() {
                let (r, c) = (i as isize + 2 - ki as isize, j as isize + 1 - kj as isize);
                if (0..7).contains(&r) && (0..6).contains(&c) {
                    expected += weight * input[[r as usize, c as usize]];
                }
            }
            assert!(
                (value - expected).abs() < 1e-12,
                "({i}, {j}): {value} != {expected}"
            );
        }
    }

    #[test]
    fn laplacian_of_a_single_hot_cell() {
        let mut input = Array2::zeros((3, 3));
        input[[1, 1]] = 1.0;
        let kernel = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
        let expected = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
        assert_eq!(convolve_same(input.view(), kernel.view()), expected);
    }
}
