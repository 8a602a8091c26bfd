//! Every stage computes the reference's numbers, to 1e-12, in every storage mode.

use heatlib::{Boundary, Problem, RunOptions, Stage, max_abs_diff, reference, solve_with};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

const TOLERANCE: f64 = 1e-12;

fn hot_everywhere() -> Boundary {
    Boundary {
        top: 100.0,
        bottom: -20.0,
        left: 35.5,
        right: 70.25,
    }
}

/// The cases of the issue: the webinar's problem and the shapes and parameters it never tried.
fn cases() -> Vec<(&'static str, Problem)> {
    vec![
        ("webinar small", Problem::small()),
        ("odd nx", Problem::small().with_size(31, 120)),
        ("even nx", Problem::small().with_size(32, 120)),
        ("nx = 3", Problem::small().with_size(3, 10)),
        (
            "gamma < 1/4",
            Problem::small().with_size(27, 200).with_gamma(0.17),
        ),
        (
            "all four edges and the interior non-zero",
            Problem::small()
                .with_size(24, 150)
                .with_gamma(0.21)
                .with_boundary(hot_everywhere())
                .with_initial(12.5),
        ),
        (
            "nt = 1",
            Problem::small().with_size(20, 1).with_initial(3.0),
        ),
        ("nt = 2", Problem::small().with_size(9, 2)),
        ("dt given", Problem::small().with_size(40, 80).with_dt(0.1)),
        (
            "larger grid",
            Problem::small()
                .with_size(161, 120)
                .with_boundary(hot_everywhere()),
        ),
    ]
}

#[test]
fn final_fields_match_the_reference() {
    for (name, problem) in cases() {
        let exact = reference::final_field(&problem).unwrap();
        for stage in Stage::ALL {
            let solution = stage.solve(&problem, &RunOptions::final_field()).unwrap();
            let difference = max_abs_diff(solution.final_field.view(), exact.view());
            assert!(
                difference <= TOLERANCE,
                "{stage} on {name}: max |diff| = {difference}"
            );
            assert!(solution.history.is_none() && solution.snapshots.is_empty());
        }
    }
}

#[test]
fn full_histories_match_the_reference_at_every_step() {
    for (name, problem) in cases().into_iter().filter(|(_, p)| p.nx <= 40) {
        let exact = reference::history(&problem).unwrap();
        for stage in Stage::ALL {
            let solution = stage.solve(&problem, &RunOptions::full_history()).unwrap();
            let history = solution.history.expect("full history was asked for");
            assert_eq!(
                history.dim(),
                (problem.nt, problem.nx, problem.nx),
                "{stage} on {name}"
            );
            for (step, (level, expected)) in
                history.outer_iter().zip(exact.outer_iter()).enumerate()
            {
                let difference = max_abs_diff(level, expected);
                assert!(
                    difference <= TOLERANCE,
                    "{stage} on {name}, step {step}: {difference}"
                );
            }
            let last = exact.index_axis(Axis(0), problem.nt - 1);
            assert!(max_abs_diff(solution.final_field.view(), last.view()) <= TOLERANCE);
        }
    }
}

#[test]
fn snapshots_are_the_reference_at_their_steps() {
    let problem = Problem::small()
        .with_size(17, 23)
        .with_boundary(hot_everywhere());
    let exact = reference::history(&problem).unwrap();
    for stage in Stage::ALL {
        let solution = stage
            .solve(&problem, &RunOptions::snapshots_every(5))
            .unwrap();
        let steps: Vec<usize> = solution.snapshots.iter().map(|s| s.step).collect();
        assert_eq!(steps, [0, 5, 10, 15, 20, 22], "{stage}");
        for snapshot in &solution.snapshots {
            let difference = max_abs_diff(
                snapshot.field.view(),
                exact.index_axis(Axis(0), snapshot.step),
            );
            assert!(
                difference <= TOLERANCE,
                "{stage} at step {}: {difference}",
                snapshot.step
            );
        }
    }
}

#[test]
fn parallel_is_right_for_any_thread_count() {
    for problem in [
        Problem::small()
            .with_size(5, 30)
            .with_boundary(hot_everywhere()),
        Problem::small().with_size(3, 7).with_initial(50.0),
        Problem::small()
            .with_size(64, 90)
            .with_gamma(0.2)
            .with_boundary(hot_everywhere()),
    ] {
        let exact = reference::history(&problem).unwrap();
        for threads in [1, 2, 3, 4, 7, 16] {
            for options in [
                RunOptions::final_field(),
                RunOptions::full_history(),
                RunOptions::snapshots_every(4),
            ] {
                let options = options.with_threads(threads);
                let solution = Stage::Parallel.solve(&problem, &options).unwrap();
                let last = exact.index_axis(Axis(0), problem.nt - 1);
                let difference = max_abs_diff(solution.final_field.view(), last.view());
                assert!(
                    difference <= TOLERANCE,
                    "nx {} with {threads} threads: {difference}",
                    problem.nx
                );
                // One band per thread, but never more bands than interior rows.
                assert_eq!(solution.threads, threads.min(problem.nx - 2));
                if let Some(history) = solution.history {
                    for (level, expected) in history.outer_iter().zip(exact.outer_iter()) {
                        assert!(max_abs_diff(level, expected) <= TOLERANCE);
                    }
                }
                for snapshot in &solution.snapshots {
                    assert!(
                        max_abs_diff(
                            snapshot.field.view(),
                            exact.index_axis(Axis(0), snapshot.step)
                        ) <= TOLERANCE
                    );
                }
            }
        }
    }
}

