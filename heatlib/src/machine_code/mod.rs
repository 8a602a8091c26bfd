//! See what the compiler made of a loop: the machine code of a step, as it runs on this machine.
//!
//! The webinar used `%%cython -a` to show which lines of a Cython loop still
//! call into the Python interpreter. The Rust counterpart is the machine code
//! itself: a checked index `field[[i, j]]` becomes a compare and a branch to a
//! panic, and a loop the compiler could vectorise uses *packed* instructions
//! such as `vaddpd`, which add 2, 4 or 8 doubles at once (in `xmm`, `ymm` or
//! `zmm` registers). [`MachineCode::of_step`] disassembles a function of the
//! running program (a step you wrote in a notebook cell, or a library stage's),
//! finds its innermost loops, and marks and counts both kinds of instruction.
//!
//! It reads the code where it lies in memory, and the function's size from
//! the symbol table of the file it was loaded from, so what it shows is what
//! runs. x86-64 Linux only; elsewhere it returns an error that says so.
//!
//! ```
//! # #[cfg(all(target_arch = "x86_64", target_os = "linux"))] {
//! use heatlib::{Stage, machine_code::MachineCode};
//! let typed = MachineCode::of_stage(Stage::Typed)?;
//! assert!(typed.hot_loop().is_some_and(|hot| hot.packed_arithmetic > 0));
//! println!("{}", typed.summary());
//! # }
//! # Ok::<(), heatlib::HeatError>(())
//! ```

use std::fmt::Write;

use crate::error::{HeatError, Result};
use crate::show::{Representation, Show, escape};
use crate::stages::Stage;
use crate::step::StepFn;

/// What an instruction does, as far as this lesson cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A conditional branch to a panic: the bounds check of an index (or
    /// another check that can fail), taken only when the check fails.
    PanicCheck,
    /// Arithmetic on several doubles at once (SIMD), `lanes` of them.
    PackedArithmetic {
        /// Doubles per instruction: 2 (`xmm`), 4 (`ymm`) or 8 (`zmm`).
        lanes: u32,
    },
    /// Arithmetic on one double.
    ScalarArithmetic,
    /// Anything else: loads, stores, address arithmetic, the loop's own counter.
    Other,
}

/// One decoded instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Where it lies in memory.
    pub address: u64,
    /// Intel syntax, as `vaddpd zmm0, zmm1, zmm2`.
    pub text: String,
    /// What it does, for this lesson.
    pub kind: Kind,
    /// For a [`Kind::PanicCheck`], the function the failed check calls
    /// (`panic_bounds_check`, `array_out_of_bounds`, ...).
    pub panics_in: Option<String>,
}

/// An innermost loop: instructions `first..=last` run again and again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loop {
    /// Index of its first instruction (the target of the branch back).
    pub first: usize,
    /// Index of its last instruction (the branch back).
    pub last: usize,
    /// Packed (SIMD) arithmetic instructions in the loop.
    pub packed_arithmetic: usize,
    /// Doubles the widest packed instruction works on at once (0 if none).
    pub lanes: u32,
    /// Scalar arithmetic instructions in the loop.
    pub scalar_arithmetic: usize,
    /// Checks that branch to a panic, inside the loop.
    pub panic_checks: usize,
}

impl Loop {
    /// Instructions in the loop.
    pub fn instruction_count(&self) -> usize {
        self.last - self.first + 1
    }

    /// Doubles of arithmetic per pass through the loop: how much work one pass does.
    fn work(&self) -> usize {
        self.packed_arithmetic * self.lanes as usize + self.scalar_arithmetic
    }
}

/// The machine code of one function, with its innermost loops found and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineCode {
    /// The function's name, demangled.
    pub function: String,
    /// Every instruction, in address order.
    pub instructions: Vec<Instruction>,
    /// The innermost loops, in address order.
    pub loops: Vec<Loop>,
}

impl MachineCode {
    /// The machine code of a step, for example one written in a notebook cell:
    /// `MachineCode::of_step(my_step)`.
    pub fn of_step(step: StepFn) -> Result<MachineCode> {
        disassemble(step as usize)
    }

    /// The machine code of a library stage's step; `parallel` shows the `typed`
    /// step it runs on every band. `opencl` runs on a device: its kernel
    /// source is `heatlib::opencl::KERNEL_SOURCE`.
    pub fn of_stage(stage: Stage) -> Result<MachineCode> {
        match stage.step_fn() {
            Some(step) => MachineCode::of_step(step),
            None => Err(unavailable(format!(
                "the {stage} stage runs on an OpenCL device, not as machine code of this program; \
                 its kernel's source is heatlib::opencl::KERNEL_SOURCE"
            ))),
        }
    }

    /// The loop that does the most arithmetic per pass: where the time goes.
    pub fn hot_loop(&self) -> Option<&Loop> {
        self.loops.iter().max_by_key(|found| found.work())
    }

