//! `heat bench`: every stage timed on the same problem, next to the reference.

use std::path::PathBuf;

use clap::Args;
use heatlib::{Measurement, Problem, RunOptions, Stage, measure, reference};
use serde_json::json;

use crate::HistoryArg;

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
    /// Keep every time level or only the final field
    #[arg(long, value_enum, default_value_t = HistoryArg::Final)]
    history: HistoryArg,
    /// Threads for the parallel stage (default: RAYON_NUM_THREADS, else one per core)
    #[arg(long)]
    threads: Option<usize>,
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
    let options = RunOptions {
        storage: args.history.storage(),
        threads: args.threads,
    };
    let mut rows = Vec::new();
    for size in &sizes {
        let problem = &size.problem;
        let (stages, skipped) = match &chosen {
            Some(stages) => (stages.clone(), false),
            None if problem.cell_updates() > INTERPRETED_LIMIT => (
                Stage::ALL
                    .into_iter()
                    .filter(|s| *s != Stage::Interpreted)
                    .collect(),
                true,
            ),
            None => (Stage::ALL.to_vec(), false),
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
        print_table(size, args.history, &measured, skipped);
        let interpreted = measured
            .iter()
            .find(|m| m.stage == Stage::Interpreted)
            .map(|m| m.timing.median());
        rows.extend(
            measured
                .iter()
                .map(|m| json_row(size, args.history, m, interpreted)),
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
    })
}
