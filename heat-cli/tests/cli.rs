//! The `heat` command as a user runs it: files written, tables printed, errors on one line.

use std::path::PathBuf;
use std::process::{Command, Output};

use heatlib::{Boundary, Problem, max_abs_diff, reference};
use ndarray::{Array2, Array3};

fn heat(args: &[&str]) -> Output {
    heat_command()
        .args(args)
        .output()
        .expect("the heat binary runs")
}

fn heat_with(variable: &str, value: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    heat_command()
        .args(args)
        .env(variable, value)
        .output()
        .expect("the heat binary runs")
}

/// `heat`, keeping the machine's ceilings in this test run's own file: measured
/// while other tests run, they are no figures for the notebooks.
fn heat_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heat"));
    command.env(heatlib::roofline::FILE_VARIABLE, scratch("roofline.json"));
    command
}

/// The standard output of a run that must have succeeded; its stderr is the failure message.
fn stdout_of_success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The rows `heat bench --json` wrote: heatlib's BenchRow, every key known
/// (unknown keys are refused).
fn bench_rows(path: &std::path::Path) -> Vec<heatlib::BenchRow> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("heat-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn run_writes_the_final_field_as_npy() {
    let out = scratch("final.npy");
    let output = heat(&[
        "run",
        "--stage",
        "vectorized",
        "--nx",
        "23",
        "--nt",
        "40",
        "--gamma",
        "0.2",
        "--top",
        "80",
        "--bottom",
        "10",
        "--left",
        "-5",
        "--right",
        "30",
        "--initial",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    stdout_of_success(&output);
    let field: Array2<f64> = ndarray_npy::read_npy(&out).unwrap();
    let problem = Problem::small()
        .with_size(23, 40)
        .with_gamma(0.2)
        .with_boundary(Boundary {
            top: 80.0,
            bottom: 10.0,
            left: -5.0,
            right: 30.0,
        })
        .with_initial(20.0);
    let exact = reference::final_field(&problem).unwrap();
    assert!(max_abs_diff(field.view(), exact.view()) <= 1e-12);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("max |diff| from reference"), "{stdout}");
}

#[test]
fn run_draws_a_heatmap_when_asked() {
    let (out, png) = (scratch("drawn.npy"), scratch("drawn.png"));
    let output = heat(&[
        "run",
        "--nx",
        "30",
        "--nt",
        "50",
        "--out",
        out.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    stdout_of_success(&output);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5_000);
}

#[test]
fn run_writes_the_full_history_with_its_shape() {
    let out = scratch("history.npy");
    let output = heat(&[
        "run",
        "--stage",
        "parallel",
        "--threads",
        "3",
        "--nx",
        "12",
        "--nt",
        "9",
        "--history",
        "full",
        "--out",
        out.to_str().unwrap(),
    ]);
    stdout_of_success(&output);
    let history: Array3<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert_eq!(history.dim(), (9, 12, 12));
    let exact = reference::history(&Problem::small().with_size(12, 9)).unwrap();
    for (level, expected) in history.outer_iter().zip(exact.outer_iter()) {
        assert!(max_abs_diff(level, expected) <= 1e-12);
    }
}

#[test]
fn stages_lists_every_stage_with_its_python_counterpart() {
    let output = heat(&["stages"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for stage in heatlib::Stage::ALL {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(stage.name()))
            .unwrap_or_default();
        assert!(line.contains(stage.python_analog()), "{stage}: {stdout}");
    }
    let output = heat(&["stages", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|stage| stage["name"].as_str())
        .collect();
    let expected: Vec<&str> = heatlib::Stage::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names, expected);
}

#[test]
fn bench_prints_a_table_and_writes_json_rows() {
    let json = scratch("bench.json");
    let output = heat(&[
        "bench",
        "--size",
        "12:30,20:10",
        "--repeat",
        "2",
        "--threads",
        "2",
        "--history",
        "full",
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = stdout_of_success(&output);
    assert!(
        stdout.contains("M cell updates/s") && stdout.contains("speed-up over interpreted"),
        "{stdout}"
    );
    let typed = bench_rows(&json);
    assert_eq!(typed.len(), 2 * heatlib::Stage::ALL.len());
    for row in &typed {
        assert_eq!(row.history, "full", "{row:?}");
        assert_eq!(row.baseline.as_deref(), Some("interpreted"), "{row:?}");
        assert_eq!(row.runs_s.len(), 2, "{row:?}");
        assert!(
            row.max_abs_diff.is_some_and(|diff| diff <= 1e-12),
            "{row:?}"
        );
        // The threaded stages run on the two threads asked for; the wavefront
        // with the full history runs typed's loop, on one.
        let threads = match row.stage.as_str() {
            "parallel" | "parallel_rows" => 2,
            _ => 1,
        };
        assert_eq!(row.threads, Some(threads), "{row:?}");
    }
}

/// The stage tables of heatlib's front page and of docs/stages.md are `heat stages --json`.
#[test]
fn the_stage_tables_in_the_docs_are_heat_stages_json() {
    let output = heat(&["stages", "--json"]);
    let stages: serde_json::Value = serde_json::from_str(&stdout_of_success(&output)).unwrap();
    let rows: Vec<String> = stages
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "| `{}` | {} | {} |",
                s["name"].as_str().unwrap(),
                s["python_analog"].as_str().unwrap(),
                s["idea"].as_str().unwrap()
            )
        })
        .collect();
    for (file, prefix) in [("../docs/stages.md", ""), ("../heatlib/src/lib.rs", "//! ")] {
        let text =
            std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let table: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .filter(|line| line.starts_with("| `"))
            .collect();
        assert_eq!(
            table, rows,
            "{file}: its stage table is not `heat stages --json`"
        );
    }
}

/// The published schema of the rows is the one heat writes, made from heatlib's BenchRow.
#[test]
fn the_published_bench_row_schema_is_the_one_heat_writes() {
    let output = heat(&["bench", "--schema"]);
    let printed = stdout_of_success(&output);
    let published = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/bench-row.schema.json");
    let committed = std::fs::read_to_string(published).unwrap();
    assert!(
        printed == committed,
        "docs/bench-row.schema.json is out of date: run `heat bench --schema > docs/bench-row.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let required = &schema["$defs"]["BenchRow"]["required"];
    assert!(required.as_array().unwrap().contains(&"median_s".into()));
}

/// `heat roofline --json`: every figure a positive number, and a working set
/// in L1 walked faster than one in main memory, for every pattern and thread count.
#[test]
fn roofline_measures_ceilings_that_fall_from_cache_to_memory() {
    let json = scratch("ceilings.json");
    let html = scratch("ceilings.html");
    let output = heat(&[
        "roofline",
        "--measure",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = stdout_of_success(&output);
    assert!(
        stdout.contains("GFLOP/s") && stdout.contains("L1"),
        "{stdout}"
    );
    let ceilings = heatlib::roofline::Ceilings::load(&json).unwrap();
    // --html writes the table printed, from the same measurement.
    let html = std::fs::read_to_string(&html).unwrap();
    assert_eq!(html, ceilings.table().to_html());
    assert!(!ceilings.caches.is_empty() && ceilings.cores >= 1);
    assert_eq!(ceilings.measured_on.len(), "2026-12-02".len());
    let positive = |x: f64| x.is_finite() && x > 0.0;
    for rate in &ceilings.flops {
        assert!(
            positive(rate.gflops) && rate.min_gflops <= rate.max_gflops,
            "{rate:?}"
        );
    }
    assert!(ceilings.bandwidth.iter().all(|b| positive(b.gb_per_s)
        && positive(b.min_gb_per_s)
        && b.min_gb_per_s <= b.gb_per_s
        && b.gb_per_s <= b.max_gb_per_s));
    for pattern in heatlib::roofline::Pattern::ALL {
        for rate in &ceilings.flops {
            let curve: Vec<_> = ceilings
                .bandwidth
                .iter()
                .filter(|b| b.pattern == pattern && b.threads == rate.threads)
                .collect();
            let (first, last) = (curve.first().unwrap(), curve.last().unwrap());
            assert!(first.working_set <= 16 << 10, "{first:?}");
            let largest_cache = ceilings.caches.iter().map(|c| c.bytes).max().unwrap();
            assert!(last.working_set >= 4 * largest_cache, "{last:?}");
            assert!(first.gb_per_s > last.gb_per_s, "{first:?} {last:?}");
        }
    }
}

/// `heat bench --json`: each row carries the model's ceiling for it and the
/// fraction of it reached; `--no-ceilings` leaves them out.
#[test]
fn bench_rows_carry_their_ceiling_and_the_fraction_reached() {
    let json = scratch("bench-ceilings.json");
    let output = heat(&[
        "bench",
        "--size",
        "60:100",
        "--stages",
        "typed,convolve",
        "--repeat",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = stdout_of_success(&output);
    assert!(stdout.contains("of ceiling"), "{stdout}");
    let rows = bench_rows(&json);
    for (row, (bytes, flops)) in rows.iter().zip([(24.0, 4.0), (56.0, 20.0)]) {
        let ceiling = row.ceiling.as_ref().unwrap();
        let limit = ceiling.mcells_per_s;
        assert!(limit > 0.0 && limit.is_finite(), "{row:?}");
        let reached = row.mcells_per_s / limit;
        assert!(
            (ceiling.fraction_reached - reached).abs() < 1e-12,
            "{row:?}"
        );
        assert_eq!(ceiling.bytes_per_update, bytes, "{row:?}");
        assert_eq!(ceiling.flops_per_update, flops, "{row:?}");
        assert!(!ceiling.bound.is_empty(), "{row:?}");
    }
    let output = heat(&[
        "bench",
        "--size",
        "20:10",
        "--stages",
        "typed",
        "--repeat",
        "1",
        "--no-ceilings",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(!stdout_of_success(&output).contains("of ceiling"));
    let rows = bench_rows(&json);
    assert!(rows[0].ceiling.is_none(), "{rows:?}");
}

/// The JSON's speed-ups are over its stated baseline, and the printed table and
/// the HTML one (`--html`, what the docs site includes) show the same ones.
#[test]
fn bench_prints_the_speed_ups_its_json_carries() {
    let json = scratch("baseline.json");
    let html = scratch("baseline.html");
    let output = heat(&[
        "bench",
        "--size",
        "40:50",
        "--stages",
        "typed_checked,typed,vectorized",
        "--baseline",
        "vectorized",
        "--repeat",
        "3",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = stdout_of_success(&output);
    assert!(stdout.contains("speed-up over vectorized"), "{stdout}");
    let rows = bench_rows(&json);
    let median = |name: &str| rows.iter().find(|r| r.stage == name).unwrap().median_s;
    let html = std::fs::read_to_string(&html).unwrap();
    for row in &rows {
        let speed_up = row.speed_up.unwrap();
        assert_eq!(row.baseline.as_deref(), Some("vectorized"));
        assert_eq!(
            speed_up,
            median("vectorized") / median(&row.stage),
            "{row:?}"
        );
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(row.stage.as_str()))
            .unwrap();
        let printed = heatlib::format_ratio(speed_up);
        assert!(
            line.contains(&format!(" {printed} ")),
            "{}: {stdout}",
            row.stage
        );
        // --html writes the same table: the stage's row carries the same speed-up.
        let html_row = html
            .lines()
            .find(|l| l.starts_with(&format!("<tr><td>{}</td>", row.stage)))
            .unwrap();
        assert!(html_row.contains(&format!(">{printed}</td>")), "{html}");
    }
    assert!(
        html.starts_with("<div class=\"heat-comparison\">"),
        "{html}"
    );
    let output = heat(&["bench", "--size", "20:10", "--baseline", "numpy"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no row called 'numpy'"), "{stderr}");
}

#[test]
fn bench_leaves_the_interpreter_out_of_large_problems_and_says_so() {
    let output = heat(&[
        "bench", "--size", "400:100", "--stages", "typed", "--repeat", "1",
    ]);
    assert!(output.status.success());
    let output = heat(&["bench", "--size", "300:200", "--repeat", "1"]);
    let stdout = stdout_of_success(&output);
    assert!(
        !stdout.lines().any(|l| l.starts_with("interpreted ")),
        "{stdout}"
    );
    assert!(stdout.contains("interpreted not run"), "{stdout}");
}

#[test]
fn errors_are_one_clear_line_and_a_failure_exit() {
    for (args, expected) in [
        (vec!["run", "--gamma", "0.3", "--out", "x.npy"], "unstable"),
        (
            vec!["run", "--stage", "numba", "--out", "x.npy"],
            "unknown stage 'numba'",
        ),
        (vec!["run", "--nx", "2", "--out", "x.npy"], "nx >= 3"),
        (vec!["bench", "--size", "huge"], "unknown size 'huge'"),
        (vec!["bench", "--size", "2:10"], "nx >= 3"),
        (vec!["bench", "--repeat", "0"], "at least 1"),
        (
            vec!["bench", "--repeat", "18446744073709551615"],
            "ask for at most 1000",
        ),
    ] {
        let output = heat(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let unwritable = heat(&[
        "run",
        "--nx",
        "5",
        "--nt",
        "2",
        "--out",
        "/nonexistent/dir/x.npy",
    ]);
    let stderr = String::from_utf8_lossy(&unwritable.stderr);
    assert!(
        !unwritable.status.success() && stderr.contains("cannot write"),
        "{stderr}"
    );
}

#[test]
fn devices_lists_the_opencl_devices() {
    let output = heat(&["devices"]);
    let stdout = stdout_of_success(&output);
    assert!(
        stdout.contains("fp64")
            && stdout
                .lines()
                .nth(1)
                .is_some_and(|l| l.trim_start().starts_with('0')),
        "{stdout}"
    );
}

#[test]
fn without_any_opencl_driver_the_error_says_what_to_install_and_cpu_stages_still_run() {
    let empty = scratch("no-icds");
    std::fs::create_dir_all(&empty).unwrap();
    let without_drivers = |args: &[&str]| heat_with("OCL_ICD_VENDORS", &empty, args);
    let output = without_drivers(&["devices"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("pocl-opencl-icd") && stderr.contains("clinfo -l"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let output = without_drivers(&["bench", "--size", "20:20", "--repeat", "1"]);
    let stdout = stdout_of_success(&output);
    assert!(
        stdout.contains("opencl not run: no OpenCL device"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("typed ")), "{stdout}");
}

#[test]
fn the_device_variable_picks_the_device() {
    let out = scratch("env.npy");
    let output = heat_with(
        "HEAT_OPENCL_DEVICE",
        "no such device",
        &[
            "run",
            "--stage",
            "opencl",
            "--nx",
            "10",
            "--nt",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("no OpenCL device matches 'no such device'"),
        "{stderr}"
    );
}

/// The three reproductions: each is one line on stderr, exit 1, and no file.
#[test]
fn too_big_and_overflowing_requests_get_a_message_and_write_nothing() {
    let out = scratch("refused.npy");
    let out = out.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["run", "--nx", "60000", "--nt", "10", "--out", out],
            "heat: a run of 60000 x 60000 nodes and 10 levels needs 57.60 GB",
        ),
        (
            vec!["bench", "--size", "60000:10", "--stages", "typed"],
            "a run of 60000 x 60000 nodes and 10 levels needs 57.60 GB",
        ),
        (
            vec!["run", "--initial", "1e308", "--top", "1e308", "--out", out],
            "heat: top temperature = 1e308 is too large",
        ),
        (
            vec![
                "run",
                "--stage",
                "interpreted",
                "--nx",
                "200",
                "--nt",
                "4000",
                "--time-budget",
                "0.2",
                "--out",
                out,
            ],
            "heat: stopped after the time budget of 0.2 s",
        ),
    ] {
        let output = heat(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!std::path::Path::new(out).exists(), "{args:?} wrote {out}");
    }
}

#[test]
fn bench_stops_at_its_budget_for_the_whole_bench() {
    let started = std::time::Instant::now();
    let output = heat(&[
        "bench",
        "--size",
        "100:2000",
        "--stages",
        "typed,vectorized",
        "--repeat",
        "1000",
        "--time-budget",
        "1",
        "--bench-budget",
        "0.5",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("out of time for the whole comparison while timing"),
        "{stderr}"
    );
    assert!(stderr.contains("--bench-budget 0.5 s"), "{stderr}");
    assert!(started.elapsed().as_secs_f64() < 10.0);
}

#[test]
#[cfg(unix)]
fn a_write_that_fails_part_way_leaves_the_previous_file_as_it_was() {
    let out = scratch("previous.npy");
    stdout_of_success(&heat(&[
        "run",
        "--nx",
        "5",
        "--nt",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    let before = std::fs::read(&out).unwrap();
    // A 4 KiB file size limit, as a full quota would stop the write of an 80 KB field.
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 4 && exec \"$0\" run --nx 100 --nt 10 --out \"$1\"")
        .arg(env!("CARGO_BIN_EXE_heat"))
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("heat: cannot write"), "{stderr}");
    assert!(stderr.contains("unchanged"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let folder = out.parent().unwrap();
    let partial = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .any(|entry| entry.file_name().to_string_lossy().ends_with(".partial"));
    assert!(!partial, "a partial file was left in {}", folder.display());
}

#[test]
fn the_reference_history_is_written_from_one_array() {
    let out = scratch("reference-history.npy");
    stdout_of_success(&heat(&[
        "reference",
        "--nx",
        "6",
        "--nt",
        "30",
        "--history",
        "full",
        "--out",
        out.to_str().unwrap(),
    ]));
    let history: Array3<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert_eq!(
        history,
        reference::history(&Problem::small().with_size(6, 30)).unwrap()
    );
}
