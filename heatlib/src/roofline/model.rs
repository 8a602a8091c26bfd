//! The traffic model: bytes moved and floating-point operations per cell update, per stage.
//!
//! A time step reads the plate and writes the next one. How many bytes that
//! moves depends on what stays in cache (the "layer conditions" of
//! kerncraft, for this very stencil):
//!
//! | case | bytes per cell update | why |
//! |---|---|---|
//! | two buffers, three rows fit in cache | 24 | read the cell once (its row is reused for the next two rows), write the new cell: 8 read for ownership + 8 written back |
//! | two buffers, three rows do not fit | 40 | the rows above and below are read again: 3 x 8 + 16 |
//! | full history, a level fits in the last cache | 16 | the level just written is read back from cache; the new level goes out: read for ownership + write back |
//! | full history, a level does not fit | 24 | the previous level comes back from memory too |
//! | `convolve` | 56 | one pass that reads the input and writes the Laplacian into a new array (8 + 16), then the update, which reads the field and the Laplacian and writes the next field (8 + 8 + 16) |
//! | `opencl` | 16 | on the device: read once, write once (GPUs do not read a line before writing it) |
//! | `wavefront`, two buffers | 24 / k | k steps per pass ([`wavefront::steps_per_pass`]): level t read once and level t + k written once; the levels between stay in cache |
//!
//! The arithmetic: `gamma * (up + down + right + left)` is 3 additions and 1
//! multiply, 4 flops; keeping the centre term adds a multiply and an add, 6.
//! The stages that run `typed`'s row update (`typed`, `parallel_rows`, `parallel`, the
//! wavefronts) and the `opencl` kernel skip the centre at gamma = 1/4 (its weight is 0);
//! `vectorized`, `typed_checked`, `interpreted` and your own steps (modelled
//! as the plain update) compute it; `convolve` multiplies and adds all nine
//! weights (18), then updates (2).
//!
//! The loads: however near the data, every value the step reads is one load
//! instruction from L1, and a core has only so many load units. The stencil
//! loads 4 values per update (up, down, left, right), 5 with the centre, where
//! a copy loads 1: so in cache, where bandwidth is plentiful, the load units
//! set the pace (Intel Advisor's "cache-aware roofline" counts the same way).
//!
//! The ceiling for a stage is then the lowest of three: the bandwidth of the
//! level its working set lives in, divided by its bytes per update; the rate
//! at which one core (or all) loads values from L1, divided by its loads per
//! update; and the machine's arithmetic rate divided by its flops per update.

use serde::{Deserialize, Serialize};

use super::machine::CacheLevel;
use super::probes::Pattern;
#[cfg(feature = "opencl")]
use crate::options::Precision;
use crate::options::{RunOptions, Storage};
use crate::problem::Problem;
use crate::stages::{Stage, wavefront};

/// What one cell update costs a stage, by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Bytes moved between the working set's level and the core, per cell update.
    pub bytes_per_update: f64,
    /// Floating-point operations per cell update.
    pub flops_per_update: f64,
    /// Values loaded from L1 per cell update (0 on the device, where it is not modelled).
    pub loads_per_update: f64,
    /// The probe whose bandwidth this traffic runs at (`opencl`: the device's copy).
    pub pattern: Pattern,
    /// Bytes the time loop walks through again and again: the two fields, or
    /// the whole history (each new level is new memory).
    pub working_set: u64,
    /// Whether the traffic is on the OpenCL device rather than the CPU.
    pub on_device: bool,
    /// The reasoning in one line, for tables and the notebook.
    pub why: String,
}

/// Bytes per cell update, as the module's table gives them.
pub mod bytes {
    /// Two buffers, three rows in cache.
    pub const TWO_BUFFERS: f64 = 24.0;
    /// Two buffers, three rows too long for the cache.
    pub const TWO_BUFFERS_LONG_ROWS: f64 = 40.0;
    /// Full history, a level in the last cache.
    pub const HISTORY: f64 = 16.0;
    /// Full history, a level too large for the last cache.
    pub const HISTORY_LARGE_LEVELS: f64 = 24.0;
    /// `convolve`: one pass writing the Laplacian into a new array, then the update.
    pub const CONVOLVE: f64 = (8.0 + 16.0) + (8.0 + 8.0 + 16.0);
    /// `opencl`: read once, write once, on the device (in double precision; half in single).
    pub const DEVICE: f64 = 16.0;
}

