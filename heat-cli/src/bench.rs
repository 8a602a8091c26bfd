//! `heat bench`: every stage timed on the same problem, next to the reference.

use std::path::PathBuf;

use clap::Args;
use heatlib::{Measurement, Problem, Stage, measure, reference};
use serde_json::json;

use crate::{ExecutionArgs, HistoryArg};

/// Cell updates above which the interpreted stage only runs when asked for by name.
const INTERPRETED_LIMIT: u64 = 10_000_000;

#[derive(Args)]
pub struct BenchArgs {
    /// Problem sizes, comma-separated: small (50 x 50, 1000 steps), large (200 x 200, 4000 steps) or NX:NT
    #[arg(long, default_value = "small,large")]
    size: String,
    /// Stages to time, comma-separated (default: all; on large problems all but interpreted)
    #[arg(long)]
    stages: Option<String>,
    /// Timed runs per stage, after one warm-up run
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    #[command(flatten)]
    execution: ExecutionArgs,
    /// Also write the rows as a JSON list to this file
    #[arg(long)]
    json: Option<PathBuf>,
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

fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    text.split(',')
        .map(|name| name.parse::<Stage>().map_err(|e| e.to_string()))
        .collect()
}

pub fn bench(args: &BenchArgs) -> Result<(), String> {
    let sizes = parse_sizes(&args.size)?;
    let chosen = args.stages.as_deref().map(parse_stages).transpose()?;
    if args.repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    let options = args.execution.options();
    let history = args.execution.history;
    // Unless named, a stage that cannot run here is left out with a note.
    let unavailable = opencl_unavailable();
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
        let exact = reference::final_field(problem).map_err(|e| e.to_string())?;
        let mut measured = Vec::new();
        for stage in stages {
            eprintln!(
                "timing {stage} on {} ({} runs after a warm-up)...",
                size.label, args.repeat
            );
            measured.push(
                measure(stage, problem, &options, args.repeat, &exact)
                    .map_err(|e| e.to_string())?,
            );
        }
        print_table(size, history, &measured, skipped);
        if let (None, Some((stage, why))) = (&chosen, &unavailable) {
            println!("({stage} not run: {why})");
        }
        let interpreted = measured
            .iter()
            .find(|m| m.stage == Stage::Interpreted)
            .map(|m| m.timing.median());
        rows.extend(
            measured
                .iter()
                .map(|m| json_row(size, history, m, interpreted)),
        );
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn history_name(history: HistoryArg) -> &'static str {
    match history {
        HistoryArg::Full => "full",
        HistoryArg::Final => "final",
    }
}

fn print_table(
    size: &Size,
    history: HistoryArg,
    measured: &[Measurement],
    interpreted_skipped: bool,
) {
    let p = &size.problem;
    println!(
        "\n{}: nx = {}, nt = {}, gamma = {}, history = {}, {} cell updates",
        size.label,
        p.nx,
        p.nt,
        p.gamma(),
        history_name(history),
        p.cell_updates()
    );
    println!(
        "{:<14} {:>3} {:>11} {:>23} {:>10} {:>10} {:>13}",
        "stage", "thr", "median s", "min - max s", "Mcells/s", "speed-up", "max |diff|"
    );
    let interpreted = measured
        .iter()
        .find(|m| m.stage == Stage::Interpreted)
        .map(|m| m.timing.median());
    for m in measured {
        let speed_up = interpreted.map_or("-".to_string(), |t| {
            format!("{:.0}x", t / m.timing.median())
        });
        println!(
            "{:<14} {:>3} {:>11.6} {:>11.6} - {:>9.6} {:>10.1} {:>10} {:>13.2e}",
            m.stage.name(),
            m.threads,
            m.timing.median(),
            m.timing.min(),
            m.timing.max(),
            m.mcells_per_s(),
            speed_up,
            m.max_abs_diff
        );
    }
    if history == HistoryArg::Full {
        let setup = measured
            .iter()
            .map(|m| m.setup.median())
            .fold(0.0, f64::max);
        println!(
            "(times exclude allocating the {} history before each run, as the Python peers' do: up to {setup:.3} s here)",
            heatlib::history_bytes(p.nt, p.nx)
        );
    }
    for run in measured
        .iter()
        .filter_map(|m| Some((m, m.device.as_ref()?)))
    {
        let (m, device) = run;
        println!(
            "({}: first run {:.3} s; {})",
            m.stage,
            m.first_run_s,
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

fn json_row(
    size: &Size,
    history: HistoryArg,
    m: &Measurement,
    interpreted: Option<f64>,
) -> serde_json::Value {
    json!({
        "stage": m.stage.name(),
        "python_analog": m.stage.python_analog(),
        "idea": m.stage.idea(),
        "size": size.label,
        "nx": size.problem.nx,
        "nt": size.problem.nt,
        "gamma": size.problem.gamma(),
        "history": history_name(history),
        "threads": m.threads,
        "median_s": m.timing.median(),
        "min_s": m.timing.min(),
        "max_s": m.timing.max(),
        "mean_s": m.timing.mean(),
        "std_s": m.timing.std_dev(),
        "runs_s": m.timing.runs,
        "setup_median_s": m.setup.median(),
        "cell_updates": m.cell_updates,
        "mcells_per_s": m.mcells_per_s(),
        "speedup_vs_interpreted": interpreted.map(|t| t / m.timing.median()),
        "max_abs_diff": m.max_abs_diff,
        "first_run_s": m.first_run_s,
        "device": m.device.as_ref().map(|d| json!({
            "name": d.device,
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
