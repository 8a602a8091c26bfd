//! The ceilings and the model, on a made-up machine whose every figure is known,
//! so that each predicted ceiling can be worked out by hand.

use heatlib::roofline::{Bandwidth, CacheLevel, Ceilings, FlopRate, Pattern};
use heatlib::{Comparison, Problem, RunOptions, Stage};

/// 48 KiB L1 and 1 MiB L2 per core, 32 MiB L3 shared, 2 cores. Bandwidth in
/// GB/s by level, one thread: read 400/200/100/30, write 500/400/150/50, copy
/// 600/300/120/40; two threads twice that in the caches, and 60/70/50 in memory.
fn made_up_machine() -> Ceilings {
    let caches = vec![
        CacheLevel {
            level: 1,
            bytes: 48 << 10,
            shared_by: 1,
        },
        CacheLevel {
            level: 2,
            bytes: 1 << 20,
            shared_by: 1,
        },
        CacheLevel {
            level: 3,
            bytes: 32 << 20,
            shared_by: 2,
        },
    ];
    // 0: L1 (up to 48 KiB), 1: L2 (up to 1 MiB), 2: L3 (up to 32 MiB), 3: memory.
    let level = |bytes: u64| {
        [48 << 10, 1 << 20, 32 << 20]
            .iter()
            .filter(|&&end| bytes > end)
            .count()
    };
    let one_thread = |pattern: Pattern| match pattern {
        Pattern::Read => [400.0, 200.0, 100.0, 30.0],
        Pattern::Write => [500.0, 400.0, 150.0, 50.0],
        Pattern::Copy => [600.0, 300.0, 120.0, 40.0],
    };
    let two_threads = |pattern: Pattern, level: usize| match (pattern, level) {
        (Pattern::Read, 3) => 60.0,
        (Pattern::Write, 3) => 70.0,
        (Pattern::Copy, 3) => 50.0,
        _ => 2.0 * one_thread(pattern)[level],
    };
    let mut bandwidth = Vec::new();
    for threads in [1, 2] {
        let mut working_set = 16 << 10;
        while working_set <= 128 << 20 {
            for pattern in Pattern::ALL {
                // Each thread's share decides a private level; the whole, the shared one.
                let share = if threads == 2 && working_set / 2 <= 1 << 20 {
                    working_set / 2
                } else {
                    working_set
                };
                let gb_per_s = if threads == 1 {
                    one_thread(pattern)[level(working_set)]
                } else {
                    two_threads(pattern, level(share))
                };
                bandwidth.push(Bandwidth {
                    pattern,
                    working_set,
                    threads,
                    gb_per_s,
                    min_gb_per_s: gb_per_s,
                    max_gb_per_s: gb_per_s,
                });
            }
            working_set *= 2;
        }
    }
    let flops = [(1, 100.0), (2, 200.0)]
        .map(|(threads, gflops)| FlopRate {
            threads,
            gflops,
            min_gflops: gflops,
            max_gflops: gflops,
            fused: true,
        })
        .to_vec();
    Ceilings {
        format: 2,
        measured_on: "2026-12-02".into(),
        cpu: "made-up CPU".into(),
        cores: 2,
        caches,
        bandwidth,
        flops,
        device: None,
        device_note: Some("none here".into()),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

#[test]
fn two_fields_in_l2_one_core_adds_its_load_time_and_its_transfer_time() {
    let machine = made_up_machine();
    let typed = machine.for_stage(
        Some(Stage::Typed),
        &Problem::large(),
        &RunOptions::final_field(),
        1,
    );
    // Loads: 400 GB/s from L1 = 50,000 M values/s, 4 per update: 12,500 M/s.
    // Transfers: the two fields (640 KB) in L2, copy 300 GB/s / 24 bytes: 12,500 M/s.
    // One core does both, one after the other: 6,250 M/s.
    assert!(close(typed.loads_mcells_per_s, 12_500.0), "{typed:?}");
    assert!(close(typed.memory_mcells_per_s, 12_500.0), "{typed:?}");
    assert!(close(typed.mcells_per_s, 6_250.0), "{typed:?}");
    assert_eq!(typed.level, "L2");
    // Two threads, each with its own L1 and L2: twice one core.
    let parallel = machine.for_stage(
        Some(Stage::Parallel),
        &Problem::large(),
        &RunOptions::final_field(),
        2,
    );
    assert!(close(parallel.mcells_per_s, 12_500.0), "{parallel:?}");
}

#[test]
fn the_full_history_is_bound_by_memory_and_threads_share_it() {
    let machine = made_up_machine();
    let large = Problem::large();
    let one = machine.for_stage(Some(Stage::Typed), &large, &RunOptions::full_history(), 1);
    // 1.28 GB of history: main memory, 16 bytes per update at write 50 GB/s = 3,125 M/s;
    // with 12,500 M/s of loads: 1 / (1/12,500 + 1/3,125) = 2,500 M/s.
    assert_eq!(one.level, "memory");
    assert_eq!(one.bound, "memory bandwidth");
    assert!(close(one.mcells_per_s, 2_500.0), "{one:?}");
    // Two threads would reach 5,000, but memory gives them 70 GB/s together: 4,375.
    let two = machine.for_stage(
        Some(Stage::Parallel),
        &large,
        &RunOptions::full_history(),
        2,
    );
    assert!(close(two.mcells_per_s, 4_375.0), "{two:?}");
    assert!(close(two.mcells_per_s / one.mcells_per_s, 1.75));
}

#[test]
fn a_comparison_placed_on_the_ceilings_prints_each_fraction_it_computes() {
    let machine = made_up_machine();
    let mut table = Comparison::new(
        &Problem::small().with_size(40, 50),
        &RunOptions::final_field(),
        2,
    )
    .unwrap();
    table.add_stage(Stage::Typed).unwrap();
    table.add_stage(Stage::Convolve).unwrap();
    assert!(!table.to_text().contains("of ceiling"));
    table.set_ceilings(&machine);
    let text = table.to_text();
    assert!(
        text.contains("ceiling M/s (bound)") && text.contains("of ceiling"),
        "{text}"
    );
    for row in &table.rows {
        let ceiling = table.ceiling(row).unwrap();
        let percent = format!("{:.0}%", 100.0 * row.mcells_per_s() / ceiling.mcells_per_s);
        let line = text.lines().find(|l| l.starts_with(&row.name)).unwrap();
        assert!(line.trim_end().ends_with(&percent), "{line}");
        assert!(line.contains(&format!("{:.0} ({})", ceiling.mcells_per_s, ceiling.bound)));
    }
    #[cfg(feature = "display")]
    {
        let html = table.table().to_html();
        assert!(html.contains("<th>of ceiling</th>"), "{html}");
    }
}

#[test]
fn ceilings_round_trip_through_their_file_and_a_stranger_file_is_refused() {
    let machine = made_up_machine();
    let folder = std::env::temp_dir().join(format!("heatlib-roofline-{}", std::process::id()));
    let path = folder.join("kept").join("roofline.json");
    machine.save(&path).unwrap();
    assert_eq!(Ceilings::load(&path).unwrap(), machine);
    std::fs::write(&path, "{\"not\": \"ceilings\"}").unwrap();
    let error = Ceilings::load(&path).unwrap_err().to_string();
    assert!(error.contains("not ceilings heatlib wrote"), "{error}");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[cfg(feature = "display")]
#[test]
fn the_sweep_and_the_roofline_draw_from_the_ceilings() {
    use heatlib::benchmark::SweepPoint;
    let machine = made_up_machine();
    let points: Vec<SweepPoint> = [24, 200, 3000]
        .into_iter()
        .flat_map(|nx| {
            let problem = Problem::small().with_size(nx, 11);
            let machine = &machine;
            [Stage::Typed, Stage::Parallel].map(move |stage| {
                let threads = if stage == Stage::Parallel { 2 } else { 1 };
                let ceiling =
                    machine.for_stage(Some(stage), &problem, &RunOptions::final_field(), threads);
                SweepPoint {
                    stage: stage.name().into(),
                    nx,
                    nt: 11,
                    threads,
                    working_set: ceiling.traffic.working_set,
                    mcells_per_s: 0.6 * ceiling.mcells_per_s,
                    ceiling,
                }
            })
        })
        .collect();
    let sweep = machine.sweep_chart(&points).unwrap();
    assert!(sweep.size().0 >= 640 && sweep.png_bytes().len() > 10_000);
    let mut table = Comparison::new(
        &Problem::small().with_size(30, 20),
        &RunOptions::final_field(),
        1,
    )
    .unwrap();
    table.add_stage(Stage::Typed).unwrap();
    let error = table.roofline_chart().unwrap_err().to_string();
    assert!(error.contains("set_ceilings"), "{error}");
    table.set_ceilings(&machine);
    assert!(table.roofline_chart().unwrap().png_bytes().len() > 10_000);
    assert!(machine.sweep_chart(&[]).is_err());
}
