//! Where a function's code lies: the file it was loaded from, its symbol
//! table, and the check that the bytes about to be read are still that
//! file's code. Compiled on x86-64 Linux only.

use super::unavailable;
use crate::error::Result;

/// The bytes of the file at `path`, and which file they were read from (from
/// the open file itself, so that a file replaced meanwhile cannot mix the two).
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
pub(super) fn readable_name(mangled: &str) -> String {
    let name = rustc_demangle::demangle(mangled).to_string();
    match name.rsplit_once("::h") {
        Some((stem, hash)) if hash.len() == 16 => stem.to_string(),
        _ => name,
    }
}

/// The file (executable or shared library) some code was loaded from, and its functions.
pub(super) struct Image {
    pub(super) path: String,
    /// Added to a symbol's value to get its address in this process.
    base: u64,
    /// `(value, size, mangled name)` of every function, sorted by value.
    functions: Vec<(u64, u64, String)>,
    /// The file whose symbols these are, as it was when they were read.
    file: FileIdentity,
}

/// Which file, and how long it was: a mapping must come from this very file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    major: u32,
    minor: u32,
    inode: u64,
    len: u64,
}

impl Image {
    pub(super) fn containing(address: usize) -> Result<Image> {
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
    pub(super) fn still_loaded(&self, start: u64, size: u64) -> Result<()> {
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
    pub(super) fn function_at(&self, address: u64) -> Option<(u64, u64, &str)> {
        let value = address.checked_sub(self.base)?;
        let after = self
            .functions
            .partition_point(|(start, _, _)| *start <= value);
        let (start, size, name) = self.functions.get(after.checked_sub(1)?)?;
        (value < start + size).then(|| (start + self.base, *size, name.as_str()))
    }

    /// The name of the function at `address`, in this file or, failing that, any loaded one.
    pub(super) fn name_of(&self, address: u64) -> Option<String> {
        match self.function_at(address) {
            Some((_, _, name)) => Some(readable_name(name)),
            None => exported_name(address as usize).map(|name| readable_name(&name)),
        }
    }
}

/// The path of the file the code at `address` was loaded from, and its load address.
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

#[cfg(test)]
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
