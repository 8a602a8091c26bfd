//! `heat`: run, time and list heatlib's stages from the command line.
//!
//! ```text
//! heat stages
//! heat run --stage typed --nx 101 --nt 2000 --out final.npy
//! heat bench --size small,large --repeat 5 --json bench.json
//! heat roofline --sweep --charts pictures/
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use heatlib::{
    Boundary, OpenClSettings, Precision, Problem, RunOptions, Stage, Storage, reference,
};

mod bench;
mod predictions;
mod roofline;

#[derive(Parser)]
#[command(
    name = "heat",
    version,
    about = "2-D heat flow, one solver in many stages: run, time and compare them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one stage and write the result as a NumPy .npy file
    Run(RunArgs),
    /// Time stages with warm-up and repeats, and compare them with the reference
    Bench(bench::BenchArgs),
    /// Measure this machine's ceilings (bandwidth per cache level, arithmetic) and place the stages on them
    Roofline(roofline::RooflineArgs),
    /// The webinar's predictions as polls, each answered from `heat bench --json` output
    Predictions(predictions::PredictionsArgs),
    /// Write the reference solution (the update rule written literally) as a .npy file
    Reference(ReferenceArgs),
    /// List the stages with their Python counterparts
    Stages {
        /// Print them as a JSON list (name, python_analog, idea), for scripts
        #[arg(long)]
        json: bool,
    },
    /// List the OpenCL platforms and devices the opencl stage can use
    Devices,
}

/// What a run keeps and where it runs: shared by `run` and `bench`.
#[derive(Args)]
pub struct ExecutionArgs {
    /// Keep every time level (shape nt x nx x nx) or only the final field (nx x nx)
    #[arg(long, value_enum, default_value_t = HistoryArg::Final)]
    history: HistoryArg,
    /// Threads for the parallel stage (default: RAYON_NUM_THREADS, else one per core)
    #[arg(long)]
    threads: Option<usize>,
    /// Stop a run still going after this many seconds, with a message (default: no limit)
    #[arg(long, value_name = "SECONDS", value_parser = parse_time_budget)]
    time_budget: Option<Duration>,
    #[command(flatten)]
    device: DeviceArgs,
}

/// A comma-separated list of stage names, as `bench --stages` and `roofline --stages` take it.
pub(crate) fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    text.split(',')
        .map(|name| name.parse::<Stage>().map_err(|e| e.to_string()))
        .collect()
}

/// Writes `text` to `path` (whole or not at all, as heatlib writes every file) and says so
/// on stderr: what `--json`, `--html` and `--sweep-json` do with their file.
pub(crate) fn write_output(path: &std::path::Path, text: &str) -> Result<(), String> {
    heatlib::write_text(path, text).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub(crate) fn parse_time_budget(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .filter(|budget| !budget.is_zero())
        .ok_or_else(|| format!("'{text}' is not a number of seconds greater than 0, e.g. 30"))
}

impl ExecutionArgs {
    pub fn options(&self) -> RunOptions {
        RunOptions {
            storage: self.history.storage(),
            threads: self.threads,
            opencl: self.device.settings(),
            time_budget: self.time_budget,
        }
    }
}

/// Where and how the opencl stage runs.
#[derive(Args)]
pub struct DeviceArgs {
    /// OpenCL device for the opencl stage: an index from `heat devices` or part of its name
    /// (default: HEAT_OPENCL_DEVICE, else the first GPU, else the first CPU device)
    #[arg(long)]
    device: Option<String>,
    /// Number format on the OpenCL device; f32 keeps about 7 significant digits
    #[arg(long, value_enum, default_value_t = PrecisionArg::F64)]
    precision: PrecisionArg,
    /// OpenCL work-group size as COLUMNSxROWS, e.g. 32x8 (default: chosen for the device)
    #[arg(long, value_parser = parse_work_group)]
    work_group: Option<[usize; 2]>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PrecisionArg {
    F64,
    F32,
}

fn parse_work_group(text: &str) -> Result<[usize; 2], String> {
    text.split_once(['x', 'X'])
        .and_then(|(c, r)| Some([c.trim().parse().ok()?, r.trim().parse().ok()?]))
        .ok_or_else(|| format!("'{text}' is not COLUMNSxROWS, e.g. 32x8"))
}

impl DeviceArgs {
    pub fn settings(&self) -> OpenClSettings {
        OpenClSettings {
            device: self.device.clone(),
            precision: match self.precision {
                PrecisionArg::F64 => Precision::F64,
                PrecisionArg::F32 => Precision::F32,
            },
            work_group: self.work_group,
        }
    }
}

#[derive(Args)]
struct RunArgs {
    /// Stage to run (see `heat stages`)
    #[arg(long, default_value = "typed")]
    stage: String,
    #[command(flatten)]
    problem: ProblemArgs,
    #[command(flatten)]
    execution: ExecutionArgs,
    /// Where to write the .npy file (load it with numpy.load); nothing is written when the
    /// run fails, a result with infinite or NaN values included
    #[arg(long)]
    out: PathBuf,
    /// Also draw the final field as a heatmap (PNG), colours from 0 to 100 as in the webinar
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Args)]
struct ReferenceArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    /// Write every time level (shape nt x nx x nx) or only the final field (nx x nx)
    #[arg(long, value_enum, default_value_t = HistoryArg::Final)]
    history: HistoryArg,
    /// Where to write the .npy file; nothing is written when the problem is refused
    #[arg(long)]
    out: PathBuf,
}

