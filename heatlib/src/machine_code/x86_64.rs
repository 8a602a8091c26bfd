//! The machine code of a function of this process, read where it lies in
//! memory, decoded with iced-x86, its instructions classified and its
//! innermost loops found. Compiled on x86-64 Linux only.

use super::image::{Image, readable_name};
use super::{Instruction, Kind, Loop, MachineCode, unavailable};
use crate::error::Result;

pub(super) fn disassemble(address: usize) -> Result<MachineCode> {
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

/// What `instruction` does; for a check, the panic function it leads to.
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
