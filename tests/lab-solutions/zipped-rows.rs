fn zipped_rows_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
    let (rows, nx) = current.dim();
    let current = current.as_slice().expect("the time loop's fields are contiguous");
    let next = next.as_slice_mut().expect("the time loop's fields are contiguous");
    let centre_weight = 1.0 - 4.0 * gamma;
    for i in 1..rows - 1 {
        let below = &current[(i - 1) * nx + 1..i * nx - 1];
        let left = &current[i * nx..(i + 1) * nx - 2];
        let centre = &current[i * nx + 1..(i + 1) * nx - 1];
        let right = &current[i * nx + 2..(i + 1) * nx];
        let above = &current[(i + 1) * nx + 1..(i + 2) * nx - 1];
        let out = &mut next[i * nx + 1..(i + 1) * nx - 1];
        for (((((out, &a), &b), &r), &l), &c) in out.iter_mut().zip(above).zip(below).zip(right).zip(left).zip(centre) {
            *out = gamma * (a + b + r + l) + centre_weight * c;
        }
    }
}
