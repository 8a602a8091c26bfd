//! `cargo bench`: every stage on the webinar's small and large problems, final-field mode.
//! (`heat bench` adds full-history mode, throughput and the comparison with the reference.)

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use heatlib::{Problem, RunOptions, Stage};

fn stages(c: &mut Criterion) {
    for (size, problem) in [("small", Problem::small()), ("large", Problem::large())] {
        let mut group = c.benchmark_group(size);
        group.throughput(Throughput::Elements(problem.cell_updates()));
        group.sample_size(10);
        for stage in Stage::ALL {
            group.bench_with_input(
                BenchmarkId::from_parameter(stage),
                &problem,
                |b, problem| b.iter(|| stage.solve(problem, &RunOptions::final_field())),
            );
        }
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
