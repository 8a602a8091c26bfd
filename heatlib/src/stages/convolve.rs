//! Stage `convolve`: the Laplacian as a 3x3 convolution, applied once per time step.
//!
//! Python counterpart: `scipy.signal.convolve(T[k], K, mode='same')` with
//! `K = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]`, then `T + g * laplacian`.
//!
//! The idea: a general-purpose compiled routine, called once per step, does
//! the inner loops for you. It is general, so it pays for generality: it
//! multiplies all nine weights (zeros too), allocates its result, and
//! computes the edges you then throw away. No maintained Rust crate offers
//! SciPy's `convolve(mode='same')` on ndarray without pulling in an FFT
//! stack, so [`convolve_same`] is written here, plainly.

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
/// Each weight adds one shifted copy of the input to the result.
pub fn convolve_same(input: ArrayView2<'_, f64>, kernel: ArrayView2<'_, f64>) -> Array2<f64> {
    let (rows, cols) = input.dim();
    let (k_rows, k_cols) = kernel.dim();
    let (centre_row, centre_col) = (k_rows / 2, k_cols / 2);
    let mut output = Array2::zeros((rows, cols));
    for ((ki, kj), &weight) in kernel.indexed_iter() {
        // Output (i, j) takes input (i + centre_row - ki, j + centre_col - kj).
        let Some((out_rows, in_rows)) = overlap(rows, centre_row as isize - ki as isize) else {
            continue;
        };
        let Some((out_cols, in_cols)) = overlap(cols, centre_col as isize - kj as isize) else {
            continue;
        };
        output
            .slice_mut(s![out_rows, out_cols])
            .scaled_add(weight, &input.slice(s![in_rows, in_cols]));
    }
    output
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
    fn laplacian_of_a_single_hot_cell() {
        let mut input = Array2::zeros((3, 3));
        input[[1, 1]] = 1.0;
        let kernel = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
        let expected = array![[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]];
        assert_eq!(convolve_same(input.view(), kernel.view()), expected);
    }
}
