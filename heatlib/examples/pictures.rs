//! Draws one of each picture into a folder, to look at them outside a notebook.
//!
//! `cargo run --release -p heatlib --example pictures -- OUT_DIR`

use heatlib::display::{Animation, BarChart, Heatmap, LinePlot, Series};
use heatlib::{Problem, RunOptions, Stage, compare};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out =
        std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "pictures".into()));
    std::fs::create_dir_all(&out)?;
    let problem = Problem::small();
    let solution = Stage::Typed.solve(&problem, &RunOptions::snapshots_every(20))?;
    Heatmap::new(solution.final_field.view())
        .title("Plate after 999 steps (1000 time levels)")
        .limits(0.0, 100.0)
        .save(out.join("heatmap.png"))?;
    let stages: Vec<Stage> = Stage::ALL
        .iter()
        .copied()
        .filter(|s| *s != Stage::Interpreted)
        .collect();
    compare(&problem, &stages, &RunOptions::final_field(), 1)?
        .heatmaps()?
        .save(out.join("stages.png"))?;
    Animation::from_snapshots(&solution.snapshots, Some((0.0, 100.0)), 40)?
        .save(out.join("heating.gif"))?;
    BarChart::new("Speed-up over the interpreted stage", "times faster")
        .bar("typed_checked", 1285.0)
        .bar("typed", 1948.0)
        .bar("vectorized", 1397.0)
        .bar("convolve", 328.0)
        .bar("parallel", 2097.0)
        .log_scale(true)
        .save(out.join("speedups.png"))?;
    let signal = (0..400).map(|k| {
        let t = k as f64 * 0.005;
        (t, (2.0 * std::f64::consts::PI * 2.0 * t).sin())
    });
    LinePlot::new("sin(2 pi f t), f = 2 Hz", "t (s)", "signal")
        .series(Series::new("signal", signal))
        .markers(false)
        .save(out.join("signal.png"))?;
    LinePlot::new("Time against plate size", "nx", "seconds")
        .series(Series::new(
            "typed",
            [(64.0, 0.0012), (256.0, 0.022), (1024.0, 0.4)],
        ))
        .series(Series::new(
            "parallel",
            [(64.0, 0.0015), (256.0, 0.012), (1024.0, 0.21)],
        ))
        .log_scale(true, true)
        .save(out.join("sweep.png"))?;
    println!("wrote pictures to {}", out.display());
    Ok(())
}