/// The model's traffic for `stage` (`None`: a step of your own, modelled as
/// the plain update with its centre term) on `problem`, run as `options` say
/// (what is kept; for `opencl`, the number format), on a machine with `caches`.
pub fn traffic(
    stage: Option<Stage>,
    problem: &Problem,
    options: &RunOptions,
    caches: &[CacheLevel],
) -> Traffic {
    let storage = options.storage;
    let nx = problem.nx as u64;
    let field = nx * nx * 8;
    let centre_skipped = 1.0 - 4.0 * problem.gamma() == 0.0;
    let skips_centre = centre_skipped && stage.is_some_and(Stage::skips_zero_centre);
    let flops = match stage {
        _ if skips_centre => 4.0,
        Some(Stage::Convolve) => 9.0 * 2.0 + 2.0,
        _ => 6.0,
    };
    let loads = match stage {
        _ if skips_centre => 4.0,
        // Each of the nine weights loads an input value and the result so far; then two more.
        Some(Stage::Convolve) => 9.0 * 2.0 + 2.0,
        _ => 5.0,
    };
    // The largest cache one core has to itself keeps the rows a step reuses;
    // the last level, shared or not, keeps the level just written.
    let private = caches
        .iter()
        .filter(|cache| cache.shared_by == 1)
        .map(|cache| cache.bytes)
        .max()
        .unwrap_or(0);
    let last = caches.iter().map(|cache| cache.bytes).max().unwrap_or(0);
    // Half the cache, as other data and imperfect replacement take their share.
    let three_rows_fit = 3 * nx * 8 <= private / 2;
    let level_fits = field <= last / 2;
    let (bytes, pattern, working_set, why) = match (stage, storage) {
        #[cfg(feature = "opencl")]
        (Some(Stage::OpenCl), _) => (
            match options.opencl.precision {
                Precision::F64 => bytes::DEVICE,
                Precision::F32 => bytes::DEVICE / 2.0,
            },
            Pattern::Copy,
            2 * field,
            "on the device: each cell read once and written once".to_string(),
        ),
        // Three fields exist, but each pass walks two: the input and the result.
        (Some(Stage::Convolve), _) => (
            bytes::CONVOLVE,
            Pattern::Copy,
            2 * field,
            "one pass writing the Laplacian into a new array, then the update".to_string(),
        ),
        (_, Storage::FullHistory) if level_fits => (
            bytes::HISTORY,
            Pattern::Write,
            field * problem.nt as u64,
            "each level written once to new memory; the one before it read back from cache"
                .to_string(),
        ),
        (_, Storage::FullHistory) => (
            bytes::HISTORY_LARGE_LEVELS,
            Pattern::Copy,
            field * problem.nt as u64,
            "each level written to new memory and read back from memory".to_string(),
        ),
        (Some(Stage::Wavefront | Stage::WavefrontParallel), Storage::FinalField) => {
            let steps = wavefront::steps_per_pass(problem.nx);
            (
                bytes::TWO_BUFFERS / steps as f64,
                Pattern::Copy,
                2 * field,
                format!(
                    "{steps} steps per pass: each cell read once and written once per {steps} \
                     updates; the levels between stay in cache"
                ),
            )
        }
        _ if three_rows_fit => (
            bytes::TWO_BUFFERS,
            Pattern::Copy,
            2 * field,
            "two fields: read each cell once, write each new cell once".to_string(),
        ),
        _ => (
            bytes::TWO_BUFFERS_LONG_ROWS,
            Pattern::Copy,
            2 * field,
            "two fields, rows too long for the cache: the rows around each row read again"
                .to_string(),
        ),
    };
    let on_device = runs_on_device(stage);
    Traffic {
        bytes_per_update: bytes,
        flops_per_update: flops,
        loads_per_update: if on_device { 0.0 } else { loads },
        pattern,
        working_set,
        on_device,
        why,
    }
}

#[cfg(feature = "opencl")]
fn runs_on_device(stage: Option<Stage>) -> bool {
    stage == Some(Stage::OpenCl)
}

