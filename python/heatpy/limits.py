"""The bounds of heatpy's knobs, the same as heatlib's, refused with heatlib's own words.

heatpy runs on shared servers (a Hub with a memory limit per learner, a
container's `--memory`): a run that asks for more memory than it can have is
killed by the kernel with no message, and a mistyped count (`--repeat` with
extra zeros, `--threads 100000`) runs for ever or starts more threads than the
machine can. So every knob is checked before any work, and a refusal is one
line that says what to ask for instead. The bounds and messages are heatlib's,
word for word, so that `heat` and `python -m heatpy` refuse the same request
the same way:

- LARGEST_TEMPERATURE, LARGEST_GAMMA: the plate's bounds (`Problem.validate` uses them);
- `check_repeat`: 1 to MAX_REPEAT timed runs (heatlib's `MAX_REPEAT`);
- `check_threads`, `check_numba_threads`: 1 to 16 threads per core (heatlib's `RunOptions::validate`);
- `available_memory`, `check_fits`, `check_history_fits`: what this process can
  still take, read as heatlib/src/memory.rs reads it, and the refusals that use it;
- `format_bytes`: byte counts as heatlib's `Bytes` prints them (`1.28 GB`).
"""

import os
import re
import sys
from pathlib import Path

# The most timed runs a measurement takes: enough for any median, and a bound on a mistyped count.
MAX_REPEAT = 1000
# Enough threads per core to show what oversubscription costs, few enough that they start at once.
THREADS_PER_CORE = 16
# heatlib's ceilings are machine integers; Python's are not, so heatlib's are kept by hand: byte
# counts saturate at u128's largest (the messages then agree), and no array is larger than the
# address space (NumPy's, like Rust's, is at most sys.maxsize bytes).
LARGEST_BYTES = 2**128 - 1
LARGEST_ARRAY = sys.maxsize
U64_MAX = 2**64 - 1
BYTES_PER_VALUE = 8  # float64
# The largest temperature magnitude a run accepts: one update adds four neighbours before it weighs
# them, so four values of a quarter of the largest float would already overflow; an eighth leaves
# room for rounding (heatlib's LARGEST_TEMPERATURE).
LARGEST_TEMPERATURE = sys.float_info.max / 8
# gamma = alpha dt / dx^2: the explicit scheme damps errors only up to 1/4.
LARGEST_GAMMA = 0.25

# Where Linux says how much memory there is: the whole machine, and the control groups over us.
MEMINFO = Path("/proc/meminfo")
CGROUP_MEMBERSHIP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


# Timed runs ------------------------------------------------------------------------------------


def check_repeat(repeat):
    """Refuses fewer than 1 or more than MAX_REPEAT timed runs (any Python int: no overflow here)."""
    if repeat < 1:
        raise ValueError(f"timing needs at least 1 timed run after the warm-up; asked for {repeat} repeats")
    if repeat > MAX_REPEAT:
        raise ValueError(
            f"{repeat} runs is more than the {MAX_REPEAT} any median needs; ask for at most {MAX_REPEAT} "
            "timed runs and warm-ups (5 to 20 timed runs is usual)"
        )
    return repeat


# Threads ---------------------------------------------------------------------------------------


def cores(membership_file="/proc/self/cgroup", root=Path("/sys/fs/cgroup")):
    """The cores this process may use, as Rust's `available_parallelism` (and so heat) counts them:
    its affinity, and no more than a cgroup CPU limit allows (a Hub pod of 2 CPUs on a 64-core node is 2)."""
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        allowed = os.cpu_count() or 1
    try:
        membership = Path(membership_file).read_text()
    except OSError:
        return allowed
    quota = cpu_quota(Path(root), membership)
    return allowed if quota is None else max(1, min(allowed, quota))


def cpu_quota(root, membership):
    """Whole cores the tightest CPU limit over this process allows (cgroup v2 `cpu.max`, v1
    `cpu.cfs_quota_us` / `cpu.cfs_period_us`, in its group and each above it), or None without one."""
    least = None
    for controllers, path in _groups(membership):
        if controllers == "":
            base = root
        elif "cpu" in controllers.split(","):
            base = root / controllers
        else:
            continue
        for group in _groups_up_to(base, path):
            limit = _cpu_limit(group, v2=controllers == "")
            if limit is not None:
                least = limit if least is None else min(least, limit)
    return least