#[test]
fn the_initial_field_follows_the_webinar_convention() {
    let problem = Problem::small()
        .with_size(4, 1)
        .with_boundary(Boundary {
            top: 1.0,
            bottom: 2.0,
            left: 3.0,
            right: 4.0,
        })
        .with_initial(9.0);
    let field = Stage::Typed
        .solve(&problem, &RunOptions::final_field())
        .unwrap()
        .final_field;
    // Row 0 is the bottom, the last row the top; both span the corners.
    let expected = ndarray::array![
        [2.0, 2.0, 2.0, 2.0],
        [3.0, 9.0, 9.0, 4.0],
        [3.0, 9.0, 9.0, 4.0],
        [1.0, 1.0, 1.0, 1.0],
    ];
    assert_eq!(field, expected);
}

/// A step of one's own, written plainly, runs through the library's loop and
/// storage and keeps every level just as a stage does.
#[test]
fn a_step_of_your_own_runs_through_the_same_loop_and_storage() {
    fn my_step(current: ArrayView2<f64>, mut next: ArrayViewMut2<f64>, gamma: f64) {
        let (rows, columns) = current.dim();
        for i in 1..rows - 1 {
            for j in 1..columns - 1 {
                next[[i, j]] = gamma
                    * (current[[i + 1, j]]
                        + current[[i - 1, j]]
                        + current[[i, j + 1]]
                        + current[[i, j - 1]])
                    + (1.0 - 4.0 * gamma) * current[[i, j]];
            }
        }
    }
    for (name, problem) in cases().into_iter().filter(|(_, p)| p.nx <= 40) {
        let exact = reference::history(&problem).unwrap();
        let mine = solve_with(&my_step, &problem, &RunOptions::full_history()).unwrap();
        let library = Stage::TypedChecked
            .solve(&problem, &RunOptions::full_history())
            .unwrap();
        assert_eq!(mine, library, "{name}");
        let history = mine.history.unwrap();
        for (level, expected) in history.outer_iter().zip(exact.outer_iter()) {
            assert!(max_abs_diff(level, expected) <= TOLERANCE, "{name}");
        }
        assert_eq!(mine.threads, 1);
    }
}

#[test]
fn serial_stages_report_one_thread_whatever_the_pool() {
    let options = RunOptions::final_field().with_threads(2);
    for stage in [
        Stage::Typed,
        Stage::Vectorized,
        Stage::Convolve,
        Stage::Wavefront,
    ] {
        let solution = stage.solve(&Problem::small(), &options).unwrap();
        assert_eq!(solution.threads, 1, "{stage}");
    }
    let parallel = Stage::Parallel.solve(&Problem::small(), &options).unwrap();
    assert_eq!(parallel.threads, 2);
}

#[test]
fn the_wavefront_gives_typeds_bits_for_any_steps_per_pass_and_threads() {
    use heatlib::stages::wavefront::solve_with_steps_per_pass;
    for problem in [
        Problem::small()
            .with_size(5, 30)
            .with_boundary(hot_everywhere()),
        Problem::small().with_size(3, 7).with_initial(50.0),
        Problem::small().with_size(4, 2),
        Problem::small()
            .with_size(64, 90)
            .with_gamma(0.2)
            .with_boundary(hot_everywhere())
            .with_initial(12.5),
        Problem::small().with_size(161, 41),
        Problem::small().with_size(37, 1),
    ] {
        let typed = Stage::Typed
            .solve(&problem, &RunOptions::final_field())
            .unwrap();
        for steps in [1, 2, 3, 4, 5, 7, 16, 100] {
            for threads in [1, 2, 3, 7] {
                let options = RunOptions::final_field().with_threads(threads);
                let solution = solve_with_steps_per_pass(&problem, &options, steps).unwrap();
                let difference =
                    max_abs_diff(solution.final_field.view(), typed.final_field.view());
                assert_eq!(
                    difference, 0.0,
                    "nx {} nt {}, {steps} steps per pass, {threads} threads",
                    problem.nx, problem.nt
                );
            }
        }
    }
    let refused = solve_with_steps_per_pass(&Problem::small(), &RunOptions::final_field(), 0);
    assert!(refused.unwrap_err().to_string().contains("steps per pass"));
}
