fn rows_on_threads_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
    let (rows, nx) = current.dim();
    let current = current.as_slice().expect("the time loop's fields are contiguous");
    let next = next.as_slice_mut().expect("the time loop's fields are contiguous");
    let centre_weight = 1.0 - 4.0 * gamma;
    next.par_chunks_mut(nx)
        .enumerate()
        .skip(1)
        .take(rows - 2)
        .for_each(|(i, out)| {
            for j in 1..nx - 1 {
                let c = i * nx + j;
                out[j] = gamma * (current[c + nx] + current[c - nx] + current[c + 1] + current[c - 1])
                    + centre_weight * current[c];
            }
        });
}
