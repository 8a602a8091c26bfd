//! The device's own ceiling: how fast a plain copy kernel moves its memory.
//!
//! The stencil reads each cell once and writes it once on a device (a GPU
//! does not read a cache line before overwriting it), so a copy of one
//! buffer into another is the fastest any time step can be: 16 bytes per
//! element, counted as the model counts them.

use std::time::Instant;

use ocl::{Buffer, Kernel, Program};

use crate::error::Result;
use crate::stages::opencl::{OpenClSolver, failed};
use crate::timing::Timing;

/// Copies 64-bit words, so the probe needs no double-precision support.
const COPY_SOURCE: &str = r#"
__kernel void copy_words(__global const long *from, __global long *to)
{
    const size_t i = get_global_id(0);
    to[i] = from[i];
}
"#;

/// Bytes per buffer: large enough to pass every device cache, small enough for any device.
const BUFFER_BYTES: u64 = 256 << 20;

/// Times a copy kernel between two buffers on `solver`'s device: one warm-up,
/// then `repeat` runs. Returns the timings and the bytes each run moves (16
/// per element: read once, written once).
pub(super) fn copy_bandwidth(solver: &OpenClSolver, repeat: usize) -> Result<(Timing, f64)> {
    let info = solver.device();
    let limit = [info.max_allocation_bytes, info.global_memory_bytes / 4]
        .into_iter()
        .filter(|&bytes| bytes > 0)
        .min()
        .unwrap_or(BUFFER_BYTES);
    let words = (BUFFER_BYTES.min(limit) / 8).max(1024) as usize;
    let queue = solver.queue();
    let program = Program::builder()
        .devices(queue.device())
        .src(COPY_SOURCE)
        .build(&queue.context())
        .map_err(failed("compiling the copy kernel"))?;
    let buffer = || {
        Buffer::<i64>::builder()
            .queue(queue.clone())
            .len(words)
            .fill_val(1)
            .build()
            .map_err(failed("allocating the copy's buffers"))
    };
    let (from, to) = (buffer()?, buffer()?);
    let kernel = Kernel::builder()
        .program(&program)
        .name("copy_words")
        .queue(queue.clone())
        .global_work_size(words)
        .arg(&from)
        .arg(&to)
        .build()
        .map_err(failed("setting up the copy kernel"))?;
    let mut runs = Vec::with_capacity(repeat);
    for run in 0..=repeat {
        let start = Instant::now();
        // SAFETY: the kernel reads and writes only `words` elements of two
        // buffers `words` long, one work item per element.
        unsafe { kernel.enq() }.map_err(failed("running the copy kernel"))?;
        queue
            .finish()
            .map_err(failed("waiting for the copy kernel"))?;
        if run > 0 {
            runs.push(start.elapsed().as_secs_f64());
        }
    }
    Ok((Timing { runs }, 16.0 * words as f64))
}
