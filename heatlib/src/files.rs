//! Files heatlib reads and writes, by one rule each, for a shared server.
//!
//! **Writes** ([`write_npy`], [`write_text`]) are whole or not at all: a write
//! that fails part-way (a full disk, a learner's quota) must not leave a
//! truncated file where the previous good one was, so the file is written
//! beside its destination and renamed over it once complete. A link is
//! followed, except one that another user made in a shared folder such as
//! `/tmp` (sticky and writable by all): following it would let them turn your
//! write into a write over one of your files, which Linux's
//! `fs.protected_symlinks` refuses for the same reason. A pipe with no reader
//! is refused at once instead of waiting for one.
//!
//! **Reads** ([`read_text`]) take a regular file only, up to a size bound: a
//! pipe would wait for a writer for ever and `/dev/zero` would fill memory.
//!
//! **Scratch folders** ([`ScratchFolder`]) under the shared temporary directory
//! are made afresh with a name no one else chose, so that no one can have left
//! a link inside them first.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray_npy::WriteNpyExt;

use crate::error::{HeatError, Result};

/// Writes `array` to `path` as a NumPy `.npy` file (`numpy.load(path)` reads
/// it), whole or not at all: it is written to a new file beside `path`, synced,
/// then renamed over `path`. If anything fails, `path` is as it was before and
/// the partial file is removed.
///
/// The file keeps the permissions of the one it replaces (a private 0600 file
/// stays private), or gets the usual ones for a new file; while it is being
/// written only you can read it. A link is followed (the file it points to is
/// replaced) unless another user made it in a shared folder (sticky and
/// writable by its group or by all, as `/tmp`: the rule of Linux's
/// `fs.protected_symlinks`). A destination that is not a regular file
/// (`/dev/null`, a pipe with a reader) is written in place; a pipe nobody
/// reads, or one another user made in a shared folder, is refused.
///
/// ```
/// let field = ndarray::Array2::<f64>::zeros((3, 3));
/// let path = std::env::temp_dir().join(format!("heatlib-doc-{}.npy", std::process::id()));
/// heatlib::write_npy(&path, &field)?;
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), heatlib::HeatError>(())
/// ```
pub fn write_npy<T: WriteNpyExt + ?Sized>(path: &Path, array: &T) -> Result<()> {
    write_whole(path, |writer| {
        array.write_npy(writer).map_err(|e| e.to_string())
    })
}

/// Writes `text` to `path` whole or not at all, by the rule [`write_npy`] follows.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Writes `bytes` to `path` whole or not at all, by the rule [`write_npy`] follows.
pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_whole(path, |writer| {
        writer.write_all(bytes).map_err(|e| e.to_string())
    })
}

/// Reads the text file at `path`, `what` it holds (for the messages), refusing
/// anything but a regular file of at most `limit` bytes (a pipe would wait for a
/// writer for ever, `/dev/zero` would fill memory).
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String> {
    let failed = |message: String| HeatError::Read {
        path: path.display().to_string(),
        message,
    };
    let mut options = OpenOptions::new();
    options.read(true);
    // Opening a pipe for reading waits for a writer; without waiting, the check below refuses it.
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| failed(e.to_string()))?;
    let meta = file.metadata().map_err(|e| failed(e.to_string()))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a pipe or a device)"
        };
        return Err(failed(format!("it is {kind}; give the path of {what}")));
    }
    let too_large = |size: u64| {
        failed(format!(
            "it holds {size} bytes or more, more than the {limit} that {what} can take; is it the right file?"
        ))
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| failed(format!("it is not text; give the path of {what}")))
}

