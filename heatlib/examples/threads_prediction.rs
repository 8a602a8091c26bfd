//! Predicts, then measures, what two threads give on the full history and on
//! two buffers: the figures behind notebook 3's roofline section.
//!
//! ```text
//! cargo run --release --example threads_prediction
//! ```

use heatlib::roofline::Ceilings;
use heatlib::{Comparison, Problem, RunOptions, Stage, Storage};

fn main() -> heatlib::Result<()> {
    let ceilings = Ceilings::measure()?;
    let threads = ceilings.cores.min(2);
    let problem = Problem::large();
    // The core's own speed: typed with both fields in cache.
    let mut in_cache = Comparison::new(&problem, &RunOptions::final_field(), 5)?;
    in_cache.set_ceilings(&ceilings);
    let typed = in_cache.add_stage(Stage::Typed)?.mcells_per_s();
    in_cache.add_stage(Stage::Parallel)?;
    for storage in [Storage::FinalField, Storage::FullHistory] {
        let traffic =
            heatlib::roofline::traffic(Some(Stage::Typed), &problem, storage, &ceilings.caches);
        let one = ceilings.predicted_mcells_per_s(&traffic, typed, 1);
        let many = ceilings.predicted_mcells_per_s(&traffic, typed, threads);
        let options = RunOptions {
            storage,
            ..RunOptions::final_field()
        };
        let mut measured = Comparison::new(&problem, &options, 5)?;
        let one_measured = measured.add_stage(Stage::Typed)?.mcells_per_s();
        let many_measured = measured.add_stage(Stage::Parallel)?.mcells_per_s();
        println!(
            "{:<13} predicted {:.0} -> {:.0} M/s ({:.2}x); measured {:.0} -> {:.0} M/s ({:.2}x); prediction off by {:+.0}%",
            storage.name(),
            one,
            many,
            many / one,
            one_measured,
            many_measured,
            many_measured / one_measured,
            100.0 * ((many / one) / (many_measured / one_measured) - 1.0)
        );
    }
    Ok(())
}