    /// One line of counts over the whole function.
    pub fn summary(&self) -> String {
        let count = |kind: fn(&Kind) -> bool| {
            self.instructions
                .iter()
                .filter(|instruction| kind(&instruction.kind))
                .count()
        };
        format!(
            "{}: {} instructions, {} innermost loop{}; in the whole function {} panic checks, \
             {} packed and {} scalar arithmetic instructions\n",
            self.function,
            self.instructions.len(),
            self.loops.len(),
            if self.loops.len() == 1 { "" } else { "s" },
            count(|k| *k == Kind::PanicCheck),
            count(|k| matches!(k, Kind::PackedArithmetic { .. })),
            count(|k| *k == Kind::ScalarArithmetic),
        )
    }

    /// The loops worth reading: the hot loop, then any other innermost loop
    /// that still holds checks (where the compiler kept them).
    pub fn loops_to_show(&self) -> Vec<(&'static str, &Loop)> {
        let hot = self.hot_loop();
        let mut shown: Vec<(&'static str, &Loop)> =
            hot.map(|hot| ("hot loop", hot)).into_iter().collect();
        shown.extend(
            self.loops
                .iter()
                .filter(|found| found.panic_checks > 0 && Some(*found) != hot)
                .map(|found| ("a loop that still checks", found)),
        );
        shown
    }

    /// [`MachineCode::loops_to_show`] as text, one instruction per line, the ones that matter marked.
    pub fn listing(&self) -> String {
        let shown = self.loops_to_show();
        if shown.is_empty() {
            return String::from("(no loop found)\n");
        }
        let mut text = String::new();
        for (title, shown_loop) in shown {
            let _ = writeln!(text, "{title}: {}", shown_loop.describe());
            for instruction in &self.instructions[shown_loop.first..=shown_loop.last] {
                let _ = writeln!(
                    text,
                    "{:8x}  {:<44}{}",
                    instruction.address & 0xff_ffff,
                    instruction.text,
                    instruction
                        .note()
                        .map(|note| format!("  <- {note}"))
                        .unwrap_or_default()
                );
            }
        }
        text
    }
}

impl Loop {
    /// One line: its size and what it holds.
    pub fn describe(&self) -> String {
        format!(
            "{} instructions, {} checks, {} packed arithmetic ({} doubles each), {} scalar arithmetic",
            self.instruction_count(),
            self.panic_checks,
            self.packed_arithmetic,
            self.lanes,
            self.scalar_arithmetic
        )
    }
}

impl Instruction {
    /// What the listing says beside it, if anything.
    pub fn note(&self) -> Option<String> {
        match self.kind {
            Kind::PanicCheck => Some(format!(
                "check: if it fails, {}",
                self.panics_in.as_deref().unwrap_or("a panic")
            )),
            Kind::PackedArithmetic { lanes } => Some(format!("SIMD: {lanes} doubles at once")),
            Kind::ScalarArithmetic => Some("one double".into()),
            Kind::Other => None,
        }
    }
}

impl MachineCode {
    /// The summary and the hot loop as HTML, the marked instructions coloured.
    pub fn to_html(&self) -> String {
        let mut html = format!(
            "<pre class=\"heat-machine-code\">{}\n",
            escape(&self.summary())
        );
        for (title, shown_loop) in self.loops_to_show() {
            let _ = writeln!(html, "<b>{title}</b>: {}", escape(&shown_loop.describe()));
            for instruction in &self.instructions[shown_loop.first..=shown_loop.last] {
                let style = match instruction.kind {
                    Kind::PanicCheck => "color:#b00020;font-weight:bold",
                    Kind::PackedArithmetic { .. } => "color:#006400;font-weight:bold",
                    Kind::ScalarArithmetic => "color:#00509e",
                    Kind::Other => "color:#555",
                };
                let note = instruction
                    .note()
                    .map(|note| format!("  ← {note}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    html,
                    "<span style=\"{style}\">{:8x}  {:<44}{}</span>",
                    instruction.address & 0xff_ffff,
                    escape(&instruction.text),
                    escape(&note)
                );
            }
        }
        html + "</pre>\n"
    }
}

impl Show for MachineCode {
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        Ok(vec![
            Representation::new("text/plain", self.summary() + &self.listing()),
            Representation::new("text/html", self.to_html()),
        ])
    }
}

/// Reading and decoding the machine code: x86-64 Linux only, all of it in one room.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod image;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use x86_64::disassemble;

fn unavailable(message: String) -> HeatError {
    HeatError::MachineCode { message }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn disassemble(_address: usize) -> Result<MachineCode> {
    Err(unavailable(format!(
        "machine code is shown on x86-64 Linux only; this machine is {} {}",
        std::env::consts::ARCH,
        std::env::consts::OS
    )))
}
