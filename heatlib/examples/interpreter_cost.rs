//! Where the interpreted stage's time goes: its work per cell, and the time per operation.
//!
//! `cargo run --release -p heatlib --example interpreter_cost`

use heatlib::stages::interpreted::{UPDATE_RULE, operations_per_cell};
use heatlib::{Problem, RunOptions, Stage, time_runs};

fn main() -> Result<(), heatlib::HeatError> {
    let count = operations_per_cell();
    let operations = count.name_lookups + count.subscripts + count.arithmetic + count.allocations;
    println!("rule: {UPDATE_RULE}");
    println!(
        "per cell update: {} name look-ups, {} list subscripts, {} type-dispatched arithmetic operations, {} heap allocations ({operations} in all)",
        count.name_lookups, count.subscripts, count.arithmetic, count.allocations
    );
    let problem = Problem::small();
    let options = RunOptions::final_field();
    for stage in [Stage::Interpreted, Stage::Typed] {
        let (timing, _) = time_runs(1, 5, || stage.solve(&problem, &options))?;
        let per_cell = timing.median() / problem.cell_updates() as f64 * 1e9;
        println!("{stage}: {per_cell:.2} ns per cell update (median of 5 runs)");
        if stage == Stage::Interpreted {
            println!(
                "  = {:.1} ns per interpreter operation",
                per_cell / operations as f64
            );
        }
    }
    Ok(())
}
