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

#[cfg(feature = "display")]
impl MachineCode {
    /// The summary and the hot loop as HTML, the marked instructions coloured.
    pub fn to_html(&self) -> String {
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
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

    /// Shows the summary and the hot loop in the evcxr Jupyter kernel.
    pub fn evcxr_display(&self) {
        crate::display::print_flushed(
            &(crate::display::evcxr_content("text/plain", &(self.summary() + &self.listing()))
                + &crate::display::evcxr_content("text/html", &self.to_html())),
        );
    }
}

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

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn disassemble(address: usize) -> Result<MachineCode> {
    use iced_x86::Formatter;
    let image = Image::containing(address)?;
    let (start, size, name) = image
        .function_at(address as u64)
        .filter(|(start, _, _)| *start == address as u64)
        .ok_or_else(|| {
            unavailable(format!(
                "no symbol of size > 0 at this function's address in {} (was it stripped?)",
                image.path
            ))
        })?;
    let function = readable_name(name);
    image.still_loaded(start, size)?;
    // SAFETY: the symbol table says `size` bytes of code start at `start`, and
    // `still_loaded` checked that they lie in a readable mapping of this very
    // file (not one rebuilt since), which stays loaded while its code can run.
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, size as usize) };
    let mut decoder = iced_x86::Decoder::with_ip(64, bytes, start, iced_x86::DecoderOptions::NONE);
    let decoded: Vec<iced_x86::Instruction> = decoder.iter().collect();
    let mut formatter = iced_x86::IntelFormatter::new();
    let instructions = decoded
        .iter()
        .map(|instruction| {
            let mut text = String::new();
            formatter.format(instruction, &mut text);
            let (kind, panics_in) = classify(instruction, &decoded, &image);
            Instruction {
                address: instruction.ip(),
                text,
                kind,
                panics_in,
            }
        })
        .collect::<Vec<_>>();
    let loops = innermost_loops(&decoded, &instructions);
    Ok(MachineCode {
        function,
        instructions,
        loops,
    })
}

/// The bytes of the file at `path`, and which file they were read from (from
/// the open file itself, so that a file replaced meanwhile cannot mix the two).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn read_with_identity(path: &str) -> std::io::Result<(Vec<u8>, FileIdentity)> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    let identity = FileIdentity {
        major: libc::major(meta.dev()),
        minor: libc::minor(meta.dev()),
        inode: meta.ino(),
        len: data.len() as u64,
    };
    Ok((data, identity))
}

/// Whether `size` bytes from `start` lie in one readable, executable mapping
/// of `file` (same device and inode, still present on disk, and every byte
/// within the file's length as it was read, so that no page past a file
/// shortened in place is touched), in `/proc/self/maps`'s text
/// (`start-end perms offset major:minor inode path`, one mapping a line).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn code_is_mapped(maps: &str, start: u64, size: u64, file: FileIdentity) -> Result<(), String> {
    let end = start
        .checked_add(size)
        .ok_or("the symbol's size overflows")?;
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some((low, high)) = fields.first().and_then(|range| range.split_once('-')) else {
            continue;
        };
        let (Ok(low), Ok(high)) = (u64::from_str_radix(low, 16), u64::from_str_radix(high, 16))
        else {
            continue;
        };
        if !(low..high).contains(&start) {
            continue;
        }
        let perms = fields.get(1).copied().unwrap_or("");
        let offset = fields
            .get(2)
            .and_then(|text| u64::from_str_radix(text, 16).ok());
        let device = fields.get(3).and_then(|text| {
            let (major, minor) = text.split_once(':')?;
            Some((
                u32::from_str_radix(major, 16).ok()?,
                u32::from_str_radix(minor, 16).ok()?,
            ))
        });
        let mapped_inode = fields.get(4).and_then(|text| text.parse::<u64>().ok());
        let last_byte_in_file = offset.and_then(|offset| offset.checked_add(end - low));
        return if !perms.starts_with('r') || !perms.contains('x') {
            Err("the function's address is not in readable code".into())
        } else if end > high {
            Err("the function's symbol is larger than the code mapped for it".into())
        } else if device != Some((file.major, file.minor))
            || mapped_inode != Some(file.inode)
            || line.ends_with("(deleted)")
        {
            Err("the code in memory comes from another file than the one on disk".into())
        } else if last_byte_in_file.is_none_or(|last| last > file.len) {
            Err("the function's code lies past the end of its file".into())
        } else {
            Ok(())
        };
    }
    Err("the function's address is in no mapping of this process".into())
}

