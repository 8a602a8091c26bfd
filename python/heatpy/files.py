"""Every file heatpy reads or writes goes through here, by one rule: heatlib's.

On a shared server (a Hub, a teaching machine) a path a learner types may not
be what it seems, and a failure half-way must not cost a good file:

- Reading (`read_bounded`, `load_reference`): only a regular file of a size
  that makes sense is read. A named pipe would block for ever, `/dev/zero`
  never ends, a huge file would fill the memory; each is refused with one line
  that says what to give instead. A reference is parsed without pickle (a
  pickle runs code) and its header is checked before NumPy allocates the array
  it announces.
- Writing (`write_whole`): a link that another user planted in a shared folder
  like /tmp is not written through (the rule of Linux's fs.protected_symlinks,
  which heatpy cannot count on being switched on); a regular file is written
  beside its destination and renamed over it once complete, so a full disk
  leaves the old file as it was; a pipe with no reader is refused at once
  instead of blocking.
"""

import errno
import io
import os
import secrets
import stat

import numpy as np

from .limits import check_fits, format_bytes

# A .npy file is its header (a few hundred bytes, padded to 64; 64 KiB is more than NumPy allows) and its values.
HEADER_SLACK = 64 * 1024
# Reads go in pieces of this size, so that memory grows with the file, not with the limit.
CHUNK = 1 << 20
# Links followed at most on the way to a file, as Linux's own limit: past it they go round in a loop.
MOST_LINKS = 40
# A folder that is sticky and writable by all (/tmp): others may create files in it, but not remove yours.
WRITABLE_BY_GROUP_OR_ALL = stat.S_IWGRP | stat.S_IWOTH
REFERENCE_ADVICE = "write it with heat reference for the same problem"


# Reading ---------------------------------------------------------------------------------------


def read_bounded(path, limit, what):
    """The bytes of the regular file `path`, `what` it should hold (for the messages), at most `limit` of them.

    The open does not wait (O_NONBLOCK: a named pipe with no writer would block
    it for ever), and what was opened is checked, not the name: a name can be
    swapped between a check and an open, an open descriptor cannot.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror}; give the path of {what}") from None
    try:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode):
            raise ValueError(f"cannot read {path}: it is {_kind(opened.st_mode)}, not a regular file; give {what}")
        too_large = (
            f"cannot read {path}: it holds more than {format_bytes(limit)}, the most that {what} can take; "
            "is it the right file?"
        )
        if opened.st_size > limit:
            raise ValueError(too_large)
        # The bytes read, then the one copy `bytes` makes of them.
        check_fits(f"reading {path}", 2 * opened.st_size, "give a smaller file")
        data = _read_at_most(descriptor, limit + 1)
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:  # it grew since fstat
        raise ValueError(too_large)
    return data


def _read_at_most(descriptor, count):
    """Up to `count` bytes from `descriptor`, read in CHUNKs (one read of `count` would allocate it all at once)."""
    data = bytearray()
    while len(data) < count:
        piece = os.read(descriptor, min(CHUNK, count - len(data)))
        if not piece:
            break
        data += piece
    return bytes(data)


def _kind(mode):
    """What a file that is not a regular one is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def load_reference(path, nx):
    """heatlib's reference final field for a plate of nx x nx nodes, from the .npy file `heat reference` writes.

    Refused, each with one line: anything that is not a regular file of at most
    the field's size (plus its header); a .npz archive, a pickle or any other
    file that is not a .npy; a .npy of another type or shape. The header is read
    first, so that a file that announces a huge array is refused before NumPy
    allocates it.
    """
    what = f"the reference final field of {nx} x {nx} nodes, the .npy file that heat reference writes"
    data = read_bounded(path, limit=nx * nx * 8 + HEADER_SLACK, what=what)
    shape, dtype = _npy_header(path, data)
    if shape != (nx, nx):
        raise ValueError(
            f"{path} holds an array of shape {shape}, not the final field ({nx}, {nx}) of this problem: "
            f"{REFERENCE_ADVICE}"
        )
    if dtype.kind != "f" or dtype.itemsize != 8:
        raise ValueError(f"{path} holds values of type {dtype}, not float64: {REFERENCE_ADVICE}")
    check_fits(f"the reference field of {nx} x {nx} nodes", nx * nx * 8, "use fewer nodes nx")
    try:
        # allow_pickle=False: a pickle can run any code when it is loaded.
        field = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a complete .npy file ({error}): {REFERENCE_ADVICE}") from None
    return field.astype(np.float64, copy=False)


