fn largest_per_level(history: ArrayView3<f64>) -> Vec<f64> {
    history
        .outer_iter()
        .map(|level| level.iter().fold(0.0, |largest: f64, t| largest.max(t.abs())))
        .collect()
}
