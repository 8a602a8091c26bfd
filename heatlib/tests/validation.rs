//! Bad input gets an error that says what to do, for every stage, before anything is allocated.

use heatlib::{HeatError, Problem, RunOptions, Stage};

fn message_for(problem: &Problem, options: &RunOptions) -> String {
    let messages: Vec<String> = Stage::ALL
        .iter()
        .map(|stage| stage.solve(problem, options).unwrap_err().to_string())
        .collect();
    assert!(
        messages.windows(2).all(|w| w[0] == w[1]),
        "stages disagree: {messages:?}"
    );
    messages[0].clone()
}

fn final_field() -> RunOptions {
    RunOptions::final_field()
}

#[test]
fn unstable_gamma_names_the_largest_stable_dt() {
    let problem = Problem::small().with_gamma(0.3);
    let message = message_for(&problem, &final_field());
    assert!(message.contains("unstable"), "{message}");
    assert!(message.contains("0.3"), "{message}");
    // dx = 50/50 = 1, alpha = 2: dt <= 1/8.
    assert!(message.contains("dt <= 0.125"), "{message}");

    let too_long = Problem::small().with_dt(0.2);
    let message = message_for(&too_long, &final_field());
    assert!(message.contains("gamma = alpha*dt/dx^2 = 0.4"), "{message}");
}

/// The opt-in runs gamma above 1/4 (and the stages agree on the blow-up);
/// without it the message is exactly the one above, every other check stays.
#[test]
fn instability_runs_only_when_asked_for_by_name() {
    let unstable = Problem::small().with_size(16, 60).with_gamma(0.3);
    let refused = message_for(&unstable, &final_field());
    assert_eq!(
        refused,
        "unstable time step: gamma = alpha*dt/dx^2 = 0.3 is above 1/4, so the explicit scheme \
         blows up; use dt <= 1.220703125 (dx^2 / (4 alpha)) or a smaller alpha"
    );
    let on_purpose = unstable.clone().allow_unstable();
    let exact = heatlib::reference::final_field(&on_purpose).unwrap();
    let largest = exact.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    assert!(largest > 1e4, "the scheme grows: {largest}");
    for stage in [
        Stage::TypedChecked,
        Stage::Typed,
        Stage::Vectorized,
        Stage::Parallel,
    ] {
        let field = stage
            .solve(&on_purpose, &final_field())
            .unwrap()
            .final_field;
        let scale = largest.max(1.0);
        assert!(
            heatlib::max_abs_diff(field.view(), exact.view()) <= 1e-12 * scale,
            "{stage}"
        );
    }
    let still_checked = on_purpose.with_boundary(heatlib::Boundary {
        top: f64::NAN,
        ..heatlib::Boundary::WEBINAR
    });
    assert!(message_for(&still_checked, &final_field()).contains("top temperature"));
}

#[test]
fn the_stable_limit_typed_in_by_hand_is_accepted() {
    let problem = Problem::small().with_size(37, 5);
    let by_hand = problem
        .clone()
        .with_dt(problem.dx() * problem.dx() / 4.0 / problem.alpha);
    assert!(Stage::Typed.solve(&by_hand, &final_field()).is_ok());
}

#[test]
fn grid_and_step_counts_are_checked() {
    let message = message_for(&Problem::small().with_size(2, 10), &final_field());
    assert!(
        message.contains("nx = 2") && message.contains("nx >= 3"),
        "{message}"
    );
    let message = message_for(&Problem::small().with_size(10, 0), &final_field());
    assert!(
        message.contains("nt = 0") && message.contains(">= 1"),
        "{message}"
    );
}