def _npy_header(path, data):
    """The shape and type a .npy file's header announces; refuses a file that is no .npy."""
    if data.startswith(b"PK\x03\x04"):
        raise ValueError(
            f"{path} is a .npz archive (several arrays in a zip), not one array in a .npy file: {REFERENCE_ADVICE}"
        )
    if not data.startswith(np.lib.format.MAGIC_PREFIX):
        raise ValueError(f"{path} is not a .npy file (it does not start as NumPy's files do): {REFERENCE_ADVICE}")
    file = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(file)
        read_header = {
            (1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0,
        }.get(version)
        if read_header is None:  # 3.0 is for field names beyond Latin-1: never one float64 array
            raise ValueError(f"version {version[0]}.{version[1]} of the format")
        shape, _, dtype = read_header(file, max_header_size=HEADER_SLACK)
    except ValueError as error:
        raise ValueError(f"{path} has a .npy header NumPy cannot read ({error}): {REFERENCE_ADVICE}") from None
    return shape, dtype


# Writing ---------------------------------------------------------------------------------------


def write_whole(path, data):
    """Writes the bytes `data` to `path`, whole or not at all.

    Links on the way are followed, except one that another user made in a
    shared folder (`resolve_links`). A folder is refused; a destination that is
    no regular file (/dev/null, a named pipe) is written in place; a regular
    file is replaced by a complete new one (`replace_whole`).
    """
    destination, before = check_destination(path)
    if before is not None and not stat.S_ISREG(before.st_mode):
        write_in_place(path, destination, before, data)
    else:
        replace_whole(path, destination, before, data)


def check_destination(path):
    """Where `write_whole` would write `path`, and the stat of what is there (None: nothing yet).

    Refuses a link planted in a shared folder and a folder, so that a command
    can check its output's path before it works for minutes, and again when it writes.
    """
    destination = resolve_links(os.fspath(path))
    try:
        # What the kernel reaches by the path itself: a pipe behind /dev/stdout is found only this
        # way, since its link names no file.
        reached = os.stat(path)
    except FileNotFoundError:
        reached = None
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror}") from None
    if reached is not None and stat.S_ISDIR(reached.st_mode):
        raise ValueError(f"cannot write {path}: it is a folder; name a file in it")
    if reached is not None and not stat.S_ISREG(reached.st_mode):
        refuse_planted_pipe(path, reached, destination)
        return os.fspath(path), reached
    try:
        return destination, os.stat(destination)
    except FileNotFoundError:
        return destination, None
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror}") from None


def resolve_links(path):
    """`path` with every link on the way followed, as the kernel walks a path, refusing a link that
    another user made in a shared folder (`refuse_planted_link`). What does not exist yet is kept."""
    resolved = "/" if os.path.isabs(path) else os.getcwd()
    rest = _parts(path)
    links = 0
    while rest:
        part = rest.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            resolved = os.path.dirname(resolved)
            continue
        following = os.path.join(resolved, part)
        if not os.path.islink(following):
            resolved = following
            continue
        links += 1
        if links > MOST_LINKS:
            raise ValueError(f"cannot write {path}: more than {MOST_LINKS} links on the way: they go round in a loop")
        refuse_planted_link(following, resolved, path)
        target = os.readlink(following)
        if os.path.isabs(target):
            resolved = "/"
        rest = _parts(target) + rest
    return resolved


def _parts(path):
    return path.split("/")


def refuse_planted_link(link, folder, path):
    """Refuses the link `link` in `folder` when the folder is shared and the link belongs neither to
    this user nor to the folder's owner.

    That is Linux's fs.protected_symlinks rule (for group-writable class folders
    too): in /tmp another user can make `/tmp/results.json` a link to one of
    your files before you write it, and your write would then replace that file.
    """
    try:
        owner = os.lstat(link).st_uid
    except OSError:
        return
    if someone_elses_in_a_shared_folder(owner, folder):
        raise ValueError(
            f"cannot write {path}: {link} is a link in the shared folder {folder} that another user "
            f"(uid {owner}) made; heatpy does not write through it, as Linux's fs.protected_symlinks would not. "
            "Write to another path (in your home, say): only its owner can remove the link"
        )


