//! `heat`: run, time and list heatlib's stages from the command line.
//!
//! ```text
//! heat stages
//! heat run --stage typed --nx 101 --nt 2000 --out final.npy
//! heat bench --size small,large --repeat 5 --json bench.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use heatlib::{Boundary, Problem, RunOptions, Stage, Storage, reference};

mod bench;

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
    /// List the stages with their Python counterparts
    Stages,
}

#[derive(Args)]
struct RunArgs {
    /// Stage to run (see `heat stages`)
    #[arg(long, default_value = "typed")]
    stage: String,
    #[command(flatten)]
    problem: ProblemArgs,
    /// Keep every time level (shape nt x nx x nx) or only the final field (nx x nx)
    #[arg(long, value_enum, default_value_t = HistoryArg::Final)]
    history: HistoryArg,
    /// Threads for the parallel stage (default: RAYON_NUM_THREADS, else one per core)
    #[arg(long)]
    threads: Option<usize>,
    /// Where to write the .npy file (load it with numpy.load)
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
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Stages => {
            print_stages();
            Ok(())
        }
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
    let options = RunOptions {
        storage: args.history.storage(),
        threads: args.threads,
    };
    let start = std::time::Instant::now();
    let solution = stage.solve(&problem, &options).map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let exact = reference::final_field(&problem).map_err(|e| e.to_string())?;
    let difference = heatlib::max_abs_diff(solution.final_field.view(), exact.view());
    let written = match &solution.history {
        Some(history) => ndarray_npy::write_npy(&args.out, history),
        None => ndarray_npy::write_npy(&args.out, &solution.final_field),
    };
    written.map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!(
        "{stage}: nx = {}, nt = {}, gamma = {}, {seconds:.4} s, max |diff| from reference = {difference:.1e}; wrote {}",
        problem.nx,
        problem.nt,
        problem.gamma(),
        args.out.display()
    );
    Ok(())
}

fn print_stages() {
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