/// Writes what `write` writes to `path`, whole or not at all (see [`write_npy`]).
fn write_whole(
    path: &Path,
    write: impl Fn(&mut dyn Write) -> std::result::Result<(), String>,
) -> Result<()> {
    let failed = |message: String| HeatError::File {
        path: path.display().to_string(),
        message,
    };
    // Where the bytes go: through every link on the way, each one allowed by the rule.
    let destination = resolve_links(path).map_err(failed)?;
    // What the kernel reaches by the path itself: a pipe behind `/dev/stdout` is found only
    // this way, since its link names no file.
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(failed("it is a folder; name a file in it".into()));
        }
        Ok(meta) if !meta.is_file() => {
            refuse_planted_pipe(&meta, &destination).map_err(failed)?;
            return write_in_place(path, write).map_err(failed);
        }
        _ => {}
    }
    let before = std::fs::metadata(&destination).ok();
    let name = destination
        .file_name()
        .ok_or_else(|| failed("the path names no file".into()))?;
    let folder = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (partial, file) = new_file_beside(folder, &name.to_string_lossy())
        .map_err(|e| failed(format!("cannot make a file in {}: {e}", folder.display())))?;
    let written = (|| {
        let mut writer = BufWriter::new(&file);
        write(&mut writer)?;
        writer.flush().map_err(|e| e.to_string())?;
        drop(writer);
        file.sync_all().map_err(|e| e.to_string())?;
        let permissions = match &before {
            Some(meta) => kept_permissions(meta),
            None => new_file_permissions(),
        };
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)
                .map_err(|e| e.to_string())?;
        }
        std::fs::rename(&partial, &destination).map_err(|e| e.to_string())
    })();
    if let Err(message) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(format!(
            "{message} (the file that was there before, if any, is unchanged)"
        )));
    }
    Ok(())
}

/// Links followed at most, as Linux's own limit: past it the links go round in a loop.
const MOST_LINKS: usize = 40;

/// `path` with every link on the way followed, as the kernel walks a path,
/// refusing a link that another user made in a shared folder. What does not
/// exist yet is kept as written.
fn resolve_links(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut resolved = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().map_err(|e| format!("cannot tell the current folder: {e}"))?
    };
    let mut rest: VecDeque<OsString> = parts(path);
    let mut links = 0;
    while let Some(part) = rest.pop_front() {
        match Path::new(&part).components().next() {
            Some(Component::RootDir | Component::Prefix(_)) => resolved = PathBuf::from(&part),
            Some(Component::ParentDir) => {
                resolved.pop();
            }
            Some(Component::Normal(name)) => {
                let next = resolved.join(name);
                let is_link = std::fs::symlink_metadata(&next)
                    .is_ok_and(|meta| meta.file_type().is_symlink());
                if !is_link {
                    resolved = next;
                    continue;
                }
                links += 1;
                if links > MOST_LINKS {
                    return Err(format!(
                        "more than {MOST_LINKS} links on the way: they go round in a loop"
                    ));
                }
                refuse_planted_link(&next, &resolved)?;
                let target = std::fs::read_link(&next)
                    .map_err(|e| format!("cannot follow the link {}: {e}", next.display()))?;
                for part in parts(&target).into_iter().rev() {
                    rest.push_front(part);
                }
            }
            Some(Component::CurDir) | None => {}
        }
    }
    Ok(resolved)
}

/// The parts of a path, the root (if any) first.
fn parts(path: &Path) -> VecDeque<OsString> {
    path.components()
        .map(|part| part.as_os_str().to_os_string())
        .collect()
}

/// Refuses the link `link` in `folder` when the folder is shared and the link
/// belongs neither to this user nor to the folder's owner: the rule of Linux's
/// `fs.protected_symlinks`, for group-writable class folders too.
#[cfg(target_os = "linux")]
fn refuse_planted_link(link: &Path, folder: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let Ok(link_meta) = std::fs::symlink_metadata(link) else {
        return Ok(());
    };
    match someone_elses_in_a_shared_folder(link_meta.uid(), folder) {
        Some(owner) => Err(format!(
            "{} is a link in the shared folder {} that another user (uid {owner}) made; \
             heat does not write through it, as Linux's fs.protected_symlinks would not. \
             Write to another path (in your home, say): only its owner can remove the link",
            link.display(),
            folder.display()
        )),
        None => Ok(()),
    }
}

/// Refuses a pipe that another user made in a shared folder: what heat wrote
/// would go to them (the rule of Linux's `fs.protected_fifos`).
#[cfg(target_os = "linux")]
fn refuse_planted_pipe(
    meta: &std::fs::Metadata,
    destination: &Path,
) -> std::result::Result<(), String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let folder = destination.parent().unwrap_or(Path::new("/"));
    match someone_elses_in_a_shared_folder(meta.uid(), folder) {
        Some(owner) if meta.file_type().is_fifo() => Err(format!(
            "it is a pipe in the shared folder {} that another user (uid {owner}) made; heat \
             does not write into it, as Linux's fs.protected_fifos would not. Write to another path",
            folder.display()
        )),
        _ => Ok(()),
    }
}