/// The plate: the webinar's small problem unless told otherwise.
#[derive(Args)]
struct ProblemArgs {
    /// Nodes per side
    #[arg(long, default_value_t = 50)]
    nx: usize,
    /// Time levels, the initial one included
    #[arg(long, default_value_t = 1000)]
    nt: usize,
    /// alpha*dt/dx^2, at most 0.25 (default: 0.25, the webinar's dt = dx^2/(4 alpha))
    #[arg(long, allow_negative_numbers = true)]
    gamma: Option<f64>,
    /// Temperature of the top edge (the last row)
    #[arg(long, default_value_t = 100.0, allow_negative_numbers = true)]
    top: f64,
    /// Temperature of the bottom edge (row 0)
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    bottom: f64,
    /// Temperature of the left edge (column 0)
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    left: f64,
    /// Temperature of the right edge (the last column)
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    right: f64,
    /// Initial temperature of the interior
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    initial: f64,
}

impl ProblemArgs {
    fn problem(&self) -> Problem {
        let problem = Problem::small()
            .with_size(self.nx, self.nt)
            .with_boundary(Boundary {
                top: self.top,
                bottom: self.bottom,
                left: self.left,
                right: self.right,
            })
            .with_initial(self.initial);
        match self.gamma {
            Some(gamma) => problem.with_gamma(gamma),
            None => problem,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HistoryArg {
    Full,
    Final,
}

impl HistoryArg {
    fn storage(self) -> Storage {
        match self {
            HistoryArg::Full => Storage::FullHistory,
            HistoryArg::Final => Storage::FinalField,
        }
    }
}

fn main() -> ExitCode {
    // Past a file size limit, Unix stops the process with SIGXFSZ, before heat
    // can remove the half-written file beside the destination; ignored, the
    // write fails with "File too large" instead, and heat cleans up and says so.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore" at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Roofline(args) => roofline::roofline(&args),
        Command::Predictions(args) => predictions::predictions(&args),
        Command::Reference(args) => write_reference(&args),
        Command::Stages { json } => {
            print_stages(json);
            Ok(())
        }
        Command::Devices => print_devices(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("heat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &RunArgs) -> Result<(), String> {
    let stage: Stage = args.stage.parse().map_err(|e| format!("{e}"))?;
    let problem = args.problem.problem();
    let options = args.execution.options();
    let start = std::time::Instant::now();
    let solution = stage.solve(&problem, &options).map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let exact = reference::final_field(&problem).map_err(|e| e.to_string())?;
    let difference = heatlib::max_abs_diff(solution.final_field.view(), exact.view());
    match &solution.history {
        Some(history) => heatlib::write_npy(&args.out, history),
        None => heatlib::write_npy(&args.out, &solution.final_field),
    }
    .map_err(|e| e.to_string())?;
    println!(
        "{stage}: nx = {}, nt = {}, gamma = {}, {seconds:.4} s, max |diff| from reference = {difference:.1e}; wrote {}",
        problem.nx,
        problem.nt,
        problem.gamma(),
        args.out.display()
    );
    if let Some(path) = &args.png {
        heatlib::display::Heatmap::new(solution.final_field.view())
            .title(format!(
                "{stage}: nx = {}, step {}",
                problem.nx,
                problem.nt - 1
            ))
            .limits(0.0, 100.0)
            .save(path)
            .map_err(|e| e.to_string())?;
        println!("drew {}", path.display());
    }
    if let Some(run) = &solution.device {
        println!("{}", bench::describe_device_run(run));
    }
    Ok(())
}

fn write_reference(args: &ReferenceArgs) -> Result<(), String> {
    let problem = args.problem.problem();
    match args.history {
        HistoryArg::Final => {
            let field = reference::final_field(&problem).map_err(|e| e.to_string())?;
            heatlib::write_npy(&args.out, &field)
        }
        HistoryArg::Full => {
            let history = reference::history(&problem).map_err(|e| e.to_string())?;
            heatlib::write_npy(&args.out, &history)
        }
    }
    .map_err(|e| e.to_string())?;
    println!(
        "reference: nx = {}, nt = {}, gamma = {}; wrote {}",
        problem.nx,
        problem.nt,
        problem.gamma(),
        args.out.display()
    );
    Ok(())
}

#[cfg(feature = "opencl")]
fn print_devices() -> Result<(), String> {
    let devices = heatlib::opencl::devices().map_err(|e| e.to_string())?;
    println!(
        "{:>5}  {:<4} {:<40} {:>5} {:>10} {:>8} {:>5}  platform",
        "index", "type", "name", "units", "memory", "max wg", "fp64"
    );
    for d in devices {
        println!(
            "{:>5}  {:<4} {:<40} {:>5} {:>10} {:>8} {:>5}  {}",
            d.index,
            format!("{:?}", d.kind).to_uppercase(),
            d.name,
            d.compute_units,
            heatlib::Bytes(d.global_memory_bytes as u128).to_string(),
            d.max_work_group_size,
            if d.fp64 { "yes" } else { "no" },
            d.platform
        );
    }
    println!(
        "(choose one with --device INDEX or HEAT_OPENCL_DEVICE=INDEX; part of a name works too)"
    );
    Ok(())
}

#[cfg(not(feature = "opencl"))]
fn print_devices() -> Result<(), String> {
    Err("this heat was built without the opencl feature; build it with `--features opencl`".into())
}

fn print_stages(json: bool) {
    if json {
        let stages: Vec<serde_json::Value> = Stage::ALL
            .iter()
            .map(|stage| {
                serde_json::json!({
                    "name": stage.name(),
                    "python_analog": stage.python_analog(),
                    "idea": stage.idea(),
                    "skips_zero_centre": stage.skips_zero_centre(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::from(stages));
        return;
    }
    println!("{:<14} {:<42} idea", "stage", "Python counterpart");
    for stage in Stage::ALL {
        println!(
            "{:<14} {:<42} {}",
            stage.name(),
            stage.python_analog(),
            stage.idea()
        );
    }
}