#[test]
fn non_finite_and_negative_parameters_are_named() {
    let cases: Vec<(Problem, &str)> = vec![
        (
            Problem {
                alpha: f64::NAN,
                ..Problem::small()
            },
            "alpha = NaN",
        ),
        (
            Problem {
                alpha: -2.0,
                ..Problem::small()
            },
            "alpha = -2",
        ),
        (
            Problem {
                length: 0.0,
                ..Problem::small()
            },
            "length L = 0",
        ),
        (
            Problem {
                length: f64::INFINITY,
                ..Problem::small()
            },
            "length L = inf",
        ),
        (Problem::small().with_dt(-0.1), "dt = -0.1"),
        (Problem::small().with_gamma(f64::NAN), "gamma = NaN"),
        (
            Problem::small().with_initial(f64::NAN),
            "initial temperature = NaN",
        ),
        (
            Problem {
                boundary: heatlib::Boundary {
                    left: f64::NEG_INFINITY,
                    ..heatlib::Boundary::WEBINAR
                },
                ..Problem::small()
            },
            "left temperature = -inf",
        ),
    ];
    for (problem, expected) in cases {
        let message = message_for(&problem, &final_field());
        let from_reference = heatlib::reference::final_field(&problem).unwrap_err();
        assert_eq!(from_reference.to_string(), message);
        assert!(
            message.contains(expected),
            "expected '{expected}' in: {message}"
        );
    }
    let message = message_for(
        &Problem {
            alpha: 0.0,
            ..Problem::small()
        },
        &final_field(),
    );
    assert!(message.contains("give dt or gamma"), "{message}");
}

#[test]
fn a_history_too_large_for_memory_is_refused_before_allocating() {
    // 10^9 levels of 1000 x 1000: 8 PB, more than any machine has.
    let problem = Problem::small().with_size(1000, 1_000_000_000);
    let message = message_for(&problem, &RunOptions::full_history());
    assert!(message.contains("8.00 PB"), "{message}");
    assert!(
        message.contains("final field") && message.contains("snapshots"),
        "{message}"
    );
    // The same problem is fine to validate in final-field mode (it would just take long).
    assert!(problem.validate().is_ok());
}

#[test]
fn snapshot_interval_and_thread_count_are_checked() {
    let message = message_for(&Problem::small(), &RunOptions::snapshots_every(0));
    assert!(
        message.contains("snapshot interval must be >= 1"),
        "{message}"
    );
    let message = message_for(
        &Problem::small(),
        &RunOptions::final_field().with_threads(0),
    );
    assert!(message.contains("at least 1"), "{message}");
    // A typo of 60000 threads would start a pool of 60000 threads before anything ran.
    let message = message_for(
        &Problem::small(),
        &RunOptions::final_field().with_threads(60_000),
    );
    assert!(
        message.starts_with("cannot use 60000 threads: at most "),
        "{message}"
    );
}

#[test]
fn unknown_stage_names_list_the_real_ones() {
    let error = "numba".parse::<Stage>().unwrap_err();
    assert!(matches!(error, HeatError::UnknownStage { .. }));
    let message = error.to_string();
    assert!(message.contains("'numba'"), "{message}");
    for stage in Stage::ALL {
        assert!(message.contains(stage.name()), "{message}");
        assert_eq!(stage.name().parse::<Stage>(), Ok(*stage));
    }
}

/// A typo in the size (60000 for 600) must not abort the process: in a
/// notebook that would lose every variable. Every stage refuses it up front.
#[test]
fn a_plate_too_large_for_memory_is_refused_by_every_stage() {
    // Stages need different amounts (the interpreter's lists are large), so each says its own.
    let typo = Problem::small().with_size(60_000, 10);
    let no_array_holds_it = Problem::small().with_size(usize::MAX / 2, 10);
    for stage in Stage::ALL {
        let message = stage.solve(&typo, &final_field()).unwrap_err().to_string();
        assert!(
            message.starts_with("a run of 60000 x 60000 nodes"),
            "{message}"
        );
        assert!(
            message.contains("is available; use fewer nodes nx"),
            "{message}"
        );
        for options in [RunOptions::snapshots_every(1), RunOptions::full_history()] {
            let error = stage.solve(&no_array_holds_it, &options).unwrap_err();
            assert!(
                matches!(
                    error,
                    HeatError::OutOfMemory { .. } | HeatError::HistoryTooLarge { .. }
                ),
                "{stage}: {error}"
            );
        }
    }
    let reference = heatlib::reference::final_field(&typo).unwrap_err();
    assert!(
        matches!(reference, HeatError::OutOfMemory { .. }),
        "{reference}"
    );
}