def refuse_planted_pipe(path, reached, destination):
    """Refuses a named pipe another user made in a shared folder: what heatpy wrote would go to them
    (the rule of Linux's fs.protected_fifos)."""
    folder = os.path.dirname(destination) or "/"
    if stat.S_ISFIFO(reached.st_mode) and someone_elses_in_a_shared_folder(reached.st_uid, folder):
        raise ValueError(
            f"cannot write {path}: it is a pipe in the shared folder {folder} that another user "
            f"(uid {reached.st_uid}) made; heatpy does not write into it, as Linux's fs.protected_fifos would not. "
            "Write to another path"
        )


def someone_elses_in_a_shared_folder(owner, folder):
    """Whether `owner` is neither this user nor the owner of `folder`, and the folder is shared:
    sticky and writable by its group or by all (as /tmp)."""
    try:
        shared = os.stat(folder)
    except OSError:
        return False
    is_shared = shared.st_mode & stat.S_ISVTX and shared.st_mode & WRITABLE_BY_GROUP_OR_ALL
    return bool(is_shared) and owner not in (os.geteuid(), shared.st_uid)


def write_in_place(path, destination, before, data):
    """Writes into a destination that is no regular file (a device, a named pipe), as it is.

    A pipe is opened without waiting: one that nobody reads then fails at once
    (ENXIO) instead of blocking for ever; once open it waits again for room.
    """
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_NONBLOCK if stat.S_ISFIFO(before.st_mode) else 0)
    try:
        descriptor = os.open(destination, flags)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise OSError(
                f"cannot write {path}: it is a named pipe that nobody reads; start its reader first, or name a file"
            ) from None
        raise OSError(f"cannot write {path}: {error.strerror}") from None
    try:
        # What was opened, not what was checked: a regular file swapped in meanwhile is not written in
        # place (opening it truncated nothing).
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EAGAIN, "it changed into a regular file while heatpy was writing; write again")
        os.set_blocking(descriptor, True)
        with open(descriptor, "wb", closefd=False) as out:
            out.write(data)
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def replace_whole(path, destination, before, data):
    """Writes a new file beside `destination`, syncs it, gives it the old file's permissions (or a new
    file's), and renames it over `destination`: either the whole new file is there or the old one is.

    While it is written only you can read it (0600): a shared folder's other users never see a part.
    """
    folder, name = os.path.split(destination)
    try:
        partial, descriptor = new_file_beside(folder or ".", name)
    except OSError as error:
        raise OSError(f"cannot write {path}: cannot make a file in {folder or '.'}: {error.strerror}") from None
    try:
        with open(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), kept_permissions(before))
        os.replace(partial, destination)
    except BaseException as error:
        _remove_quietly(partial)
        if isinstance(error, OSError):
            raise OSError(
                f"cannot write {path}: {error.strerror or error} (the file that was there before, if any, is unchanged)"
            ) from None
        raise  # Ctrl-C and the like: the partial file is gone, the old file is as it was


def kept_permissions(before):
    """The mode a replaced file passes on: its own when it is this user's (a private 0600 file stays
    private), without set-id bits; else a new file's, not a stranger's (who may have made it world-writable)."""
    if before is not None and before.st_uid == os.geteuid():
        return before.st_mode & 0o777
    return 0o666 & ~umask()


def new_file_beside(folder, name):
    """A new, empty file `.name.<random>.partial` in `folder`, writable by you alone, and its descriptor.

    O_EXCL makes it new: never an existing file, nor a link someone left under
    that name; the random part makes the name one nobody can make first.
    """
    for _ in range(100):
        partial = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.partial")
        try:
            return partial, os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free name for a new file beside {name}")


def umask():
    """This process's umask, as Linux reports it in /proc/self/status (0o022 where it does not).

    Read, not set and set back with os.umask: that would change it for every thread meanwhile.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
