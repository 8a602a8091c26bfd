//! The webinar's Python versions, measured on this machine, beside the Rust stages.
//!
//! The repository's `python/heatpy` package holds the Python versions (pure
//! Python, Cython, Numba, NumPy, SciPy, JAX), written from the same update
//! rule. [`PythonSide::measure`] runs `python -m heatpy bench` on a
//! [`Comparison`]'s problem with the same method (warm-up, repeats, median),
//! hands it the comparison's reference as a `.npy` file so every Python row
//! has its `max |diff|` too, and reads the timings back from JSON with the
//! keys of `heat bench --json`. [`Comparison::beside`] pairs each Python row
//! with the Rust stage that teaches the same idea.
//!
//! The Python used is `HEAT_PYTHON` if set, else the tutorial's `.venv`
//! (`bash kernel-setup/setup.sh` makes it, heatpy installed: `python/pyproject.toml`).
//!
//! ```no_run
//! use heatlib::{compare, python::PythonSide, Problem, RunOptions, Stage};
//! let problem = Problem::small();
//! let rust = compare(&problem, &[Stage::Typed, Stage::Vectorized], &RunOptions::final_field(), 5)?;
//! let python = PythonSide::measure(&rust, &["numba", "numpy"])?;
//! println!("{}", rust.beside(&python).to_text());
//! # Ok::<(), heatlib::HeatError>(())
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::benchmark::{BenchRow, Comparison};
use crate::error::{HeatError, Result};
use crate::files::{ScratchFolder, write_npy};
use crate::options::Storage;
use crate::stages::Stage;
use crate::timing::Timing;

mod side_by_side;

pub use side_by_side::{Pair, SideBySide};

/// One Python version timed on a comparison's problem.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonRow {
    /// heatpy's name for it, e.g. `numba`.
    pub name: String,
    /// The tool and how it is used, e.g. "Numba @njit".
    pub python_analog: String,
    /// The Rust stage that teaches the same idea.
    pub rust_counterpart: Option<Stage>,
    /// The timed runs, after one warm-up.
    pub timing: Timing,
    /// The warm-up run, set-up included: for Numba and JAX, the first call with its compilation.
    pub first_run_s: f64,
    /// Threads it ran on; `None` where the tool decides (JAX).
    pub threads: Option<usize>,
    /// `(nt - 1) (nx - 2)^2`.
    pub cell_updates: u64,
    /// Largest absolute difference of its final field from heatlib's reference.
    pub max_abs_diff: f64,
    /// The row as heatpy wrote it.
    pub bench: BenchRow,
}

impl PythonRow {
    /// Million cell updates per second, at the median time.
    pub fn mcells_per_s(&self) -> f64 {
        self.cell_updates as f64 / self.timing.median() / 1e6
    }
}

/// The Python versions measured on one problem, and those that could not run here.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonSide {
    /// One row per version that ran.
    pub rows: Vec<PythonRow>,
    /// `(name, why)` for each version left out: its tool is missing here, or the problem is too long for it.
    pub left_out: Vec<(String, String)>,
}

impl PythonSide {
    /// Times the Python versions called `versions` (all of them when empty; pure
    /// Python only on problems of at most 10 million cell updates) on
    /// `rust`'s problem, storage, threads and repeats. Takes as long as the
    /// versions run, plus a few seconds to start Python and compile Numba and JAX.
    pub fn measure(rust: &Comparison, versions: &[&str]) -> Result<PythonSide> {
        // heatpy's --history takes Storage's own names, "final" and "full".
        if let Storage::Snapshots { .. } = rust.options.storage {
            return Err(python_error(
                "the Python versions keep the final field or the full history, not snapshots; compare with RunOptions::final_field() or full_history()".into(),
            ));
        }
        let history = rust.options.storage.name();
        let folder = ScratchFolder::new("heatlib-python")
            .map_err(|e| python_error(format!("cannot make a scratch folder: {e}")))?;
        let reference = folder.path().join("reference.npy");
        let timings = folder.path().join("python.json");
        write_npy(&reference, &rust.reference())
            .map_err(|e| python_error(e.to_string()))
            .and_then(|()| {
                let p = &rust.problem;
                let mut command = python_command()?;
                command.args(["-m", "heatpy", "bench", "--history", history]);
                for (flag, value) in [
                    ("--nx", p.nx.to_string()),
                    ("--nt", p.nt.to_string()),
                    ("--gamma", p.gamma().to_string()),
                    ("--top", p.boundary.top.to_string()),
                    ("--bottom", p.boundary.bottom.to_string()),
                    ("--left", p.boundary.left.to_string()),
                    ("--right", p.boundary.right.to_string()),
                    ("--initial", p.initial.to_string()),
                    ("--repeat", rust.repeat.to_string()),
                ] {
                    command.args([flag, &value]);
                }
                if let Some(threads) = rust.options.threads {
                    command.args(["--threads", &threads.to_string()]);
                }
                if !versions.is_empty() {
                    command.args(["--versions", &versions.join(",")]);
                }
                command.arg("--reference").arg(&reference);
                command.arg("--json").arg(&timings);
                run_python(command)?;
                let text = std::fs::read_to_string(&timings)
                    .map_err(|e| python_error(format!("heatpy wrote no timings: {e}")))?;
                PythonSide::from_json(&text)
            })
    }