/// `owner`, when it is neither this user nor the owner of `folder`, and the
/// folder is shared: sticky and writable by its group or by all (as `/tmp`).
#[cfg(target_os = "linux")]
fn someone_elses_in_a_shared_folder(owner: u32, folder: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let folder_meta = std::fs::metadata(folder).ok()?;
    const STICKY: u32 = 0o1000;
    const WRITABLE_BY_GROUP_OR_ALL: u32 = 0o022;
    let mode = folder_meta.mode();
    let shared = mode & STICKY != 0 && mode & WRITABLE_BY_GROUP_OR_ALL != 0;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    (shared && owner != me && owner != folder_meta.uid()).then_some(owner)
}

#[cfg(not(target_os = "linux"))]
fn refuse_planted_link(_link: &Path, _folder: &Path) -> std::result::Result<(), String> {
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn refuse_planted_pipe(
    _meta: &std::fs::Metadata,
    _destination: &Path,
) -> std::result::Result<(), String> {
    Ok(())
}

/// The permissions a replaced file passes on: its own, when it is this user's
/// (a private 0600 file stays private), without set-id bits; else the usual
/// ones for a new file, not a stranger's (who may have made it world-writable).
fn kept_permissions(before: &std::fs::Metadata) -> Option<std::fs::Permissions> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        if before.uid() != unsafe { libc::geteuid() } {
            return new_file_permissions();
        }
        Some(std::fs::Permissions::from_mode(before.mode() & 0o777))
    }
    #[cfg(not(target_os = "linux"))]
    Some(before.permissions())
}

/// Writes straight into a destination that is no regular file (a device, a pipe).
fn write_in_place(
    destination: &Path,
    write: impl Fn(&mut dyn Write) -> std::result::Result<(), String>,
) -> std::result::Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true);
    // Opening a pipe for writing waits for a reader; without waiting, a pipe that
    // has none fails at once (ENXIO) and is refused below.
    #[cfg(target_os = "linux")]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(destination).map_err(|e| {
        if e.raw_os_error() == Some(NO_READER) {
            "it is a pipe that nobody reads; start its reader first, or name a file".to_string()
        } else {
            e.to_string()
        }
    })?;
    // What was opened, not what was checked: a regular file swapped in meanwhile is not
    // written in place (nothing was truncated by opening it).
    if file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("it changed into a regular file while heat was writing; write again".into());
    }
    blocking(&file).map_err(|e| e.to_string())?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    writer.flush().map_err(|e| e.to_string())
}

/// What opening a pipe without waiting says when it has no reader.
#[cfg(target_os = "linux")]
const NO_READER: i32 = libc::ENXIO;
#[cfg(not(target_os = "linux"))]
const NO_READER: i32 = -1;

/// Writes to `file` wait again for room in a pipe, now that it has a reader.
#[cfg(target_os = "linux")]
fn blocking(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns, with flags read from it.
    let cleared = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
    };
    if cleared {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn blocking(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// The permissions `File::create` would give a new file: 0666 less the umask
/// (Linux reports it in /proc/self/status, 0022 assumed elsewhere); `None`
/// where permissions are no mode bits.
fn new_file_permissions() -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let umask = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("Umask:"))?;
                u32::from_str_radix(line.split_whitespace().nth(1)?, 8).ok()
            })
            .unwrap_or(0o022);
        Some(std::fs::Permissions::from_mode(0o666 & !umask))
    }
    #[cfg(not(unix))]
    None
}

/// A new, empty file in `folder` whose name starts with `.name.`: never an
/// existing file (nor a link someone left there).
fn new_file_beside(folder: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    // Readable by you alone until it is complete and takes its final permissions.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let prefix = format!(".{name}");
    let names = fresh_names(&prefix).map(|attempt| format!("{attempt}.partial"));
    first_new(folder, names, |partial| options.open(partial))
}

