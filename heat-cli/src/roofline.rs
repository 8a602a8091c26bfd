//! `heat roofline`: this machine's ceilings, and the stages placed on them.
//!
//! The ceilings are measured once and kept (see `heatlib::roofline`); `--measure`
//! measures them again. `--sweep` times stages from a plate that fits in L1 to
//! one far past the last cache, each against its predicted ceiling.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use heatlib::benchmark::{self, SWEEP_SIDES, SweepPoint};
use heatlib::roofline::{Ceilings, Kept};
use heatlib::{Comparison, Problem, RunOptions, Stage};

#[derive(Args)]
pub struct RooflineArgs {
    /// Measure the ceilings again now (seconds, up to a minute on a slow machine), instead of reading the ones kept for this machine
    #[arg(long)]
    measure: bool,
    /// Also write the ceilings as JSON to this file
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the ceilings' table, as HTML, to this file (the docs site includes it)
    #[arg(long)]
    html: Option<PathBuf>,
    /// Also time stages on plates from 24 x 24 to 3000 x 3000 (about a minute), each
    /// against its ceiling
    #[arg(long)]
    sweep: bool,
    /// Stages for --sweep, comma-separated
    #[arg(long, default_value = "typed,vectorized,parallel")]
    stages: String,
    /// Plate sides for --sweep, comma-separated (default: 24 to 3000)
    #[arg(long)]
    sides: Option<String>,
    /// Timed runs per stage and plate in --sweep, after one warm-up (at most 1000)
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Write the sweep's points as JSON to this file
    #[arg(long)]
    sweep_json: Option<PathBuf>,
    /// Draw the charts into this folder: sweep.png (with --sweep) and roofline.png
    /// (every stage on the large plate, placed on the roofline)
    #[arg(long)]
    charts: Option<PathBuf>,
}

pub fn roofline(args: &RooflineArgs) -> Result<(), String> {
    let ceilings = if args.measure {
        eprintln!(
            "measuring this machine's ceilings (seconds, up to a minute on a slow machine)..."
        );
        let measured = Ceilings::measure().map_err(|e| e.to_string())?;
        if let Some(path) = Ceilings::file() {
            // The kept copy only saves time later; say so if it cannot be kept.
            if let Err(error) = measured.save(&path) {
                eprintln!("(not kept for next time: {error})");
            }
        }
        measured
    } else {
        kept_or_measured(None).map_err(|e| e.to_string())?
    };
    let table = ceilings.table();
    println!("{}", table.to_text().trim_end());
    if let Some(path) = &args.json {
        ceilings.save(path).map_err(|e| e.to_string())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.html {
        crate::write_output(path, &table.to_html())?;
    }
    let mut points = Vec::new();
    if args.sweep {
        let stages = crate::parse_stages(&args.stages)?;
        let sides = match &args.sides {
            Some(text) => parse_sides(text)?,
            None => SWEEP_SIDES.to_vec(),
        };
        eprintln!(
            "sweeping {} over {} plate sizes ({} runs after a warm-up each)...",
            args.stages,
            sides.len(),
            args.repeat
        );
        points =
            benchmark::sweep(&ceilings, &stages, &sides, args.repeat).map_err(|e| e.to_string())?;
        print_sweep(&points);
        if let Some(path) = &args.sweep_json {
            let text = serde_json::to_string_pretty(&points).map_err(|e| e.to_string())?;
            crate::write_output(path, &(text + "\n"))?;
        }
    }
    if let Some(folder) = &args.charts {
        draw_charts(folder, &ceilings, &points)?;
    }
    Ok(())
}

/// The ceilings kept for this machine; measured first (with a word, and why) if there
/// are none or the kept ones are refused, stopping at `deadline` if one is given.
pub fn kept_or_measured(deadline: Option<Instant>) -> Result<Ceilings, heatlib::HeatError> {
    match Ceilings::kept() {
        Kept::Usable(ceilings) => return Ok(ceilings),
        Kept::Refused(why) => eprintln!("(the kept ceilings are not used: {why})"),
        Kept::Missing => {}
    }
    eprintln!(
        "measuring this machine's ceilings once (seconds, up to a minute on a slow machine; kept for next time)..."
    );
    Ceilings::measure_and_keep(deadline)
}

fn parse_sides(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|side| {
            side.trim()
                .parse::<usize>()
                .ok()
                .filter(|&nx| nx >= 3)
                .ok_or_else(|| format!("'{side}' is not a plate side of at least 3 nodes"))
        })
        .collect()
}

fn print_sweep(points: &[SweepPoint]) {
    println!("\nsweep: final field, M cell updates/s against the predicted ceiling");
    println!(
        "{:<12} {:>6} {:>12} {:>8} {:>10} {:>8}  bound",
        "stage", "nx", "working set", "M/s", "ceiling", "reached"
    );
    for p in points {
        println!(
            "{:<12} {:>6} {:>12} {:>8.0} {:>10.0} {:>7.0}%  {}",
            p.stage,
            p.nx,
            heatlib::Bytes(u128::from(p.working_set)).to_string(),
            p.mcells_per_s,
            p.ceiling.mcells_per_s,
            100.0 * p.mcells_per_s / p.ceiling.mcells_per_s,
            p.ceiling.bound
        );
    }
}

fn draw_charts(
    folder: &std::path::Path,
    ceilings: &Ceilings,
    points: &[SweepPoint],
) -> Result<(), String> {
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
    if !points.is_empty() {
        let path = folder.join("sweep.png");
        ceilings
            .sweep_chart(points)
            .and_then(|chart| chart.save(&path))
            .map_err(|e| e.to_string())?;
        eprintln!("drew {}", path.display());
    }
    eprintln!("timing every stage on the large plate for the roofline chart...");
    let mut comparison = Comparison::new(&Problem::large(), &RunOptions::final_field(), 3)
        .map_err(|e| e.to_string())?;
    comparison.set_ceilings(ceilings);
    for stage in Stage::available() {
        if stage != Stage::Interpreted {
            comparison.add_stage(stage).map_err(|e| e.to_string())?;
        }
    }
    println!("\n{}", comparison.to_text().trim_end());
    let path = folder.join("roofline.png");
    comparison
        .roofline_chart()
        .and_then(|chart| chart.save(&path))
        .map_err(|e| e.to_string())?;
    eprintln!("drew {}", path.display());
    Ok(())
}
