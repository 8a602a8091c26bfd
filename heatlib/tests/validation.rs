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