def _cpu_limit(group, v2):
    try:
        if v2:
            quota, period = (group / "cpu.max").read_text().split()[:2]
        else:
            quota, period = (group / "cpu.cfs_quota_us").read_text(), (group / "cpu.cfs_period_us").read_text()
        quota, period = int(quota), int(period)
    except (OSError, ValueError):  # "max", "-1", or no such file: no limit here
        return None
    return quota // period if quota > 0 and period > 0 else None


def most_threads():
    """The most threads a run may ask for here: THREADS_PER_CORE per core."""
    return cores() * THREADS_PER_CORE


def check_threads(threads, most=None):
    """Refuses 0 (or fewer) threads, and more than `most` (default: 16 per core); None is the default."""
    if threads is None:
        return None
    if threads < 1:
        raise ValueError(f"cannot use {threads} threads: the thread count must be at least 1")
    most = most_threads() if most is None else most
    if threads > most:
        raise ValueError(
            f"cannot use {threads} threads: at most {most} here ({THREADS_PER_CORE} per core); more threads "
            "than cores only take turns, and each costs memory and start-up time"
        )
    return threads


def check_numba_threads(environ=None, most=None):
    """Refuses a NUMBA_NUM_THREADS that is not a whole number from 1 to `most`.

    Numba starts that many threads for `parallel=True` (one per core when it is
    not set), read once when numba is imported: so this runs before that import.
    Numba itself only warns about a value it cannot read, and starts 100,000
    threads if told to.
    """
    environ = os.environ if environ is None else environ
    value = environ.get("NUMBA_NUM_THREADS")
    if value is None:
        return None
    most = most_threads() if most is None else most
    if not re.fullmatch(r"\s*[0-9]+\s*", value):
        raise ValueError(
            f"NUMBA_NUM_THREADS={value!r} in the environment is not a number of threads; "
            f"unset it (Numba then starts one thread per core) or set it to a number from 1 to {most}"
        )
    try:
        return check_threads(int(value), most)
    except ValueError as error:
        raise ValueError(
            f"NUMBA_NUM_THREADS={value.strip()} in the environment: {error}; unset it (Numba then starts one "
            f"thread per core) or set it to a number from 1 to {most}"
        ) from None


# Byte counts -----------------------------------------------------------------------------------


def format_bytes(count):
    """`count` bytes as heatlib's `Bytes` prints them: `123 bytes`, else 2 decimals of KB .. EB."""
    count = min(count, LARGEST_BYTES)
    units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
    value, unit = float(count), 0
    while value >= 1000.0 and unit + 1 < len(units):
        value /= 1000.0
        unit += 1
    return f"{count} bytes" if unit == 0 else f"{value:.2f} {units[unit]}"


def fields_bytes(count, nx):
    """Bytes of `count` fields of nx x nx float64 values (exact, then capped as heatlib's are)."""
    return min(count * nx * nx * BYTES_PER_VALUE, LARGEST_BYTES)


def history_bytes(nt, nx):
    """Bytes of the full history: nt x nx x nx x 8."""
    return fields_bytes(nt, nx)


# How much memory this process can still take ---------------------------------------------------


def available_memory(meminfo=MEMINFO, membership=CGROUP_MEMBERSHIP, cgroup_root=CGROUP_ROOT):
    """Bytes this process can still take, or None where that is not known.

    The smaller of the machine's MemAvailable and what the memory limits of
    this process's control groups leave (cgroup v2 or v1, its own group and
    every group above it: a container's `--memory`, a Hub's per-learner limit,
    a systemd slice). The paths are parameters so that tests can give made-up ones.
    """
    system = meminfo_available(_read_text(meminfo) or "")
    groups = _read_text(membership)
    cgroup = cgroup_headroom(Path(cgroup_root), groups) if groups is not None else None
    known = [amount for amount in (system, cgroup) if amount is not None]
    return min(known) if known else None


