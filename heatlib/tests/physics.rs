//! The numbers behave like heat: superposition, the maximum principle, symmetry.

use heatlib::{Boundary, Problem, RunOptions, Stage};

/// Every stage but the interpreter, which the agreement tests cover on smaller grids.
fn fast_stages() -> impl Iterator<Item = Stage> {
    Stage::ALL
        .iter()
        .copied()
        .filter(|s| *s != Stage::Interpreted)
}

#[test]
fn centre_tends_to_a_quarter_of_the_hot_edge() {
    // Four problems, each with one edge at 100, add up to the plate all at 100;
    // by symmetry each contributes the same to the centre, so each gives 25.
    let problem = Problem::small().with_size(21, 3000);
    for stage in fast_stages() {
        let field = stage
            .solve(&problem, &RunOptions::final_field())
            .unwrap()
            .final_field;
        let centre = field[[10, 10]];
        assert!((centre - 25.0).abs() < 1e-6, "{stage}: centre = {centre}");
    }
}

#[test]
fn values_stay_between_the_extreme_edge_and_initial_temperatures() {
    let boundary = Boundary {
        top: 80.0,
        bottom: -15.0,
        left: 40.0,
        right: 5.0,
    };
    for gamma in [0.25, 0.1] {
        let problem = Problem::small()
            .with_size(30, 400)
            .with_gamma(gamma)
            .with_boundary(boundary)
            .with_initial(60.0);
        for stage in Stage::ALL {
            let solution = stage.solve(&problem, &RunOptions::full_history()).unwrap();
            let history = solution.history.unwrap();
            let (low, high) = history
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            assert!(
                low >= -15.0 && high <= 80.0,
                "{stage}, gamma {gamma}: [{low}, {high}]"
            );
        }
    }
}

#[test]
fn equal_left_and_right_edges_give_a_mirror_symmetric_field() {
    let problem = Problem::small().with_size(26, 300).with_boundary(Boundary {
        top: 100.0,
        bottom: 10.0,
        left: 55.0,
        right: 55.0,
    });
    for stage in fast_stages() {
        let field = stage
            .solve(&problem, &RunOptions::final_field())
            .unwrap()
            .final_field;
        let n = problem.nx;
        for i in 0..n {
            for j in 0..n {
                let difference = (field[[i, j]] - field[[i, n - 1 - j]]).abs();
                assert!(difference < 1e-12, "{stage} at ({i}, {j}): {difference}");
            }
        }
        // And it is not trivially flat: heat flows from the top.
        assert!(field[[n - 2, n / 2]] > field[[1, n / 2]], "{stage}");
    }
}
