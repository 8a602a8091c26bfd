//! `heat bench`: every stage timed on the same problem, next to the reference.
//!
//! Each size is one [`Comparison`], measured by heatlib's benchmark module
//! and printed by it: the table here, a notebook's table and the docs site
//! show the same figures with the same baseline (`baseline` in the JSON).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use heatlib::python::PythonSide;
use heatlib::{Comparison, Measurement, Problem, Stage, Storage, seconds};
use serde_json::json;

use crate::ExecutionArgs;

/// Cell updates above which the interpreted stage only runs when asked for by name.
const INTERPRETED_LIMIT: u64 = 10_000_000;

#[derive(Args)]
pub struct BenchArgs {
    /// Problem sizes, comma-separated: small (50 x 50, 1000 time levels), large (200 x 200, 4000 time levels) or NX:NT (nodes per side : time levels)
    #[arg(long, default_value = "small,large")]
    size: String,
    /// Stages to time, comma-separated (default: all; on large problems all but interpreted)
    #[arg(long)]
    stages: Option<String>,
    /// Timed runs per stage, after one warm-up run (at most 1000)
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Stop the whole bench once it has run this long: the stages timed so far are
    /// printed (and written with --json), the one not done is left out, and heat says so
    /// and exits with status 1 (--time-budget bounds each run; the Python side is not bounded)
    #[arg(long, value_name = "SECONDS", default_value = "1800", value_parser = crate::parse_time_budget)]
    bench_budget: Duration,
    /// The stage speed-ups are measured against (default: the first stage timed)
    #[arg(long)]
    baseline: Option<String>,
    #[command(flatten)]
    execution: ExecutionArgs,
    /// Also time the webinar's Python versions (the repository's python/heatpy, run by
    /// HEAT_PYTHON or .venv/bin/python) on each size, and print them beside their Rust stages
    #[arg(long)]
    with_python: bool,
    /// Also write the rows as a JSON list to this file (Python rows have "language": "python")
    #[arg(long)]
    json: Option<PathBuf>,
    /// Leave out each row's predicted ceiling (the machine's ceilings are otherwise
    /// read from `heat roofline`'s kept measurement, or measured once, a few seconds)
    #[arg(long)]
    no_ceilings: bool,
}

struct Size {
    label: String,
    problem: Problem,
}

fn parse_sizes(text: &str) -> Result<Vec<Size>, String> {
    text.split(',')
        .map(str::trim)
        .map(|label| {
            let problem = match label {
                "small" => Problem::small(),
                "large" => Problem::large(),
                _ => {
                    let (nx, nt) = label
                        .split_once(':')
                        .and_then(|(nx, nt)| Some((nx.parse().ok()?, nt.parse().ok()?)))
                        .ok_or_else(|| {
                            format!(
                                "unknown size '{label}': use small, large or NX:NT such as 100:2000"
                            )
                        })?;
                    Problem::small().with_size(nx, nt)
                }
            };
            problem
                .validate()
                .map_err(|e| format!("size '{label}': {e}"))?;
            Ok(Size {
                label: label.to_string(),
                problem,
            })
        })
        .collect()
}

pub(crate) fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    text.split(',')
        .map(|name| name.parse::<Stage>().map_err(|e| e.to_string()))
        .collect()
}

