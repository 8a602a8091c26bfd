//! The OpenCL stage beyond plain agreement (which `agreement.rs` checks with every other stage):
//! the build apart from the runs, device choice, precision and work-group sizes.
#![cfg(feature = "opencl")]

use heatlib::opencl::{DeviceKind, OpenClSolver, devices};
use heatlib::{
    HeatError, OpenClSettings, Precision, Problem, RunOptions, Stage, max_abs_diff, reference,
};

#[test]
fn lists_at_least_one_device_with_its_details() {
    let devices = devices().expect("the test machine has an OpenCL device (PoCL at least)");
    for (index, device) in devices.iter().enumerate() {
        assert_eq!(device.index, index);
        assert!(!device.name.is_empty() && device.compute_units >= 1);
        assert!(device.global_memory_bytes > 0 && device.max_work_group_size >= 1);
    }
}

#[test]
fn the_program_is_built_once_and_reused() {
    let mut solver = OpenClSolver::new(&OpenClSettings::default()).unwrap();
    assert!(solver.build_seconds() > 0.0);
    let problem = Problem::small().with_size(30, 50);
    let (_, first) = solver.solve(&problem, &RunOptions::final_field()).unwrap();
    let (second_solution, second) = solver.solve(&problem, &RunOptions::final_field()).unwrap();
    assert_eq!(first.build_s, solver.build_seconds());
    assert_eq!(second.build_s, 0.0);
    assert!(second.compute_s > 0.0 && second.upload_s > 0.0 && second.download_s > 0.0);
    let exact = reference::final_field(&problem).unwrap();
    assert!(max_abs_diff(second_solution.final_field.view(), exact.view()) <= 1e-12);
}

#[test]
fn stage_solutions_carry_their_device_timings() {
    let solution = Stage::OpenCl
        .solve(&Problem::small(), &RunOptions::final_field())
        .unwrap();
    // One host thread drives the device; the device's own units are reported apart.
    assert_eq!(solution.threads, 1);
    let run = solution
        .device
        .expect("the opencl stage reports its device run");
    assert!(!run.device.is_empty() && run.compute_s > 0.0);
    let listed = devices().unwrap();
    assert!(
        listed
            .iter()
            .any(|d| d.name == run.device && d.compute_units == run.compute_units),
        "{run:?}"
    );
    let cpu = Stage::Typed
        .solve(&Problem::small(), &RunOptions::final_field())
        .unwrap();
    assert!(cpu.device.is_none());
}

#[test]
fn any_work_group_size_gives_the_same_numbers() {
    let problem = Problem::small()
        .with_size(45, 60)
        .with_gamma(0.22)
        .with_initial(7.0);
    let exact = reference::final_field(&problem).unwrap();
    for work_group in [[1, 1], [7, 3], [64, 1], [16, 16]] {
        let settings = OpenClSettings {
            work_group: Some(work_group),
            ..OpenClSettings::default()
        };
        let mut solver = OpenClSolver::new(&settings).unwrap();
        let (solution, run) = solver.solve(&problem, &RunOptions::final_field()).unwrap();
        assert_eq!(run.work_group, work_group);
        let difference = max_abs_diff(solution.final_field.view(), exact.view());
        assert!(difference <= 1e-12, "{work_group:?}: {difference}");
    }
}

#[test]
fn impossible_work_groups_and_unknown_devices_are_refused_clearly() {
    let settings = OpenClSettings {
        work_group: Some([0, 4]),
        ..OpenClSettings::default()
    };
    let message = OpenClSolver::new(&settings).err().unwrap().to_string();
    assert!(
        message.contains("0 x 4") && message.contains("at most"),
        "{message}"
    );

    let settings = OpenClSettings {
        device: Some("no such device anywhere".into()),
        ..OpenClSettings::default()
    };
    let error = OpenClSolver::new(&settings).err().unwrap();
    assert!(matches!(error, HeatError::UnknownDevice { .. }));
    let first = &devices().unwrap()[0];
    assert!(
        error.to_string().contains(&format!("0: {}", first.name)),
        "{error}"
    );
}

#[test]
fn devices_are_chosen_by_index_or_by_name() {
    let first = devices().unwrap().remove(0);
    for choice in ["0".to_string(), first.name.to_uppercase()] {
        let settings = OpenClSettings {
            device: Some(choice),
            ..OpenClSettings::default()
        };
        assert_eq!(
            OpenClSolver::new(&settings).unwrap().device().name,
            first.name
        );
    }
    let default = OpenClSolver::new(&OpenClSettings::default()).unwrap();
    let any_gpu = devices().unwrap().iter().any(|d| d.kind == DeviceKind::Gpu);
    assert_eq!(default.device().kind == DeviceKind::Gpu, any_gpu);
}

#[test]
fn single_precision_is_close_but_not_exact() {
    let problem = Problem::small().with_size(40, 300);
    let options = RunOptions {
        opencl: OpenClSettings {
            precision: Precision::F32,
            ..OpenClSettings::default()
        },
        ..RunOptions::final_field()
    };
    let solution = Stage::OpenCl.solve(&problem, &options).unwrap();
    let exact = reference::final_field(&problem).unwrap();
    let difference = max_abs_diff(solution.final_field.view(), exact.view());
    // float keeps about 7 digits of temperatures up to 100.
    assert!(difference > 0.0 && difference < 1e-3, "{difference}");
    assert_eq!(solution.device.unwrap().precision, Precision::F32);
}

/// `i * nx + j` in 32-bit ints wraps from nx = 46341 on (46341^2 > 2^31): a
/// device with that much memory would read and write out of bounds. Every
/// index in the kernel is a 64-bit `long`.
#[test]
fn the_kernel_indexes_in_64_bits() {
    let code: Vec<&str> = heatlib::opencl::KERNEL_SOURCE
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect();
    let declarations = code.join("\n");
    assert!(!declarations.contains("int "), "{declarations}");
    assert!(
        declarations.contains("const long c = i * nx + j;"),
        "{declarations}"
    );
    assert!(46_341_u64 * 46_341 > i32::MAX as u64);
}
