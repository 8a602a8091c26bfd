"""Gives one kernel its own view of evcxr's shared build cache.

Usage: cache_overlay.py SHARED PRIVATE HEATLIB_SOURCE [ENDED ...]

Why: evcxr keeps compiled dependencies in one cache per user, and on every cache
hit it rewrites the entry's `hits` counter in place (truncate, then write). A
second kernel reading that counter in between reads an empty string, and its
rustc wrapper fails ("Failed to wrap rustc: cannot parse integer from empty
string"): two kernels started together killed one of them in 2 of 4 trials.

So each kernel reads the cache through PRIVATE: one folder per shared entry,
holding links to the entry's files and a counter of its own. Entries a kernel
builds itself (a cell's new `:dep`) are real folders in its PRIVATE; the
ENDED private caches of kernels that have exited give theirs to SHARED, each
entry copied beside it and renamed into place, so no kernel sees half an entry.

Only entries this kernel can use are linked: those built for HEATLIB_SOURCE (the digest of
heatlib's source that start-kernel.sh puts in every crate's rustc arguments), and those that
name no digest. Entries of an earlier heatlib never match again, and linking them cost time
twice (measured with 2,931 entries, 413 of them usable: 2.6 s to link them all at every start,
and 0.45 s after every cell, which evcxr spends walking its cache).
"""

import os
import shutil
import sys


def complete(entry):
    """An entry evcxr can use: it writes `stderr` (the artifact list) and `hits` last."""
    return os.path.isfile(os.path.join(entry, "stderr")) and os.path.isfile(os.path.join(entry, "hits"))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_incoming(shared):
    """Removes the copies that kernels killed while giving an entry back left half made
    (`.incoming-NAME-PID`, their PID no longer running); a copy still being made is left."""
    for name in os.listdir(shared):
        if not name.startswith(".incoming-"):
            continue
        pid = name.rsplit("-", 1)[-1]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(os.path.join(shared, name), ignore_errors=True)


def give_back(ended, shared):
    """Moves the entries an ended kernel built itself into the shared cache."""
    for name in os.listdir(ended):
        entry = os.path.join(ended, name)
        built_here = not os.path.islink(os.path.join(entry, "stderr"))
        target = os.path.join(shared, name)
        if not built_here or not complete(entry) or os.path.exists(target):
            continue
        incoming = os.path.join(shared, f".incoming-{name}-{os.getpid()}")
        try:
            shutil.copytree(entry, incoming)
            os.rename(incoming, target)
        except OSError:
            shutil.rmtree(incoming, ignore_errors=True)


def usable(entry, heatlib_source):
    """Whether the entry's rustc arguments name this heatlib source, or no heatlib source."""
    try:
        with open(os.path.join(entry, "meta"), errors="replace") as meta:
            arguments = meta.read()
    except OSError:
        return False
    return "heatlib_source=" not in arguments or f'heatlib_source="{heatlib_source}"' in arguments


def overlay(shared, private, heatlib_source):
    """Links every complete, usable shared entry into PRIVATE, with a private hit counter."""
    os.makedirs(private, exist_ok=True)
    for name in os.listdir(shared):
        entry = os.path.join(shared, name)
        if name.startswith(".") or not complete(entry) or not usable(entry, heatlib_source):
            continue
        mine = os.path.join(private, name)
        try:
            link_entry(entry, mine)
        except OSError:
            # The entry went away while we linked it (evcxr evicts entries when the cache is
            # full): this kernel builds that crate itself instead of failing to start.
            shutil.rmtree(mine, ignore_errors=True)


def link_entry(entry, mine):
    os.makedirs(mine, exist_ok=True)
    for file in os.listdir(entry):
        if file == "hits":
            with open(os.path.join(mine, file), "w") as counter:
                counter.write("0")
        elif not os.path.lexists(os.path.join(mine, file)):
            os.symlink(os.path.join(entry, file), os.path.join(mine, file))


def main(shared, private, heatlib_source, *ended):
    os.makedirs(shared, exist_ok=True)
    sweep_incoming(shared)
    for folder in ended:
        if os.path.isdir(folder):
            give_back(folder, shared)
    overlay(shared, private, heatlib_source)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
