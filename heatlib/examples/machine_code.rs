//! Prints the hot loop of every CPU stage's step, as this machine runs it.
//!
//! `cargo run --release -p heatlib --example machine_code [STAGE ...]`

use heatlib::Stage;
use heatlib::machine_code::MachineCode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let named: Vec<String> = std::env::args().skip(1).collect();
    let stages: Vec<Stage> = if named.is_empty() {
        vec![Stage::TypedChecked, Stage::Typed, Stage::Vectorized]
    } else {
        named
            .iter()
            .map(|name| name.parse())
            .collect::<Result<_, _>>()?
    };
    for stage in stages {
        let code = MachineCode::of_stage(stage)?;
        println!("{}{}", code.summary(), code.listing());
    }
    Ok(())
}