pub fn bench(args: &BenchArgs) -> Result<(), String> {
    let sizes = parse_sizes(&args.size)?;
    let chosen = args.stages.as_deref().map(parse_stages).transpose()?;
    let options = args.execution.options();
    // A budget too long to add to the clock is no budget.
    let deadline = Instant::now().checked_add(args.bench_budget);
    let mut out_of_time = None;
    // Unless named, a stage that cannot run here is left out with a note.
    let unavailable = opencl_unavailable();
    // Read (or measured) once the first problem is known to be valid, so that a
    // mistyped option is refused at once, not after measuring.
    let mut ceilings = None;
    let mut rows = Vec::new();
    for size in &sizes {
        let problem = &size.problem;
        let (stages, skipped) = match &chosen {
            Some(stages) => (stages.clone(), false),
            None => {
                let slow = problem.cell_updates() > INTERPRETED_LIMIT;
                let stages = Stage::ALL
                    .iter()
                    .copied()
                    .filter(|s| !(slow && *s == Stage::Interpreted))
                    .filter(|s| unavailable.as_ref().is_none_or(|(stage, _)| s != stage))
                    .collect();
                (stages, slow)
            }
        };
        let mut comparison =
            Comparison::new(problem, &options, args.repeat).map_err(|e| e.to_string())?;
        if let Some(deadline) = deadline {
            comparison.set_deadline(deadline);
        }
        if !args.no_ceilings {
            if ceilings.is_none() {
                ceilings = Some(crate::roofline::kept_or_measured()?);
            }
            if let Some(ceilings) = &ceilings {
                comparison.set_ceilings(ceilings);
            }
        }
        for stage in stages {
            eprintln!(
                "timing {stage} on {} ({} runs after a warm-up)...",
                size.label, args.repeat
            );
            match comparison.add_stage(stage) {
                Ok(_) => {}
                Err(error @ heatlib::HeatError::ComparisonOutOfTime { .. }) => {
                    let budget_s = args.bench_budget.as_secs_f64();
                    out_of_time = Some(format!("{error} (--bench-budget {budget_s} s)"));
                    break;
                }
                Err(error) => return Err(error.to_string()),
            }
        }
        // Out of time, the rows timed so far are still printed and written, then the bench stops.
        if out_of_time.is_some() && comparison.rows.is_empty() {
            break;
        }
        if let Some(baseline) = &args.baseline {
            match comparison.set_baseline(baseline) {
                Err(_) if out_of_time.is_some() => {} // its row was not reached: the first row is the baseline
                outcome => outcome.map_err(|e| format!("--baseline: {e}"))?,
            }
        }
        print_table(size, &comparison, skipped);
        if let (None, Some((stage, why))) = (&chosen, &unavailable) {
            println!("({stage} not run: {why})");
        }
        rows.extend(
            comparison
                .rows
                .iter()
                .map(|row| json_row(size, &comparison, row)),
        );
        if out_of_time.is_some() {
            break;
        }
        if args.with_python {
            rows.extend(python_rows(size, &comparison)?);
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(message) = out_of_time {
        return Err(message);
    }
    Ok(())
}

fn print_table(size: &Size, comparison: &Comparison, interpreted_skipped: bool) {
    let p = &size.problem;
    println!("\n{}: {}", size.label, comparison.to_text().trim_end());
    if comparison.options.storage == Storage::FullHistory {
        let setup = comparison
            .rows
            .iter()
            .map(|row| row.setup.median())
            .fold(0.0, f64::max);
        println!(
            "(times exclude allocating the {} history before each run, as the Python versions do: up to {} here)",
            heatlib::history_bytes(p.nt, p.nx),
            seconds(setup)
        );
    }
    for (row, device) in comparison
        .rows
        .iter()
        .filter_map(|row| Some((row, row.device.as_ref()?)))
    {
        println!(
            "({}: first run {}; {})",
            row.name,
            seconds(row.first_run_s),
            describe_device_run(device)
        );
    }
    if interpreted_skipped {
        println!(
            "(interpreted not run: {} cell updates would take minutes; name it in --stages to run it)",
            p.cell_updates()
        );
    }
}

/// Times the Python versions on `comparison`'s problem, prints them beside
/// the Rust stages, and returns their JSON rows (heatpy's, with the size and
/// the ratio added).
fn python_rows(size: &Size, comparison: &Comparison) -> Result<Vec<serde_json::Value>, String> {
    eprintln!(
        "timing the Python versions on {} ({} runs after a warm-up each)...",
        size.label, comparison.repeat
    );
    let python = PythonSide::measure(comparison, &[]).map_err(|e| e.to_string())?;
    let side_by_side = comparison.beside(&python);
    println!("\n{}: {}", size.label, side_by_side.to_text().trim_end());
    let document: serde_json::Value =
        serde_json::from_str(&python.json).map_err(|e| format!("heatpy's JSON: {e}"))?;
    let rows = document["rows"].as_array().cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .zip(&side_by_side.pairs)
        .map(|(mut row, pair)| {
            row["size"] = json!(size.label);
            let ratio = pair.rust_over_python();
            row["rust_over_python"] = if ratio.is_finite() {
                json!(ratio)
            } else {
                serde_json::Value::Null
            };
            // The Python version on its Rust counterpart's ceiling: the same scale for both.
            if let Some(ceiling) = &pair.ceiling {
                row["ceiling"] = json!({
                    "mcells_per_s": ceiling.mcells_per_s,
                    "fraction_reached": pair.python.mcells_per_s() / ceiling.mcells_per_s,
                    "bound": ceiling.bound,
                    "of_rust_stage": pair.rust.as_ref().map(|rust| rust.name.as_str()),
                });
            }
            row
        })
        .collect())
}

/// One row of `--json`: each row says what ran, on what, how fast, against which baseline.
fn json_row(size: &Size, comparison: &Comparison, row: &Measurement) -> serde_json::Value {
    let ceiling = comparison.ceiling(row);
    json!({
        "stage": row.name,
        "language": "rust",
        "python_analog": row.python_analog(),
        "idea": row.stage.map(Stage::idea),
        "size": size.label,
        "nx": size.problem.nx,
        "nt": size.problem.nt,
        "gamma": size.problem.gamma(),
        "history": comparison.options.storage.name(),
        "threads": row.threads,
        "repeat": comparison.repeat,
        "median_s": row.timing.median(),
        "min_s": row.timing.min(),
        "max_s": row.timing.max(),
        "mean_s": row.timing.mean(),
        "std_s": row.timing.std_dev(),
        "runs_s": row.timing.runs,
        "setup_median_s": row.setup.median(),
        "cell_updates": row.cell_updates,
        "mcells_per_s": row.mcells_per_s(),
        "baseline": comparison.baseline().map(|base| base.name.as_str()),
        "speed_up": comparison.speed_up(row),
        "max_abs_diff": row.max_abs_diff,
        "first_run_s": row.first_run_s,
        "ceiling": ceiling.as_ref().map(|c| json!({
            "mcells_per_s": c.mcells_per_s,
            "fraction_reached": row.mcells_per_s() / c.mcells_per_s,
            "bound": c.bound,
            "level": c.level,
            "memory_mcells_per_s": c.memory_mcells_per_s,
            "arithmetic_mcells_per_s": c.arithmetic_mcells_per_s,
            "bytes_per_update": c.traffic.bytes_per_update,
            "flops_per_update": c.traffic.flops_per_update,
            "working_set": c.traffic.working_set,
            "pattern": c.traffic.pattern.name(),
            "why": c.traffic.why,
        })),
        "device": row.device.as_ref().map(|d| json!({
            "name": d.device,
            "compute_units": d.compute_units,
            "precision": format!("{:?}", d.precision).to_lowercase(),
            "work_group": d.work_group,
            "build_s": d.build_s,
            "upload_s": d.upload_s,
            "compute_s": d.compute_s,
            "download_s": d.download_s,
        })),
    })
}

/// One line on where an OpenCL run's time went.
pub fn describe_device_run(run: &heatlib::DeviceRun) -> String {
    format!(
        "on {} ({:?}, work group {}x{}): program build {:.3} s{}, upload {:.4} s, compute {:.4} s, download {:.4} s",
        run.device,
        run.precision,
        run.work_group[0],
        run.work_group[1],
        run.build_s,
        if run.build_s == 0.0 { " (reused)" } else { "" },
        run.upload_s,
        run.compute_s,
        run.download_s
    )
}

#[cfg(feature = "opencl")]
fn opencl_unavailable() -> Option<(Stage, String)> {
    heatlib::opencl::devices()
        .err()
        .map(|e| (Stage::OpenCl, e.to_string()))
}

#[cfg(not(feature = "opencl"))]
fn opencl_unavailable() -> Option<(Stage, String)> {
    None
}
