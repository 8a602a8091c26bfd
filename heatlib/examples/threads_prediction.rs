//! Predicts, from this machine's measured ceilings alone, what two threads give
//! on two fields and on the full history; then measures it: the figures behind
//! notebook 3's roofline section and docs/speed-of-light.md.
//!
//! ```text
//! cargo run --release --example threads_prediction
//! ```

use heatlib::roofline::Ceilings;
use heatlib::{Comparison, Problem, RunOptions, Stage};

fn main() -> heatlib::Result<()> {
    let ceilings = Ceilings::measure()?;
    let threads = ceilings.cores.min(2);
    let problem = Problem::large();
    for options in [RunOptions::final_field(), RunOptions::full_history()] {
        let one = ceilings.for_stage(Some(Stage::Typed), &problem, &options, 1);
        let many = ceilings.for_stage(Some(Stage::Parallel), &problem, &options, threads);
        let predicted = many.mcells_per_s / one.mcells_per_s;
        let mut measured = Comparison::new(&problem, &options, 5)?;
        let typed = measured.add_stage(Stage::Typed)?.mcells_per_s();
        let parallel = measured.add_stage(Stage::Parallel)?.mcells_per_s();
        println!(
            "{:<6} ceilings {:.0} -> {:.0} M/s, predicted {predicted:.2}x; measured {typed:.0} \
             ({:.0}%) -> {parallel:.0} ({:.0}%) M/s, {:.2}x; prediction off by {:+.0}%",
            options.storage.name(),
            one.mcells_per_s,
            many.mcells_per_s,
            100.0 * typed / one.mcells_per_s,
            100.0 * parallel / many.mcells_per_s,
            parallel / typed,
            100.0 * (predicted / (parallel / typed) - 1.0)
        );
    }
    let wide = Problem::small().with_size(3000, 30);
    let ceiling = ceilings.for_stage(Some(Stage::Typed), &wide, &RunOptions::final_field(), 1);
    let mut far = Comparison::new(&wide, &RunOptions::final_field(), 5)?;
    let typed = far.add_stage(Stage::Typed)?.mcells_per_s();
    println!(
        "typed, 3000 x 3000, two fields: {typed:.0} of {:.0} M/s ({:.0}%), {}",
        ceiling.mcells_per_s,
        100.0 * typed / ceiling.mcells_per_s,
        ceiling.bound
    );
    Ok(())
}