#[cfg(not(feature = "opencl"))]
fn runs_on_device(_: Option<Stage>) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "opencl")]
    #[test]
    fn the_device_moves_half_the_bytes_in_single_precision() {
        let mut options = RunOptions::final_field();
        let double = traffic(Some(Stage::OpenCl), &Problem::large(), &options, &epyc());
        options.opencl.precision = Precision::F32;
        let single = traffic(Some(Stage::OpenCl), &Problem::large(), &options, &epyc());
        assert_eq!(
            (double.bytes_per_update, single.bytes_per_update),
            (16.0, 8.0)
        );
        assert!(double.on_device && single.on_device);
    }

    /// The caches of this project's VMs (AMD EPYC): 48 KiB L1 and 1 MiB L2 per core, 32 MiB L3 shared.
    fn epyc() -> Vec<CacheLevel> {
        vec![
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
        ]
    }

    /// The model against a table worked out by hand from the module's reasoning.
    #[test]
    fn bytes_and_flops_per_update_match_the_hand_computed_table() {
        let webinar = Problem::large(); // 200 x 200, 4000 levels, gamma = 1/4
        let other_gamma = Problem::large().with_gamma(0.2);
        let wide = Problem::small().with_size(30_000, 3); // 3 rows = 720 KB > 1 MiB / 2
        let past_caches = Problem::small().with_size(2000, 61); // two fields of 32 MB
        let final_field = Storage::FinalField;
        let history = Storage::FullHistory;
        // (stage, problem, storage, (bytes, flops, loads))
        type Row<'a> = (Option<Stage>, &'a Problem, Storage, f64, f64, f64);
        let table: [Row; 18] = [
            (Some(Stage::Typed), &webinar, final_field, 24.0, 4.0, 4.0),
            (
                Some(Stage::Typed),
                &other_gamma,
                final_field,
                24.0,
                6.0,
                5.0,
            ),
            (Some(Stage::Parallel), &webinar, final_field, 24.0, 4.0, 4.0),
            (
                Some(Stage::ParallelRows),
                &webinar,
                final_field,
                24.0,
                4.0,
                4.0,
            ),
            (
                Some(Stage::TypedChecked),
                &webinar,
                final_field,
                24.0,
                6.0,
                5.0,
            ),
            (
                Some(Stage::Vectorized),
                &webinar,
                final_field,
                24.0,
                6.0,
                5.0,
            ),
            (
                Some(Stage::Interpreted),
                &webinar,
                final_field,
                24.0,
                6.0,
                5.0,
            ),
            (None, &webinar, final_field, 24.0, 6.0, 5.0),
            (
                Some(Stage::Convolve),
                &webinar,
                final_field,
                56.0,
                20.0,
                20.0,
            ),
            (Some(Stage::Typed), &webinar, history, 16.0, 4.0, 4.0),
            (Some(Stage::Parallel), &webinar, history, 16.0, 4.0, 4.0),
            (Some(Stage::Vectorized), &webinar, history, 16.0, 6.0, 5.0),
            (Some(Stage::Typed), &wide, final_field, 40.0, 4.0, 4.0),
            (Some(Stage::Typed), &wide, history, 24.0, 4.0, 4.0),
            // Two fields of 2000 x 2000: 8 steps per pass, a third of typed's bytes.
            (
                Some(Stage::Wavefront),
                &past_caches,
                final_field,
                3.0,
                4.0,
                4.0,
            ),
            (
                Some(Stage::WavefrontParallel),
                &past_caches,
                final_field,
                3.0,
                4.0,
                4.0,
            ),
            // The large plate already lives in L2: 3 steps per pass keep the rows in L1.
            (Some(Stage::Wavefront), &webinar, final_field, 8.0, 4.0, 4.0),
            // Every level reaches memory with the full history: typed's loop, typed's bytes.
            (Some(Stage::Wavefront), &webinar, history, 16.0, 4.0, 4.0),
        ];
        for (stage, problem, storage, bytes, flops, loads) in table {
            let options = RunOptions {
                storage,
                ..RunOptions::default()
            };
            let model = traffic(stage, problem, &options, &epyc());
            assert_eq!(
                (
                    model.bytes_per_update,
                    model.flops_per_update,
                    model.loads_per_update
                ),
                (bytes, flops, loads),
                "{stage:?}, nx = {}, {storage:?}",
                problem.nx
            );
        }
    }

    #[test]
    fn the_working_set_is_two_fields_or_the_whole_history() {
        let problem = Problem::large();
        let two = traffic(
            Some(Stage::Typed),
            &problem,
            &RunOptions::final_field(),
            &epyc(),
        );
        assert_eq!(two.working_set, 2 * 200 * 200 * 8);
        assert_eq!(two.pattern, Pattern::Copy);
        let all = traffic(
            Some(Stage::Typed),
            &problem,
            &RunOptions::full_history(),
            &epyc(),
        );
        assert_eq!(all.working_set, 4000 * 200 * 200 * 8);
        assert_eq!(all.pattern, Pattern::Write);
    }
}
