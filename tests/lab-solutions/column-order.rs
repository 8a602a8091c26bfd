fn column_order_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
    let (rows, columns) = current.dim();
    for j in 1..columns - 1 {
        for i in 1..rows - 1 {
            next[[i, j]] = gamma * (current[[i + 1, j]] + current[[i - 1, j]] + current[[i, j + 1]] + current[[i, j - 1]])
                + (1.0 - 4.0 * gamma) * current[[i, j]];
        }
    }
}
