//! The machine code the notebook shows is the code as built: `typed` runs packed SIMD
//! arithmetic in its hot loop, `typed_checked` a bounds check that branches to a panic.
#![cfg(all(feature = "machine-code", target_arch = "x86_64", target_os = "linux"))]

use heatlib::Stage;
use heatlib::machine_code::{Kind, MachineCode};

/// A loop that still checks an index: a branch to ndarray's or std's out-of-bounds panic.
fn checks_an_index(code: &MachineCode, found: &heatlib::machine_code::Loop) -> bool {
    // With debug assertions (cargo test's profile) ndarray checks an index a second time,
    // itself, and that check panics through `panic_fmt`; a release build (and the notebook
    // kernel's) keeps only the check that calls `array_out_of_bounds`.
    let bounds_panics: &[&str] = if cfg!(debug_assertions) {
        &["out_of_bounds", "bounds_check", "panic_fmt"]
    } else {
        &["out_of_bounds", "bounds_check"]
    };
    code.instructions[found.first..=found.last].iter().any(|i| {
        i.kind == Kind::PanicCheck
            && i.text.starts_with('j')
            && i.panics_in
                .as_deref()
                .is_some_and(|f| bounds_panics.iter().any(|name| f.contains(name)))
    })
}

#[test]
fn typed_runs_packed_simd_arithmetic_and_checks_no_index_in_its_loops() {
    let typed = MachineCode::of_stage(Stage::Typed).unwrap();
    let shown = format!("{}\n{}", typed.summary(), typed.listing());
    let hot = typed.hot_loop().expect("typed has a loop");
    assert!(hot.packed_arithmetic > 0 && hot.lanes >= 2, "{shown}");
    assert!(
        typed.instructions[hot.first..=hot.last]
            .iter()
            .any(|i| i.text.starts_with("vaddpd") || i.text.starts_with("addpd")),
        "{shown}"
    );
    assert!(
        !typed.loops.iter().any(|l| checks_an_index(&typed, l)),
        "{shown}"
    );
    assert!(
        typed.function.contains("typed::advance"),
        "{}",
        typed.function
    );
}

#[test]
fn typed_checked_keeps_a_bounds_check_branch_in_a_loop() {
    let checked = MachineCode::of_stage(Stage::TypedChecked).unwrap();
    let shown = format!("{}\n{}", checked.summary(), checked.listing());
    assert!(
        checked.loops.iter().any(|l| checks_an_index(&checked, l)),
        "{shown}"
    );
    assert!(shown.contains("check: if it fails"), "{shown}");
}

#[test]
fn a_step_defined_here_is_found_too() {
    fn halve(current: ndarray::ArrayView2<f64>, mut next: ndarray::ArrayViewMut2<f64>, _: f64) {
        next.assign(&current.mapv(|x| x * 0.5));
    }
    let code = MachineCode::of_step(halve).unwrap();
    assert!(code.function.ends_with("halve"), "{}", code.function);
    assert!(!code.instructions.is_empty());
}

#[cfg(feature = "opencl")]
#[test]
fn the_opencl_stage_says_where_its_code_is() {
    let error = MachineCode::of_stage(Stage::OpenCl)
        .unwrap_err()
        .to_string();
    assert!(error.contains("KERNEL_SOURCE"), "{error}");
}
