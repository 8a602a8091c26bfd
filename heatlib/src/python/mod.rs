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
//! (`bash kernel-setup/setup.sh` makes it).
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

use serde_json::Value;

use crate::benchmark::Comparison;
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
    pub tool: String,
    /// The Rust stage that teaches the same idea.
    pub counterpart: Option<Stage>,
    /// The timed runs, after one warm-up.
    pub timing: Timing,
    /// The warm-up run, set-up included: for Numba and JAX, the first call with its compilation.
    pub first_run_s: f64,
    /// For Cython, the time spent compiling the module (0 when it was already built).
    pub build_s: f64,
    /// Threads it ran on; `None` where the tool decides (JAX).
    pub threads: Option<usize>,
    /// `(nt - 1) (nx - 2)^2`.
    pub cell_updates: u64,
    /// Largest absolute difference of its final field from heatlib's reference.
    pub max_abs_diff: f64,
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
    /// heatpy's JSON, as it wrote it: rows with `heat bench --json`'s keys.
    pub json: String,
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

    /// Reads what `python -m heatpy bench --json` wrote.
    pub fn from_json(text: &str) -> Result<PythonSide> {
        let document: Value = serde_json::from_str(text)
            .map_err(|e| python_error(format!("heatpy's JSON does not parse: {e}")))?;
        let rows = document["rows"]
            .as_array()
            .ok_or_else(|| python_error("heatpy's JSON has no \"rows\" list".into()))?
            .iter()
            .map(python_row)
            .collect::<Result<Vec<_>>>()?;
        let left_out = document["left_out"]
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|pair| (text_of(&pair[0]), text_of(&pair[1])))
                    .collect()
            })
            .unwrap_or_default();
        Ok(PythonSide {
            rows,
            left_out,
            json: text.to_string(),
        })
    }
}

fn python_row(row: &Value) -> Result<PythonRow> {
    let number = |key: &str| {
        row[key]
            .as_f64()
            .ok_or_else(|| python_error(format!("a row of heatpy's JSON has no number \"{key}\"")))
    };
    let runs = row["runs_s"]
        .as_array()
        .map(|runs| runs.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
        .filter(|runs| !runs.is_empty())
        .ok_or_else(|| python_error("a row of heatpy's JSON has no \"runs_s\"".into()))?;
    Ok(PythonRow {
        name: text_of(&row["stage"]),
        tool: text_of(&row["python_analog"]),
        counterpart: row["rust_counterpart"]
            .as_str()
            .and_then(|name| name.parse().ok()),
        timing: Timing { runs },
        first_run_s: number("first_run_s")?,
        build_s: row["build_s"].as_f64().unwrap_or(0.0),
        threads: row["threads"].as_u64().map(|t| t as usize),
        cell_updates: row["cell_updates"]
            .as_u64()
            .ok_or_else(|| python_error("a row of heatpy's JSON has no \"cell_updates\"".into()))?,
        max_abs_diff: row["max_abs_diff"].as_f64().unwrap_or(f64::NAN),
    })
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn python_error(message: String) -> HeatError {
    HeatError::Python { message }
}

/// The repository this heatlib was built from: heatpy lives in its `python/` folder.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `HEAT_PYTHON`, else the tutorial's `.venv`, with heatpy on its path.
fn python_command() -> Result<Command> {
    let python = match std::env::var_os("HEAT_PYTHON") {
        Some(chosen) => PathBuf::from(chosen),
        None => {
            let tutorial = repository().join(".venv/bin/python");
            if !tutorial.exists() {
                return Err(python_error(format!(
                    "no Python environment at {}; run bash kernel-setup/setup.sh --setup-only (or set HEAT_PYTHON to a Python with NumPy)",
                    tutorial.display()
                )));
            }
            tutorial
        }
    };
    let mut command = Command::new(python);
    command.env("PYTHONPATH", repository().join("python"));
    Ok(command)
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

    /// Two rows as heatpy writes them, one left out.
    const HEATPY: &str = r#"{"rows": [
        {"stage": "numba", "python_analog": "Numba @njit", "rust_counterpart": "typed",
         "runs_s": [0.004, 0.002, 0.003], "first_run_s": 0.5, "build_s": 0.0, "threads": 1,
         "cell_updates": 1000000, "max_abs_diff": 0.0},
        {"stage": "jax", "python_analog": "JAX jit on the CPU", "rust_counterpart": "no_such_stage",
         "runs_s": [0.01], "first_run_s": 0.3, "threads": null,
         "cell_updates": 1000000, "max_abs_diff": 1e-14}],
      "left_out": [["cython", "no C compiler"]]}"#;

    #[test]
    fn heatpy_json_is_read_and_paired_with_the_rust_stages() {
        let python = PythonSide::from_json(HEATPY).unwrap();
        assert_eq!(python.rows.len(), 2);
        assert_eq!(python.rows[0].counterpart, Some(Stage::Typed));
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
        for (text, says) in [
            ("not json", "does not parse"),
            ("{}", "no \"rows\""),
            (r#"{"rows": [{"stage": "numba"}]}"#, "runs_s"),
            (
                r#"{"rows": [{"runs_s": [1.0], "first_run_s": 1.0}]}"#,
                "cell_updates",
            ),
        ] {
            let error = PythonSide::from_json(text).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }
}
