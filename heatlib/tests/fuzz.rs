//! Random and extreme requests through the public API: every one either
//! computes the reference's numbers or returns an error; none panics or aborts.
//!
//! The seed is fixed so that CI is repeatable; `HEAT_FUZZ_CASES` and
//! `HEAT_FUZZ_SEED` explore further by hand. The test prints what it tried.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use heatlib::{HeatError, Problem, RunOptions, Stage, Storage};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

/// Nodes per side: tiny and degenerate, ordinary, a typo, beyond any memory.
fn nx() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0..6usize,
        8 => 6..40usize,
        1 => Just(60_000usize),
        1 => Just(usize::MAX / 2),
        1 => any::<usize>(),
    ]
}

/// Time levels: none, a few, and far too many (the time budget ends those).
fn nt() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => 0..3usize,
        8 => 3..80usize,
        1 => Just(usize::MAX),
    ]
}

/// Gamma near the stability limit on both sides, negative, and not a number.
fn gamma() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => 0.0..0.25f64,
        2 => Just(0.25),
        1 => Just(0.25 * (1.0 + 1e-12)),
        1 => Just(0.25 * (1.0 + 1e-9)),
        2 => 0.25..0.6f64,
        1 => -1.0..0.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => any::<f64>(),
    ]
}

/// Temperatures: physical, huge, at the accepted limit, and not finite.
fn temperature() -> impl Strategy<Value = f64> {
    prop_oneof![
        10 => -300.0..300.0f64,
        1 => Just(1e308),
        1 => Just(-2.2e307),
        1 => Just(f64::NAN),
        1 => Just(f64::NEG_INFINITY),
        1 => any::<f64>(),
    ]
}

fn storage() -> impl Strategy<Value = Storage> {
    prop_oneof![
        Just(Storage::FinalField),
        Just(Storage::FullHistory),
        (0..4usize).prop_map(|every| Storage::Snapshots { every }),
        any::<usize>().prop_map(|every| Storage::Snapshots { every }),
    ]
}

#[derive(Debug, Clone)]
struct Request {
    stage: Stage,
    problem: Problem,
    options: RunOptions,
}

fn request() -> impl Strategy<Value = Request> {
    let stages = Stage::available();
    (
        (0..stages.len(), nx(), nt(), gamma(), any::<bool>()),
        prop_oneof![
            // Mostly physical plates, so that many requests run and are compared.
            3 => [-300.0..300.0f64, -300.0..300.0, -300.0..300.0, -300.0..300.0, -300.0..300.0],
            1 => [temperature(), temperature(), temperature(), temperature(), temperature()],
        ],
        storage(),
        prop::option::of(0..6usize),
        prop::option::of([0..300usize, 0..300usize]),
    )
        .prop_map(
            move |((stage, nx, nt, gamma, unstable), t, storage, threads, work_group)| {
                let mut problem = Problem::small()
                    .with_size(nx, nt)
                    .with_gamma(gamma)
                    .with_initial(t[0])
                    .with_boundary(heatlib::Boundary {
                        top: t[1],
                        bottom: t[2],
                        left: t[3],
                        right: t[4],
                    });
                if unstable {
                    problem = problem.allow_unstable();
                }
                let mut options = RunOptions {
                    storage,
                    threads,
                    ..RunOptions::default()
                }
                .with_time_budget(Duration::from_millis(300));
                options.opencl.work_group = work_group;
                Request {
                    stage: stages[stage],
                    problem,
                    options,
                }
            },
        )
}

/// The variant's name, to count outcomes by kind.
fn kind(error: &HeatError) -> String {
    format!("{error:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("?")
        .to_string()
}

#[test]
fn random_requests_compute_the_reference_or_say_what_is_wrong() {
    let cases = std::env::var("HEAT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let seed = std::env::var("HEAT_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20261125);
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    let outcomes: Mutex<BTreeMap<String, usize>> = Mutex::default();
    runner
        .run(&request(), |Request { stage, problem, options }| {
            let outcome = match stage.solve(&problem, &options) {
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(message.len() > 20, "a message that says something: {message}");
                    kind(&error)
                }
                Ok(solution) => {
                    // What ran must be right: the reference agrees, and nothing is NaN.
                    let exact = heatlib::reference::final_field(&problem)
                        .map_err(|e| TestCaseError::fail(format!("reference refused: {e}")))?;
                    let scale = exact.iter().fold(1.0f64, |m, t| m.max(t.abs()));
                    let difference =
                        heatlib::max_abs_diff(solution.final_field.view(), exact.view());
                    let tolerance = match stage.name() {
                        // Above gamma = 1/4 the scheme amplifies every rounding difference
                        // (stages add in different orders), as it amplifies any error.
                        _ if problem.gamma() > 0.25 => 1e-6,
                        // The device may contract to fused multiply-adds.
                        "opencl" => 1e-9,
                        _ => 1e-12,
                    };
                    prop_assert!(
                        difference <= tolerance * scale,
                        "{stage}: differs from the reference by {difference:e} (scale {scale:e})"
                    );
                    prop_assert!(solution.final_field.iter().all(|t| t.is_finite()));
                    if options.storage == Storage::FullHistory {
                        let history = solution.history.as_ref();
                        prop_assert_eq!(history.map(|h| h.dim().0), Some(problem.nt));
                    }
                    "Ok".to_string()
                }
            };
            *outcomes
                .lock()
                .unwrap()
                .entry(format!("{stage}: {outcome}"))
                .or_default() += 1;
            Ok(())
        })
        .unwrap();
    let outcomes = outcomes.into_inner().unwrap();
    let tried: usize = outcomes.values().sum();
    println!("fuzz (seed {seed}): {tried} requests");
    for (outcome, count) in &outcomes {
        println!("  {count:>4}  {outcome}");
    }
    assert!(tried >= cases as usize, "every case ran: {tried}");
    // The generators reach both sides: results that ran, and refusals.
    assert!(outcomes.keys().any(|k| k.ends_with(": Ok")), "{outcomes:?}");
    assert!(
        outcomes.keys().any(|k| k.ends_with("OutOfMemory")),
        "{outcomes:?}"
    );
}