#[test]
fn temperatures_that_could_overflow_are_refused() {
    let hot = Problem::small().with_initial(1e308);
    let message = message_for(&hot, &final_field());
    assert!(
        message.starts_with("initial temperature = 1e308 is too large"),
        "{message}"
    );
    assert!(message.contains("above 2.2e307"), "{message}");
    // The largest accepted magnitude runs, and stays finite.
    let largest = Problem::small().with_size(12, 50).with_initial(-2.2e307);
    for stage in Stage::ALL {
        let field = stage.solve(&largest, &final_field()).unwrap().final_field;
        assert!(field.iter().all(|t| t.is_finite()), "{stage}");
    }
}

/// A step that produces NaN or infinity gets an error, not a field of NaNs.
#[test]
fn a_result_that_is_not_finite_is_an_error() {
    use ndarray::{ArrayView2, ArrayViewMut2};
    fn divides_by_zero(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, _: f64) {
        let (rows, columns) = current.dim();
        for i in 1..rows - 1 {
            for j in 1..columns - 1 {
                next[[i, j]] = current[[i, j]] / 0.0;
            }
        }
    }
    let problem = Problem::small().with_size(10, 5);
    for result in [
        heatlib::solve_with(&divides_by_zero, &problem, &final_field()),
        heatlib::solve_in_bands(&divides_by_zero, &problem, &final_field().with_threads(3)),
    ] {
        let message = result.unwrap_err().to_string();
        assert!(
            message.starts_with("the result is not finite: 64 of the final field's values"),
            "{message}"
        );
        assert!(message.contains("row 1, column 1"), "{message}");
    }
    // An unstable run asked for by name overflows in the end, and says so.
    let blows_up = Problem::small()
        .with_size(20, 4000)
        .with_gamma(0.5)
        .allow_unstable();
    let error = Stage::Typed.solve(&blows_up, &final_field()).unwrap_err();
    assert!(matches!(error, HeatError::NotFinite { .. }), "{error}");
}

/// A time budget ends the run with an error that says how far it got, on
/// every stage; the threads of `parallel` all stop at the same level.
#[test]
fn a_time_budget_stops_a_long_run_with_an_estimate() {
    use std::time::{Duration, Instant};
    let long = Problem::large().with_size(200, 1_000_000);
    let options = final_field()
        .with_threads(2)
        .with_time_budget(Duration::from_millis(100));
    for stage in Stage::available() {
        let start = Instant::now();
        let error = stage.solve(&long, &options).unwrap_err();
        let HeatError::OutOfTime {
            level,
            nt,
            estimate_s,
            ..
        } = error
        else {
            panic!("{stage}: {error}");
        };
        assert!(level > 0 && level < nt, "{stage}: level {level}");
        assert!(estimate_s > 0.1, "{stage}: {estimate_s}");
        // It stopped soon after the budget (a level of the interpreter is the slowest step).
        assert!(start.elapsed() < Duration::from_secs(20), "{stage}");
    }
    // Threads stop together: a band that stopped a level early would leave the
    // others waiting at the barrier for ever (the fuzz test found that once).
    let tiny = Problem::small().with_size(9, usize::MAX);
    for threads in [2, 3, 4, 7] {
        for _ in 0..25 {
            let options = final_field()
                .with_threads(threads)
                .with_time_budget(Duration::from_millis(2));
            let error = Stage::Parallel.solve(&tiny, &options).unwrap_err();
            assert!(matches!(error, HeatError::OutOfTime { .. }), "{error}");
        }
    }
    // A run that finishes within its budget is untouched.
    let quick = final_field().with_time_budget(Duration::from_secs(600));
    let within = Stage::Typed.solve(&Problem::small(), &quick).unwrap();
    let plain = Stage::Typed
        .solve(&Problem::small(), &final_field())
        .unwrap();
    assert_eq!(within.final_field, plain.final_field);
}

/// Counting the work of an absurd plate saturates instead of overflowing (a
/// panic in a debug build, a wrong small count in a release build).
#[test]
fn the_cell_count_of_an_absurd_plate_saturates() {
    let huge = Problem::small().with_size(usize::MAX, usize::MAX);
    assert_eq!(huge.cell_updates(), u64::MAX);
    assert_eq!(Problem::small().cell_updates(), 999 * 48 * 48);
    assert!(Stage::Typed.solve(&huge, &final_field()).is_err());
}