/// Makes `make(parent/name)` for the first of `names` that does not exist yet,
/// and returns its path with what `make` gave; `make` must fail with
/// `AlreadyExists` for a name that is taken (a file, a folder or a link).
fn first_new<T>(
    parent: &Path,
    names: impl IntoIterator<Item = String>,
    mut make: impl FnMut(&Path) -> std::io::Result<T>,
) -> std::io::Result<(PathBuf, T)> {
    let mut last_error = None;
    for name in names {
        let path = parent.join(name);
        match make(&path) {
            Ok(made) => return Ok((path, made)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free name")))
}

/// A folder of this process's own under the temporary directory, removed
/// when dropped: made afresh (never a folder that already exists), with a
/// name no other process chose, readable and writable by this user alone.
pub(crate) struct ScratchFolder {
    path: PathBuf,
}

impl ScratchFolder {
    /// Makes a new folder `$TMPDIR/<prefix>-...`.
    pub(crate) fn new(prefix: &str) -> std::io::Result<ScratchFolder> {
        ScratchFolder::new_in(&std::env::temp_dir(), fresh_names(prefix))
    }

    /// Makes the first of `names` under `parent` that does not exist yet.
    fn new_in(
        parent: &Path,
        names: impl IntoIterator<Item = String>,
    ) -> std::io::Result<ScratchFolder> {
        let mut builder = DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        // `create`, not `create_all`: an existing folder or link is an error, never reused.
        let (path, ()) = first_new(parent, names, |path| builder.create(path))?;
        Ok(ScratchFolder { path })
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Names `<prefix>-<pid>-<count>-<nanoseconds>`, a different one each time;
/// a hundred tries before giving up on a folder whose names someone took.
fn fresh_names(prefix: &str) -> impl Iterator<Item = String> + '_ {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    (0..100).map(move |_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        format!(
            "{prefix}-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn a_scratch_folder_is_new_private_and_removed_after() {
        let first = ScratchFolder::new("heatlib-test").expect("a folder");
        let second = ScratchFolder::new("heatlib-test").expect("another folder");
        assert_ne!(first.path(), second.path());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(first.path())
                .expect("it exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let path = first.path().to_path_buf();
        drop(first);
        assert!(!path.exists());
    }

    #[test]
    fn a_folder_someone_made_first_is_never_used() {
        let parent = ScratchFolder::new("heatlib-test-parent").expect("a folder");
        let taken = parent.path().join("taken");
        std::fs::create_dir(&taken).expect("someone else's folder");
        let victim = parent.path().join("victim");
        std::fs::write(&victim, "precious").expect("a file to protect");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, taken.join("reference.npy")).expect("a trap");
        let names = ["taken".to_string(), "mine".to_string()];
        let scratch = ScratchFolder::new_in(parent.path(), names).expect("the free name");
        assert_eq!(scratch.path(), parent.path().join("mine"));
        write_npy(
            &scratch.path().join("reference.npy"),
            &Array2::<f64>::zeros((2, 2)),
        )
        .expect("written in our own folder");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("untouched"),
            "precious"
        );
        let all_taken = ScratchFolder::new_in(parent.path(), ["taken".to_string()]);
        assert!(all_taken.is_err());
    }

    #[test]
    #[cfg(unix)]
    fn a_private_file_stays_private_a_link_is_followed_and_a_device_written_in_place() {
        use std::os::unix::fs::PermissionsExt;
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let private = folder.path().join("private.npy");
        std::fs::write(&private, "old").expect("written");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).expect("set");
        write_npy(&private, &Array2::<f64>::zeros((2, 2))).expect("replaced");
        let mode = std::fs::metadata(&private)
            .expect("there")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let fresh = folder.path().join("fresh.npy");
        write_npy(&fresh, &Array2::<f64>::zeros((2, 2))).expect("written");
        let mode = std::fs::metadata(&fresh)
            .expect("there")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
        let link = folder.path().join("link.npy");
        std::os::unix::fs::symlink(&private, &link).expect("a link");
        write_npy(&link, &Array2::<f64>::ones((3, 3))).expect("written through the link");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("there")
                .file_type()
                .is_symlink()
        );
        let read: Array2<f64> = ndarray_npy::read_npy(&private).expect("the link's file");
        assert_eq!(read, Array2::<f64>::ones((3, 3)));
        write_npy(Path::new("/dev/null"), &Array2::<f64>::zeros((2, 2))).expect("a device");
    }

    #[test]
    fn a_write_that_fails_leaves_the_previous_file_and_no_partial_one() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let path = folder.path().join("field.npy");
        write_npy(&path, &Array2::<f64>::ones((4, 4))).expect("first write");
        let before = std::fs::read(&path).expect("written");
        // A folder where the file should go is refused, and left as it was.
        let blocked = folder.path().join("blocked.npy");
        std::fs::create_dir(&blocked).expect("a folder");
        std::fs::write(blocked.join("keep"), "x").expect("a file inside");
        let error = write_npy(&blocked, &Array2::<f64>::zeros((4, 4))).unwrap_err();
        assert!(error.to_string().contains("it is a folder"), "{error}");
        assert!(blocked.join("keep").exists());
        write_npy(&path, &Array2::<f64>::zeros((8, 8))).expect("second write");
        assert_ne!(std::fs::read(&path).expect("written"), before);
        let leftovers: Vec<_> = std::fs::read_dir(folder.path())
            .expect("listed")
            .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
            .filter(|name| name.ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let missing = write_npy(
            Path::new("/nonexistent-heatlib/x.npy"),
            &Array2::<f64>::zeros((1, 1)),
        );
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .starts_with("cannot write /nonexistent-heatlib/x.npy")
        );
    }

    /// A named pipe at `path`, as `mkfifo` makes one.
    #[cfg(target_os = "linux")]
    fn make_pipe(path: &Path, mode: libc::mode_t) {
        let name = std::ffi::CString::new(path.to_string_lossy().as_bytes()).expect("a path");
        // SAFETY: mkfifo with a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), mode) }, 0);
    }

    /// As root, a folder like `/tmp` (sticky, writable by all, someone else's)
    /// with a link in it that a third user made, pointing at `victim`.
    #[cfg(target_os = "linux")]
    fn shared_folder_with_a_planted_link(
        parent: &Path,
        victim: &Path,
        mode: u32,
    ) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: making another user's link needs root (CI runs as root)");
            return None;
        }
        let shared = parent.join("shared");
        std::fs::create_dir(&shared).expect("a folder");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(mode)).expect("sticky");
        std::os::unix::fs::chown(&shared, Some(54321), Some(54321)).expect("another owner");
        let link = shared.join("r.npy");
        std::os::unix::fs::symlink(victim, &link).expect("a link");
        std::os::unix::fs::lchown(&link, Some(54322), Some(54322)).expect("a third user's link");
        Some(link)
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_link_another_user_planted_in_a_shared_folder_is_not_written_through() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let victim = folder.path().join("victim");
        std::fs::write(&victim, "keep").expect("a file to protect");
        let Some(link) = shared_folder_with_a_planted_link(folder.path(), &victim, 0o1777) else {
            return;
        };
        let error = write_npy(&link, &Array2::<f64>::zeros((2, 2))).unwrap_err();
        assert!(
            error.to_string().contains("is a link in the shared folder"),
            "{error}"
        );
        assert!(error.to_string().contains("uid 54322"), "{error}");
        assert_eq!(std::fs::read_to_string(&victim).expect("there"), "keep");
        // A link on the way to the file counts too, as it does for the kernel.
        let shared = link.parent().expect("its folder");
        let through = shared.join("folder-link");
        std::os::unix::fs::symlink(folder.path(), &through).expect("a link to a folder");
        std::os::unix::fs::lchown(&through, Some(54322), Some(54322)).expect("theirs");
        let error = write_text(&through.join("victim"), "x").unwrap_err();
        assert!(error.to_string().contains("another user"), "{error}");
        assert_eq!(std::fs::read_to_string(&victim).expect("there"), "keep");
        // Your own link in the same folder is followed, and so is the folder owner's.
        std::fs::remove_file(&through).expect("removed");
        let mine = shared.join("mine.npy");
        std::os::unix::fs::symlink(&victim, &mine).expect("my link");
        write_text(&mine, "mine").expect("my own link is followed");
        assert_eq!(std::fs::read_to_string(&victim).expect("there"), "mine");
        std::os::unix::fs::lchown(&mine, Some(54321), Some(54321)).expect("the owner's link");
        write_text(&mine, "owner").expect("the folder owner's link is followed");
        assert_eq!(std::fs::read_to_string(&victim).expect("there"), "owner");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_class_folder_writable_by_its_group_is_shared_too_and_so_is_a_pipe_in_it() {
        use std::os::unix::fs::PermissionsExt;
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755))
            .expect("others may enter");
        let victim = folder.path().join("victim");
        std::fs::write(&victim, "keep").expect("a file to protect");
        let Some(link) = shared_folder_with_a_planted_link(folder.path(), &victim, 0o1770) else {
            return;
        };
        let error = write_text(&link, "x").unwrap_err();
        assert!(
            error.to_string().contains("is a link in the shared folder"),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&victim).expect("there"), "keep");
        // A pipe another user made there would carry what heat writes to them.
        let pipe = link.with_file_name("pipe");
        make_pipe(&pipe, 0o666);
        std::os::unix::fs::chown(&pipe, Some(54322), Some(54322)).expect("theirs");
        let error = write_text(&pipe, "x").unwrap_err();
        assert!(
            error.to_string().contains("a pipe in the shared folder"),
            "{error}"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_strangers_file_replaced_passes_on_no_permissions_and_yours_no_set_id_bits() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let mine = folder.path().join("mine.npy");
        std::fs::write(&mine, "old").expect("written");
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o4640)).expect("set");
        write_text(&mine, "new").expect("replaced");
        let mode = std::fs::metadata(&mine).expect("there").mode() & 0o7777;
        assert_eq!(mode, 0o640, "{mode:o}");
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped the stranger's file: making one needs root (CI runs as root)");
            return;
        }
        let theirs = folder.path().join("theirs.npy");
        std::fs::write(&theirs, "old").expect("written");
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o666)).expect("set");
        std::os::unix::fs::chown(&theirs, Some(54322), Some(54322)).expect("theirs");
        write_text(&theirs, "new").expect("replaced");
        let mode = std::fs::metadata(&theirs).expect("there").mode() & 0o777;
        assert_eq!(
            mode & 0o002,
            0,
            "a stranger's world-writable mode passed on: {mode:o}"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn links_in_a_loop_are_refused_not_followed_for_ever() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let (a, b) = (folder.path().join("a"), folder.path().join("b"));
        std::os::unix::fs::symlink(&b, &a).expect("a to b");
        std::os::unix::fs::symlink(&a, &b).expect("b to a");
        let error = write_text(&a, "x").unwrap_err();
        assert!(error.to_string().contains("loop"), "{error}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_pipe_nobody_reads_is_refused_at_once_and_one_with_a_reader_is_written() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let pipe = folder.path().join("pipe");
        make_pipe(&pipe, 0o600);
        let error = write_text(&pipe, "x").unwrap_err();
        assert!(error.to_string().contains("nobody reads"), "{error}");
        let reader = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::read_to_string(pipe).expect("read"))
        };
        // The reader opens the pipe once it runs; until then a write is refused.
        let started = std::time::Instant::now();
        while write_text(&pipe, "through the pipe").is_err() {
            assert!(
                started.elapsed().as_secs() < 10,
                "the reader never opened the pipe"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(reader.join().expect("the reader"), "through the pipe");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reading_takes_a_regular_file_within_its_bound_only() {
        let folder = ScratchFolder::new("heatlib-test").expect("a folder");
        let pipe = folder.path().join("pipe");
        make_pipe(&pipe, 0o600);
        for (path, says) in [
            (pipe.as_path(), "not a regular file"),
            (Path::new("/dev/zero"), "not a regular file"),
            (folder.path(), "a folder"),
        ] {
            let error = read_text(path, 100, "a test file").unwrap_err();
            assert!(error.to_string().contains(says), "{error}");
            assert!(error.to_string().starts_with("cannot read"), "{error}");
        }
        let file = folder.path().join("ten");
        std::fs::write(&file, "0123456789").expect("written");
        assert_eq!(
            read_text(&file, 10, "a test file").expect("fits"),
            "0123456789"
        );
        let error = read_text(&file, 9, "a test file").unwrap_err();
        assert!(error.to_string().contains("more than the 9"), "{error}");
    }
}
