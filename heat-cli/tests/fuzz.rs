//! The `heat` command given random and malformed arguments: it answers with a
//! result (exit 0), a one-line message (exit 1) or clap's usage error (exit 2);
//! it never panics, aborts or is killed. The seed is fixed; the test prints what it tried.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// A number as a user might type it, or mistype it.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => (0u64..60).prop_map(|n| n.to_string()),
        10 => (-1.0..1.0f64).prop_map(|x| x.to_string()),
        1 => Just("0.25".to_string()),
        1 => Just("60000".to_string()),
        1 => Just("1e308".to_string()),
        1 => Just("-1e308".to_string()),
        1 => Just("NaN".to_string()),
        1 => Just("inf".to_string()),
        1 => Just("18446744073709551615".to_string()),
        1 => Just("99999999999999999999999".to_string()),
        1 => Just("".to_string()),
        1 => Just("1,5".to_string()),
        1 => Just("ten".to_string()),
    ]
}

/// A `--size` list: known names, NX:NT pairs, and pieces of both gone wrong.
fn sizes() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("small".to_string()),
        Just("huge".to_string()),
        Just(":".to_string()),
        Just("".to_string()),
        (number(), number()).prop_map(|(nx, nt)| format!("{nx}:{nt}")),
        (number(), number()).prop_map(|(nx, nt)| format!("{nx}::{nt}")),
        number(),
    ];
    prop::collection::vec(piece, 1..3).prop_map(|pieces| pieces.join(","))
}

/// Arguments of `heat run` or `heat bench`, each option present or not.
fn arguments() -> impl Strategy<Value = Vec<String>> {
    let option = |name: &'static str, value: BoxedStrategy<String>| {
        prop::option::weighted(0.4, value).prop_map(move |v| v.map(|v| [format!("--{name}"), v]))
    };
    let run = (
        option("nx", number().boxed()),
        option("nt", number().boxed()),
        option("gamma", number().boxed()),
        option("initial", number().boxed()),
        option("top", number().boxed()),
        option("threads", number().boxed()),
        // Budgets of at most 2 s, or malformed: a valid long budget on a huge nt would run for hours.
        option(
            "time-budget",
            prop_oneof![
                8 => Just("2"),
                4 => Just("0.5"),
                1 => prop_oneof![
                    Just("0"), Just("-1"), Just("1e308"), Just("NaN"), Just("inf"), Just("ten")
                ],
            ]
            .prop_map(str::to_string)
            .boxed(),
        ),
        option(
            "work-group",
            (number(), number())
                .prop_map(|(c, r)| format!("{c}x{r}"))
                .boxed(),
        ),
        prop_oneof![
            Just("typed"),
            Just("parallel"),
            Just("convolve"),
            Just("nope")
        ],
        prop_oneof![6 => Just("final"), 3 => Just("full"), 1 => Just("all")],
    )
        .prop_map(
            |(nx, nt, gamma, initial, top, threads, budget, wg, stage, history)| {
                let mut args: Vec<String> = vec!["run".into(), "--stage".into(), stage.into()];
                args.extend(["--history".into(), history.into()]);
                for pair in [nx, nt, gamma, initial, top, threads, budget, wg]
                    .into_iter()
                    .flatten()
                {
                    args.extend(pair);
                }
                args
            },
        );
    let bench = (sizes(), 0usize..3, prop_oneof![Just("final"), Just("full")]).prop_map(
        |(sizes, repeat, history)| {
            vec![
                "bench".into(),
                "--stages".into(),
                "typed".into(),
                "--size".into(),
                sizes,
                "--repeat".into(),
                repeat.to_string(),
                "--history".into(),
                history.into(),
            ]
        },
    );
    prop_oneof![3 => run, 1 => bench]
}

#[test]
fn random_arguments_get_a_result_or_a_message_never_a_crash() {
    let out = std::env::temp_dir().join(format!("heat-fuzz-{}.npy", std::process::id()));
    let mut runner = TestRunner::new(Config {
        cases: 300,
        rng_seed: RngSeed::Fixed(20261125),
        failure_persistence: None,
        ..Config::default()
    });
    let outcomes: Mutex<BTreeMap<String, usize>> = Mutex::default();
    runner
        .run(&arguments(), |mut args| {
            if args[0] == "run" {
                args.extend(["--out".to_string(), out.display().to_string()]);
                // An unlimited run of a huge nt would take hours; the budget is part of the test.
                if !args.iter().any(|a| a == "--time-budget") {
                    args.extend(["--time-budget".to_string(), "2".to_string()]);
                }
            }
            let output = Command::new(env!("CARGO_BIN_EXE_heat"))
                .args(&args)
                // The bench's ceilings, measured once, in a file of this test's own.
                .env(
                    heatlib::roofline::FILE_VARIABLE,
                    out.with_extension("roofline.json"),
                )
                .output()
                .expect("the heat binary runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let code = output.status.code();
            prop_assert!(
                matches!(code, Some(0..=2)),
                "{args:?} ended with {:?}: {stderr}",
                output.status
            );
            prop_assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            if code != Some(0) {
                let first = stderr.lines().next().unwrap_or("");
                prop_assert!(
                    first.starts_with("heat: ") || first.starts_with("error: "),
                    "{args:?}: {stderr}"
                );
            }
            let kind = match code {
                Some(0) => "result".to_string(),
                Some(2) => "usage error".to_string(),
                _ => {
                    // The message's opening words, to count refusals by kind.
                    let words: Vec<&str> = stderr.split_whitespace().skip(1).take(2).collect();
                    format!("message: {}", words.join(" "))
                }
            };
            *outcomes
                .lock()
                .unwrap()
                .entry(format!("{} {kind}", args[0]))
                .or_default() += 1;
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_file(&out);
    let outcomes = outcomes.into_inner().unwrap();
    println!(
        "heat fuzz (seed 20261125): {} commands",
        outcomes.values().sum::<usize>()
    );
    for (outcome, count) in &outcomes {
        println!("  {count:>4}  {outcome}");
    }
    assert!(outcomes.contains_key("run result"), "{outcomes:?}");
    assert!(
        outcomes.keys().any(|k| k.starts_with("run message")),
        "{outcomes:?}"
    );
}
