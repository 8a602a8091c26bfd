fn numpy_style_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
    let up = current.slice(s![2.., 1..-1]);
    let down = current.slice(s![..-2, 1..-1]);
    let right = current.slice(s![1..-1, 2..]);
    let left = current.slice(s![1..-1, ..-2]);
    let centre = current.slice(s![1..-1, 1..-1]);
    let laplacian = &up + &down + &right + &left;
    let updated = laplacian * gamma + &centre * (1.0 - 4.0 * gamma);
    next.slice_mut(s![1..-1, 1..-1]).assign(&updated);
}
