//! What a server shared by many learners needs from heatlib: a learner's
//! mistake ends in an error that names it, never a hang or a lost kernel.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use heatlib::{Comparison, HeatError, Problem, RunOptions, Stage, solve_in_bands};
use ndarray::{ArrayView2, ArrayViewMut2};

/// Runs `work` on its own thread and fails the test if it has not returned
/// within `limit` (a hang would otherwise stop the whole test run).
fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(work()));
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no answer within {limit:?}: the run hangs"))
}

/// The typed update, so that a step that does not panic computes the right field.
fn update(current: ArrayView2<'_, f64>, mut next: ArrayViewMut2<'_, f64>, gamma: f64) {
    let (rows, columns) = current.dim();
    for i in 1..rows - 1 {
        for j in 1..columns - 1 {
            next[[i, j]] = current[[i, j]]
                + gamma
                    * (current[[i + 1, j]]
                        + current[[i - 1, j]]
                        + current[[i, j + 1]]
                        + current[[i, j - 1]]
                        - 4.0 * current[[i, j]]);
        }
    }
}

#[test]
fn a_step_that_panics_in_one_band_is_an_error_on_every_path() {
    let problem = Problem::small();
    for threads in [2, 3] {
        for options in [RunOptions::final_field(), RunOptions::full_history()] {
            let options = options.with_threads(threads);
            let problem = problem.clone();
            let started = Instant::now();
            let error = within(Duration::from_secs(20), move || {
                let calls = AtomicUsize::new(0);
                let third_call_panics =
                    move |current: ArrayView2<'_, f64>, next: ArrayViewMut2<'_, f64>, g: f64| {
                        if calls.fetch_add(1, Ordering::SeqCst) == 2 {
                            panic!("index out of bounds: the learner's mistake");
                        }
                        update(current, next, g);
                    };
                solve_in_bands(&third_call_panics, &problem, &options).unwrap_err()
            });
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{threads} threads"
            );
            let HeatError::StepPanicked { message, .. } = &error else {
                panic!("not a StepPanicked error: {error}");
            };
            assert_eq!(message, "index out of bounds: the learner's mistake");
            assert!(
                error.to_string().contains("nothing else is lost"),
                "{error}"
            );
        }
    }
}

#[test]
fn a_band_that_panics_on_another_thread_releases_the_band_waiting_for_it() {
    // Only the pool's second thread panics, at its first step: the first band
    // finishes its step and waits at the barrier for a band that never comes.
    let error = within(Duration::from_secs(20), || {
        let second_thread_panics =
            |current: ArrayView2<'_, f64>, next: ArrayViewMut2<'_, f64>, g: f64| {
                if rayon::current_thread_index() == Some(1) {
                    panic!("band two's mistake");
                }
                update(current, next, g);
            };
        let problem = Problem::small().with_size(40, 200);
        let mut comparison =
            Comparison::new(&problem, &RunOptions::final_field().with_threads(2), 3)
                .expect("the comparison is set up");
        let error = comparison
            .add_step_in_bands("my rows on threads", &second_thread_panics)
            .unwrap_err();
        assert!(comparison.rows.is_empty(), "a failed row is not added");
        // The same comparison and the same threads go on working afterwards.
        let step = Stage::Typed.step_fn().expect("typed has a step");
        let row = comparison
            .add_step_in_bands("typed on threads", &step)
            .expect("the next run works");
        assert!(row.max_abs_diff < 1e-12);
        error
    });
    assert!(
        matches!(&error, HeatError::StepPanicked { message, rows, level: 1 }
            if message == "band two's mistake" && rows.starts_with("20..")),
        "{error:?}"
    );
}