/// A demangled name without the hash rustc appends (`::h0123abcd...`), which says nothing to a reader.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn readable_name(mangled: &str) -> String {
    let name = rustc_demangle::demangle(mangled).to_string();
    match name.rsplit_once("::h") {
        Some((stem, hash)) if hash.len() == 16 => stem.to_string(),
        _ => name,
    }
}

/// The file (executable or shared library) some code was loaded from, and its functions.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
struct Image {
    path: String,
    /// Added to a symbol's value to get its address in this process.
    base: u64,
    /// `(value, size, mangled name)` of every function, sorted by value.
    functions: Vec<(u64, u64, String)>,
    /// The file whose symbols these are, as it was when they were read.
    file: FileIdentity,
}

/// Which file, and how long it was: a mapping must come from this very file.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    major: u32,
    minor: u32,
    inode: u64,
    len: u64,
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
impl Image {
    fn containing(address: usize) -> Result<Image> {
        use object::{Object, ObjectKind, ObjectSymbol, SymbolKind};
        let (named, load_base) = loaded_from(address).ok_or_else(|| {
            unavailable("the loader does not know which file this function came from".into())
        })?;
        // The main program may be listed under the name it was started with.
        let path = if std::path::Path::new(&named).is_file() {
            named
        } else {
            "/proc/self/exe".to_string()
        };
        let (data, file_identity) = read_with_identity(&path)
            .map_err(|error| unavailable(format!("cannot read {path}: {error}")))?;
        let file = object::File::parse(&*data)
            .map_err(|error| unavailable(format!("cannot parse {path}: {error}")))?;
        // Symbols of a shared library or a position-independent program count from its load address.
        let base = match file.kind() {
            ObjectKind::Executable => 0,
            _ => load_base,
        };
        let mut functions: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|symbol| symbol.kind() == SymbolKind::Text && symbol.size() > 0)
            .filter_map(|symbol| {
                Some((
                    symbol.address(),
                    symbol.size(),
                    symbol.name().ok()?.to_string(),
                ))
            })
            .collect();
        functions.sort_unstable();
        Ok(Image {
            path,
            base,
            functions,
            file: file_identity,
        })
    }

    /// Checks that `size` bytes from `start` lie in one readable, executable
    /// mapping of this process made from this file as it is on disk now. A
    /// library rebuilt since it was loaded (a notebook's cell compiled again)
    /// has other symbol sizes, and reading by them could leave the mapping.
    fn still_loaded(&self, start: u64, size: u64) -> Result<()> {
        let maps = std::fs::read_to_string("/proc/self/maps")
            .map_err(|error| unavailable(format!("cannot read /proc/self/maps: {error}")))?;
        code_is_mapped(&maps, start, size, self.file).map_err(|why| {
            unavailable(format!(
                "{why}: {} may have been rebuilt since it was loaded; restart the kernel and \
                 run the cells again to see the machine code that runs",
                self.path
            ))
        })
    }

    /// The function whose code covers `address`: its start in this process, size and mangled name.
    fn function_at(&self, address: u64) -> Option<(u64, u64, &str)> {
        let value = address.checked_sub(self.base)?;
        let after = self
            .functions
            .partition_point(|(start, _, _)| *start <= value);
        let (start, size, name) = self.functions.get(after.checked_sub(1)?)?;
        (value < start + size).then(|| (start + self.base, *size, name.as_str()))
    }

    /// The name of the function at `address`, in this file or, failing that, any loaded one.
    fn name_of(&self, address: u64) -> Option<String> {
        match self.function_at(address) {
            Some((_, _, name)) => Some(readable_name(name)),
            None => exported_name(address as usize).map(|name| readable_name(&name)),
        }
    }
}