def meminfo_available(text):
    """MemAvailable of a /proc/meminfo, in bytes (it says kB, meaning KiB); None without it."""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            return int(fields[1]) * 1024 if len(fields) > 1 and _is_count(fields[1]) else None
    return None


def cgroup_headroom(root, membership):
    """The least that any memory limit over this process leaves, or None where no limit is set.

    For each group in `membership` (/proc/self/cgroup: `0::/path` for cgroup v2,
    `N:memory:/path` for v1) and each group above it up to `root`, the limit
    less the usage. Inside a container the path may name the host's group,
    which is not mounted there; the groups above it that are (the container's
    own, at the root) still count.
    """
    least = None
    for controllers, path in _groups(membership):
        if controllers == "":
            base, limit_file, usage_file = root, "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            base, limit_file, usage_file = root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        for group in _groups_up_to(base, path):
            headroom = _group_headroom(group, limit_file, usage_file)
            if headroom is not None:
                least = headroom if least is None else min(least, headroom)
    return least


def _groups(membership):
    """(controllers, path) of each line of /proc/self/cgroup: `0::/path` (v2, no controllers) or
    `N:memory:/path` (v1)."""
    for line in membership.splitlines():
        fields = line.split(":", 2)
        if len(fields) == 3:
            yield fields[1], fields[2]


def _groups_up_to(base, path):
    """The group at `path` under `base`, then each one above it, `base` last."""
    # A path with `..` names a group above this namespace's root: only the root is ours to read.
    group = base if ".." in path.split("/") else base / path.lstrip("/")
    while True:
        yield group
        if group == base or group.parent == group or not group.parent.is_relative_to(base):
            return
        group = group.parent


def _group_headroom(group, limit_file, usage_file):
    """What one group's limit leaves, or None where it has none ("max" in v2) or says nothing."""
    limit = _read_count(group / limit_file)
    usage = _read_count(group / usage_file)
    if limit is None or usage is None:
        return None
    # The usage counts the page cache, whose inactive part the kernel gives back before it kills
    # anything: what is left is the "working set" that container tools report.
    reclaimable = inactive_file(_read_text(group / "memory.stat") or "") or 0
    return max(0, limit - max(0, usage - reclaimable))


def inactive_file(stat):
    """The inactive page cache of a memory.stat: `total_inactive_file` (v1), else `inactive_file` (v2)."""
    for key in ("total_inactive_file", "inactive_file"):
        for line in stat.splitlines():
            name, _, value = line.partition(" ")
            if name == key and _is_count(value.strip()):
                return int(value.strip())
    return None


def _read_count(path):
    """The unsigned 64-bit number a control-group file holds; None for "max", garbage or no file."""
    text = _read_text(path)
    return int(text.strip()) if text is not None and _is_count(text.strip()) else None


def _is_count(text):
    return re.fullmatch(r"[0-9]+", text) is not None and int(text) <= U64_MAX


def _read_text(path):
    try:
        return Path(path).read_text()
    except (OSError, ValueError):  # absent, unreadable, or not text
        return None


# Refusals that use it --------------------------------------------------------------------------


def check_fits(what, needed, advice):
    """Refuses `needed` bytes for `what` when this process cannot take them, or no array can be that large."""
    check_fits_in(what, needed, advice, available_memory())


def check_fits_in(what, needed, advice, available):
    """check_fits with the bytes `available` given (None: unknown, so only the address space bounds)."""
    limit = LARGEST_ARRAY if available is None else min(available, LARGEST_ARRAY)
    if needed > limit:
        raise ValueError(f"{what} needs {format_bytes(needed)} but only {format_bytes(limit)} is available; {advice}")


def check_history_fits(nt, nx, available):
    """Refuses a full history larger than `available` bytes (when known), or larger than any array can be."""
    needed = history_bytes(nt, nx)
    addressable = needed <= LARGEST_ARRAY
    if available is None and addressable:
        return
    if available is None:
        available = LARGEST_ARRAY
    elif needed <= available and addressable:
        return
    raise ValueError(
        f"the full history needs {format_bytes(needed)} (nt x nx x nx x 8 bytes = {nt} x {nx} x {nx} x 8) "
        f"but only {format_bytes(available)} is available; keep only the final field (history: final) or "
        "take snapshots every k steps instead"
    )
