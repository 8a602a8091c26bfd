//! `heat bench`: every stage timed on the same problem, next to the reference.
//!
//! Each size is one [`Comparison`], measured by heatlib's benchmark module
//! and printed by it: the table here, a notebook's table and the docs site
//! show the same figures with the same baseline (`baseline` in the JSON).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use heatlib::python::{PythonSide, SideBySide};
use heatlib::roofline::Ceilings;
use heatlib::{BenchRow, Comparison, Problem, Stage, Storage, Table, format_seconds};

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
    /// Also write the tables printed, as HTML, to this file (the docs site includes it)
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print the JSON schema of the rows --json writes (docs/bench-row.schema.json), and exit
    #[arg(long)]
    schema: bool,
    /// Leave out each row's predicted ceiling (the machine's ceilings are otherwise
    /// read from `heat roofline`'s kept measurement, or measured once: seconds, up to a minute on a slow machine,
    /// at most half of --bench-budget)
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

pub fn bench(args: &BenchArgs) -> Result<(), String> {
    if args.schema {
        print!("{}", BenchRow::schema());
        return Ok(());
    }
    let sizes = parse_sizes(&args.size)?;
    let chosen = args
        .stages
        .as_deref()
        .map(crate::parse_stages)
        .transpose()?;
    let options = args.execution.options();
    // A budget too long to add to the clock is no budget.
    let started = Instant::now();
    let deadline = started.checked_add(args.bench_budget);
    let mut out_of_time = None;
    // Unless named, a stage that cannot run here is left out with a note.
    let unavailable = opencl_unavailable();
    // Read (or measured) once the first problem is known to be valid, so that a
    // mistyped option is refused at once, not after measuring.
    let mut ceilings = None;
    let mut rows = Vec::new();
    let mut tables = Vec::new();
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
                ceilings = Some(ceilings_within(started, args.bench_budget)?);
            }
            if let Some(Some(ceilings)) = &ceilings {
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
        let mut table = comparison_table(size, &comparison, skipped);
        if let (None, Some((stage, why))) = (&chosen, &unavailable) {
            table.notes.push(format!("({stage} not run: {why})"));
        }
        println!("\n{}: {}", size.label, table.to_text().trim_end());
        tables.push(table);
        rows.extend(comparison.bench_rows().into_iter().map(sized(size)));
        if out_of_time.is_some() {
            break;
        }
        if args.with_python {
            let side_by_side = python_side(size, &comparison)?;
            let table = side_by_side.table();
            println!("\n{}: {}", size.label, table.to_text().trim_end());
            rows.extend(side_by_side.bench_rows().into_iter().map(sized(size)));
            tables.push(table);
        }
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
        crate::write_output(path, &(text + "\n"))?;
    }
    if let Some(path) = &args.html {
        let html: String = tables.iter().map(Table::to_html).collect();
        crate::write_output(path, &html)?;
    }
    if let Some(message) = out_of_time {
        return Err(message);
    }
    Ok(())
}

/// The machine's ceilings, kept or measured within half the bench's budget;
/// `None` (with a word) when measuring them would take more of it than that, so
/// that the budget still times the stages.
fn ceilings_within(started: Instant, budget: Duration) -> Result<Option<Ceilings>, String> {
    let deadline = started.checked_add(budget / 2);
    match crate::roofline::kept_or_measured(deadline) {
        Ok(ceilings) => Ok(Some(ceilings)),
        Err(error @ heatlib::HeatError::CeilingsOutOfTime { .. }) => {
            eprintln!(
                "(the rows have no predicted ceilings: measuring them may use half of \
                 --bench-budget and did not finish in it: {error})"
            );
            Ok(None)
        }
        Err(error) => Err(error.to_string()),
    }
}

/// The comparison's table, with what the bench adds below it: the history's
/// allocation left out of the times, each device's run, the interpreter not run.
fn comparison_table(size: &Size, comparison: &Comparison, interpreted_skipped: bool) -> Table {
    let p = &size.problem;
    let mut table = comparison.table();
    if comparison.options.storage == Storage::FullHistory {
        let setup = comparison
            .rows
            .iter()
            .map(|row| row.setup.median())
            .fold(0.0, f64::max);
        table.notes.push(format!(
            "(times exclude allocating the {} history before each run, as the Python versions do: up to {} here)",
            heatlib::history_bytes(p.nt, p.nx),
            format_seconds(setup)
        ));
    }
    for (row, device) in comparison
        .rows
        .iter()
        .filter_map(|row| Some((row, row.device.as_ref()?)))
    {
        table.notes.push(format!(
            "({}: first run {}; {})",
            row.name,
            format_seconds(row.first_run_s),
            describe_device_run(device)
        ));
    }
    if interpreted_skipped {
        table.notes.push(format!(
            "(interpreted not run: {} cell updates would take minutes; name it in --stages to run it)",
            p.cell_updates()
        ));
    }
    table
}

/// Times the Python versions on `comparison`'s problem, beside the Rust stages.
fn python_side(size: &Size, comparison: &Comparison) -> Result<SideBySide, String> {
    eprintln!(
        "timing the Python versions on {} ({} runs after a warm-up each)...",
        size.label, comparison.repeat
    );
    let python = PythonSide::measure(comparison, &[]).map_err(|e| e.to_string())?;
    Ok(comparison.beside(&python))
}

/// Names the size a row was measured on.
fn sized(size: &Size) -> impl Fn(BenchRow) -> BenchRow + '_ {
    |mut row| {
        row.size = Some(size.label.clone());
        row
    }
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
