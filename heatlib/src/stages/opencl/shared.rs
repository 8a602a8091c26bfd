//! The one program `Stage::OpenCl` keeps between calls, so that a notebook
//! timing the stage again does not compile the kernel again.

use std::sync::Mutex;

use super::{DEVICE_VARIABLE, OpenClSolver};
use crate::error::Result;
use crate::options::OpenClSettings;
use crate::problem::Problem;
use crate::solution::Solution;
use crate::storage::RunBuffers;

/// The program `Stage::OpenCl` reuses between calls, built on first use.
static SHARED: Mutex<Option<OpenClSolver>> = Mutex::new(None);

/// Runs on the shared program, building it first if there is none yet or
/// the device or precision asked for has changed since.
pub(crate) fn march_shared(
    problem: &Problem,
    settings: &OpenClSettings,
    buffers: RunBuffers,
) -> Result<Solution> {
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let environment = std::env::var(DEVICE_VARIABLE).ok();
    let reusable = shared
        .as_ref()
        .is_some_and(|solver| solver.settings == *settings && solver.environment == environment);
    if !reusable {
        *shared = None;
        *shared = Some(OpenClSolver::new(settings)?);
    }
    let solver = shared.as_mut().expect("built just above");
    let (mut solution, run) = solver.march(problem, buffers)?;
    solution.device = Some(run);
    Ok(solution)
}
