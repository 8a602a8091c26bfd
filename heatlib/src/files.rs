//! Files heatlib writes: `.npy` files that are written whole or not at all,
//! and scratch folders that only this user can enter.
//!
//! On a shared server both matter. A write that fails part-way (a full disk,
//! a learner's quota) must not leave a truncated file where the previous good
//! one was, so the file is written beside its destination and renamed over it
//! once complete. And a folder under the shared temporary directory with a
//! name others can guess must never be one that someone else made first: they
//! could have left a link inside it that turns heatlib's write into a write
//! over one of your files.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
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
/// written only you can read it. A link is followed: the file it points to is
/// replaced. A destination that is not a regular file (`/dev/null`, a pipe) is
/// written in place.
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

/// Writes `text` to `path` whole or not at all, as [`write_npy`] writes its files.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<()> {
    write_whole(path, |writer| {
        writer.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })
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
    // Where the bytes go: through a link to its file, which must then exist.
    let destination = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|e| failed(format!("cannot follow the link: {e}")))?,
        _ => path.to_path_buf(),
    };
    let before = std::fs::metadata(&destination).ok();
    match &before {
        Some(meta) if meta.is_dir() => {
            return Err(failed("it is a folder; name a file in it".into()));
        }
        Some(meta) if !meta.is_file() => {
            return write_in_place(&destination, write).map_err(failed);
        }
        _ => {}
    }
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
            Some(meta) => Some(meta.permissions()),
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

/// Writes straight into a destination that is no regular file (a device, a pipe).
fn write_in_place(
    destination: &Path,
    write: impl Fn(&mut dyn Write) -> std::result::Result<(), String>,
) -> std::result::Result<(), String> {
    let file = OpenOptions::new()
        .write(true)
        .open(destination)
        .map_err(|e| e.to_string())?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    writer.flush().map_err(|e| e.to_string())
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
}