/// The path of the file the code at `address` was loaded from, and its load address.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn loaded_from(address: usize) -> Option<(String, u64)> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    let found = unsafe { libc::dladdr(address as *const libc::c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a NUL-terminated path owned by the loader.
    let path = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    Some((path.to_string_lossy().into_owned(), info.dli_fbase as u64))
}

/// The exported name the loader knows for `address` (functions of other shared libraries, such as std's).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn exported_name(address: usize) -> Option<String> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables and fills `info`.
    let found = unsafe { libc::dladdr(address as *const libc::c_void, &mut info) };
    if found == 0 || info.dli_sname.is_null() || info.dli_saddr as usize != address {
        return None;
    }
    // SAFETY: a NUL-terminated name owned by the loader.
    Some(
        unsafe { std::ffi::CStr::from_ptr(info.dli_sname) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// What `instruction` does; for a check, the panic function it leads to.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn classify(
    instruction: &iced_x86::Instruction,
    all: &[iced_x86::Instruction],
    image: &Image,
) -> (Kind, Option<String>) {
    use iced_x86::FlowControl;
    if instruction.flow_control() == FlowControl::ConditionalBranch {
        if let Some(panic) = panic_reached_from(instruction.near_branch_target(), all, image) {
            return (Kind::PanicCheck, Some(panic));
        }
        return (Kind::Other, None);
    }
    let mnemonic = format!("{:?}", instruction.mnemonic()).to_lowercase();
    let stem = mnemonic.strip_prefix('v').unwrap_or(&mnemonic);
    let arithmetic = [
        "add", "sub", "mul", "div", "fmadd", "fmsub", "fnmadd", "fnmsub",
    ]
    .iter()
    .any(|op| stem.starts_with(op));
    let kind = if !arithmetic {
        Kind::Other
    } else if stem.ends_with("pd") {
        let widest = (0..instruction.op_count())
            .map(|operand| instruction.op_register(operand))
            .map(|register| match () {
                _ if register.is_zmm() => 8,
                _ if register.is_ymm() => 4,
                _ => 2,
            })
            .max()
            .unwrap_or(2);
        Kind::PackedArithmetic { lanes: widest }
    } else if stem.ends_with("sd") {
        Kind::ScalarArithmetic
    } else {
        Kind::Other
    };
    (kind, None)
}

/// Whether the code at `target` ends in a panic: the first call it makes (within
/// a few instructions, following jumps) goes to a function whose name says so
/// (`panic_bounds_check`, `array_out_of_bounds`, `..._overflow`). Returns its name.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn panic_reached_from(target: u64, all: &[iced_x86::Instruction], image: &Image) -> Option<String> {
    use iced_x86::FlowControl;
    let panics = |name: String| {
        let short = name.rsplit("::").next().unwrap_or(&name).to_string();
        ["panic", "out_of_bounds", "overflow", "fail"]
            .iter()
            .any(|word| short.contains(word))
            .then_some(short)
    };
    let mut at = target;
    for _hop in 0..3 {
        let Some(start) = all.iter().position(|i| i.ip() == at) else {
            // A jump straight out of the function, to the panic function itself.
            return image.name_of(at).and_then(panics);
        };
        let mut jumped = false;
        for instruction in all.iter().skip(start).take(24) {
            match instruction.flow_control() {
                FlowControl::Call => {
                    return image
                        .name_of(instruction.near_branch_target())
                        .and_then(panics);
                }
                FlowControl::IndirectCall if instruction.is_ip_rel_memory_operand() => {
                    // `call [rip + slot]`: the slot holds the callee's address, filled in by the loader.
                    // SAFETY: the slot lies in this image's global offset table, mapped readable.
                    let callee = unsafe {
                        std::ptr::read_unaligned(instruction.ip_rel_memory_address() as *const u64)
                    };
                    return image.name_of(callee).and_then(panics);
                }
                FlowControl::UnconditionalBranch => {
                    at = instruction.near_branch_target();
                    jumped = true;
                    break;
                }
                FlowControl::Next | FlowControl::ConditionalBranch => {}
                _ => return None,
            }
        }
        if !jumped {
            return None;
        }
    }
    None
}