    /// Reads what `python -m heatpy bench --json` wrote: `{"rows": [...],
    /// "left_out": [[name, why], ...]}`, each row a [`BenchRow`].
    pub fn from_json(text: &str) -> Result<PythonSide> {
        let document: HeatpyDocument = serde_json::from_str(text).map_err(|e| {
            python_error(format!("heatpy's JSON does not fit heat bench's rows: {e}"))
        })?;
        let rows = document
            .rows
            .into_iter()
            .map(PythonRow::from_bench_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(PythonSide {
            rows,
            left_out: document.left_out,
        })
    }
}

/// What heatpy writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeatpyDocument {
    rows: Vec<BenchRow>,
    #[serde(default)]
    left_out: Vec<(String, String)>,
}

impl PythonRow {
    fn from_bench_row(row: BenchRow) -> Result<PythonRow> {
        if row.runs_s.is_empty() {
            return Err(python_error(format!(
                "heatpy's row for {} has no runs",
                row.stage
            )));
        }
        Ok(PythonRow {
            name: row.stage.clone(),
            python_analog: row.python_analog.clone(),
            rust_counterpart: row
                .rust_counterpart
                .as_deref()
                .and_then(|name| name.parse().ok()),
            timing: Timing {
                runs: row.runs_s.clone(),
            },
            first_run_s: row.first_run_s,
            threads: row.threads,
            cell_updates: row.cell_updates,
            max_abs_diff: row.max_abs_diff.unwrap_or(f64::NAN),
            bench: row,
        })
    }
}

fn python_error(message: String) -> HeatError {
    HeatError::Python { message }
}

/// The repository this heatlib was built from: the tutorial's `.venv` is in it.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `HEAT_PYTHON`, else the tutorial's `.venv`; either with heatpy installed.
fn python_command() -> Result<Command> {
    let python = match std::env::var_os("HEAT_PYTHON") {
        Some(chosen) => PathBuf::from(chosen),
        None => {
            let tutorial = repository().join(".venv/bin/python");
            if !tutorial.exists() {
                return Err(python_error(format!(
                    "no Python environment at {}; run bash kernel-setup/setup.sh --setup-only (or set HEAT_PYTHON to a Python with heatpy installed: pip install ./python)",
                    tutorial.display()
                )));
            }
            tutorial
        }
    };
    Ok(Command::new(python))
}