/// Loops are found from their branch back: a branch to an earlier address
/// in the function. The innermost ones contain no other.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn innermost_loops(decoded: &[iced_x86::Instruction], classified: &[Instruction]) -> Vec<Loop> {
    use iced_x86::FlowControl;
    let index_of = |address: u64| decoded.iter().position(|i| i.ip() == address);
    let mut ranges: Vec<(usize, usize)> = decoded
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            matches!(
                i.flow_control(),
                FlowControl::ConditionalBranch | FlowControl::UnconditionalBranch
            )
        })
        .filter_map(|(at, i)| {
            let target = index_of(i.near_branch_target())?;
            (target <= at).then_some((target, at))
        })
        .collect();
    ranges.sort_unstable();
    ranges.dedup();
    let inner = |&(first, last): &(usize, usize)| {
        !ranges
            .iter()
            .any(|&(f, l)| (f, l) != (first, last) && first <= f && l <= last)
    };
    ranges
        .iter()
        .filter(|range| inner(range))
        .map(|&(first, last)| {
            let body = &classified[first..=last];
            let count = |wanted: fn(&Kind) -> bool| body.iter().filter(|i| wanted(&i.kind)).count();
            Loop {
                first,
                last,
                packed_arithmetic: count(|k| matches!(k, Kind::PackedArithmetic { .. })),
                lanes: body
                    .iter()
                    .filter_map(|i| match i.kind {
                        Kind::PackedArithmetic { lanes } => Some(lanes),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0),
                scalar_arithmetic: count(|k| *k == Kind::ScalarArithmetic),
                panic_checks: count(|k| *k == Kind::PanicCheck),
            }
        })
        .collect()
}

#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod tests {
    use super::{FileIdentity, code_is_mapped};

    const MAPS: &str = "\
5000-6000 r--p 00000000 fe:01 42 /lib/libstep.so
6000-8000 r-xp 00001000 fe:01 42 /lib/libstep.so
9000-a000 r-xp 00001000 fe:01 77 /lib/old.so (deleted)
";

    fn step_library(inode: u64, len: u64) -> FileIdentity {
        FileIdentity {
            major: 0xfe,
            minor: 1,
            inode,
            len,
        }
    }

    #[test]
    fn code_is_read_only_inside_its_own_mapping_of_the_file_on_disk() {
        let library = step_library(42, 0x4000);
        assert_eq!(code_is_mapped(MAPS, 0x6100, 0x100, library), Ok(()));
        // A size from a rebuilt file that runs past the mapping.
        assert!(code_is_mapped(MAPS, 0x7f00, 0x200, library).is_err());
        // A mapping that is not code, another file, another device, a file replaced on
        // disk, no mapping, an overflowing size.
        assert!(code_is_mapped(MAPS, 0x5100, 0x10, library).is_err());
        assert!(code_is_mapped(MAPS, 0x6100, 0x10, step_library(43, 0x4000)).is_err());
        let other_device = FileIdentity {
            minor: 2,
            ..library
        };
        assert!(code_is_mapped(MAPS, 0x6100, 0x10, other_device).is_err());
        assert!(code_is_mapped(MAPS, 0x9100, 0x10, step_library(77, 0x4000)).is_err());
        assert!(code_is_mapped(MAPS, 0xb000, 0x10, library).is_err());
        assert!(code_is_mapped(MAPS, u64::MAX - 1, 0x10, library).is_err());
        // The same file, shortened in place: its pages past the end would fault.
        assert!(code_is_mapped(MAPS, 0x6100, 0x100, step_library(42, 0x1100)).is_err());
    }
}