fn run_python(mut command: Command) -> Result<()> {
    let output = command.output().map_err(|e| {
        python_error(format!(
            "cannot start {:?}: {e}; run bash kernel-setup/setup.sh --setup-only",
            command.get_program()
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    if said.contains("No module named heatpy") {
        return Err(python_error(format!(
            "heatpy is not installed in {:?}: run bash kernel-setup/setup.sh --setup-only \
             (or pip install ./python into that Python)",
            command.get_program()
        )));
    }
    let last: Vec<&str> = said.lines().rev().take(6).collect();
    let last: Vec<&str> = last.into_iter().rev().collect();
    Err(python_error(format!(
        "heatpy stopped ({}): {}",
        output.status,
        last.join(" | ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Problem, RunOptions, compare};

    /// A row as heatpy writes it, for version `stage` and Rust counterpart `rust`.
    fn heatpy_row(stage: &str, tool: &str, rust: &str, runs: &str, threads: &str) -> String {
        format!(
            r#"{{"stage": "{stage}", "language": "python", "python_analog": "{tool}",
               "rust_counterpart": "{rust}", "idea": null, "nx": 100, "nt": 101, "gamma": 0.25,
               "history": "final", "threads": {threads}, "repeat": 3, "median_s": 0.003,
               "min_s": 0.002, "max_s": 0.004, "mean_s": 0.003, "std_s": 0.001,
               "runs_s": {runs}, "setup_median_s": 0.0, "cell_updates": 1000000,
               "mcells_per_s": 333.3, "baseline": null, "speed_up": null,
               "max_abs_diff": 0.0, "first_run_s": 0.5,
               "device": {{"name": "cpu:0"}}}}"#
        )
    }

    /// Two rows as heatpy writes them, one left out.
    fn heatpy() -> String {
        format!(
            r#"{{"rows": [{}, {}], "left_out": [["cython", "no C compiler"]]}}"#,
            heatpy_row(
                "numba",
                "Numba @njit",
                "typed",
                "[0.004, 0.002, 0.003]",
                "1"
            ),
            heatpy_row(
                "jax",
                "JAX jit on the CPU",
                "no_such_stage",
                "[0.01]",
                "null"
            ),
        )
    }

    #[test]
    fn heatpy_json_is_read_and_paired_with_the_rust_stages() {
        let python = PythonSide::from_json(&heatpy()).unwrap();
        assert_eq!(python.rows.len(), 2);
        assert_eq!(python.rows[0].rust_counterpart, Some(Stage::Typed));
        assert_eq!(python.rows[0].timing.median(), 0.003);
        assert_eq!(python.rows[0].mcells_per_s(), 1e6 / 0.003 / 1e6);
        assert_eq!(python.rows[1].threads, None);
        assert_eq!(
            python.left_out,
            vec![("cython".to_string(), "no C compiler".to_string())]
        );

        let problem = Problem::small().with_size(20, 50);
        let rust = compare(&problem, &[Stage::Typed], &RunOptions::final_field(), 1).unwrap();
        let side = rust.beside(&python);
        let typed = rust.rows[0].timing.median();
        assert_eq!(side.pairs[0].rust_over_python(), 0.003 / typed);
        assert!(side.pairs[1].rust.is_none() && side.pairs[1].rust_over_python().is_nan());
        let text = side.to_text();
        assert!(
            text.contains("Numba @njit") && text.contains("typed"),
            "{text}"
        );
        assert!(text.contains("(cython not run: no C compiler)"), "{text}");
        assert!(!text.contains("speed-up over"), "{text}");
    }

    #[test]
    fn broken_heatpy_json_is_an_error_that_says_what_is_missing() {
        let no_runs = heatpy().replace("[0.01]", "[]");
        let unknown_key = heatpy().replace("\"first_run_s\"", "\"first_run\": 0, \"first_run_s\"");
        for (text, says) in [
            ("not json".to_string(), "does not fit"),
            ("{}".to_string(), "missing field `rows`"),
            (
                r#"{"rows": [{"stage": "numba"}]}"#.to_string(),
                "missing field",
            ),
            (no_runs, "jax has no runs"),
            (unknown_key, "unknown field `first_run`"),
        ] {
            let error = PythonSide::from_json(&text).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn python_rows_go_back_out_with_their_ratio_and_ceiling() {
        let python = PythonSide::from_json(&heatpy()).unwrap();
        let problem = Problem::small().with_size(20, 50);
        let rust = compare(&problem, &[Stage::Typed], &RunOptions::final_field(), 1).unwrap();
        let rows = rust.beside(&python).bench_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].rust_over_python,
            Some(0.003 / rust.rows[0].timing.median())
        );
        assert_eq!(
            rows[1].rust_over_python, None,
            "JAX has no Rust counterpart here"
        );
        assert_eq!(
            rows[0].device.as_ref().map(|d| d.name.as_str()),
            Some("cpu:0")
        );
        let written = serde_json::to_string(&rows).unwrap();
        let read: Vec<crate::BenchRow> = serde_json::from_str(&written).unwrap();
        assert_eq!(read, rows);
    }
}
