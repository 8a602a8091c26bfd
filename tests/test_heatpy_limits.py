"""heatpy refuses what heat refuses, in heat's words, and bad input never ends in a traceback or a hang.

On a shared server a mistyped count runs for ever, a run larger than the
learner's memory limit is killed without a word, a named pipe given as a file
blocks for ever, and a link another user planted in /tmp turns a write into
a write over one of your files. heatpy checks all of them before any work,
with heatlib's bounds and messages (python/heatpy/limits.py, files.py):

- the knobs: --repeat 1 to 1000, --threads and NUMBA_NUM_THREADS 1 to 16 per
  core, temperatures and gamma, each refused with heatlib's exact words;
- memory: what this process can take, read from /proc/meminfo and the cgroup
  tree (v1 and v2, made up here in tmp_path), and the refusals that use it;
- reading: a .npz, a pickle, a FIFO, /dev/zero, a folder or an array of the
  wrong shape or type given as --reference is one line and exit status 2;
- writing: a file is replaced whole or not at all, a link you own is
  followed, a link another user planted in a shared folder is not (as root:
  the test makes files owned by other uids; skipped otherwise).

The command-line checks run `python -m heatpy` in a subprocess with a 20 s
timeout, so that a hang fails the test instead of hanging it.
"""

import errno
import functools
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from heatpy import files, limits
from heatpy.problem import Problem

pytestmark = pytest.mark.quick

ROOT = Path(__file__).resolve().parent.parent
GB = 1_000_000_000
# A refusal must come at once; a hang (a FIFO opened for reading, 10^19 runs) fails the test instead.
TIMEOUT_S = 20


def heatpy(*arguments, env=None):
    """`python -m heatpy ARGUMENTS` from python/ (so this checkout's heatpy is the one run)."""
    environment = {key: value for key, value in os.environ.items() if key != "NUMBA_NUM_THREADS"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "heatpy", *map(str, arguments)],
        cwd=ROOT / "python",
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=environment,
    )


def refusal(done):
    """The one line `heatpy: ...` a refused request prints, without its prefix; exit status 2."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, f"exit status {done.returncode}; stderr:\n{done.stderr}"
    assert len(lines) == 1 and lines[0].startswith("heatpy: "), f"not one line:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return lines[0].removeprefix("heatpy: ")


def bench(*arguments, env=None):
    """`heatpy bench` of NumPy alone (no Numba, SciPy or Cython needed), one timed run."""
    return heatpy("bench", "--versions", "numpy", "--repeat", 1, *arguments, env=env)


# The knobs -------------------------------------------------------------------------------------

TOO_MANY_REPEATS = (
    "18446744073709551616 runs is more than the 1000 any median needs; ask for at most 1000 timed runs and "
    "warm-ups (5 to 20 timed runs is usual)"
)


def test_repeat_is_bounded_with_heatlibs_words():
    with pytest.raises(ValueError) as none:
        limits.check_repeat(0)
    assert str(none.value) == "timing needs at least 1 timed run after the warm-up; asked for 0 repeats"
    with pytest.raises(ValueError, match="asked for -3 repeats"):
        limits.check_repeat(-3)
    with pytest.raises(ValueError) as too_many:
        limits.check_repeat(2**64)
    assert str(too_many.value) == TOO_MANY_REPEATS
    assert limits.check_repeat(1) == 1 and limits.check_repeat(limits.MAX_REPEAT) == 1000


def test_a_repeat_count_past_any_integer_is_refused_at_once_not_run_for_ever():
    assert refusal(bench("--repeat", 2**64)) == TOO_MANY_REPEATS
    assert refusal(bench("--repeat", 0)).endswith("asked for 0 repeats")


def test_threads_are_bounded_with_heatlibs_words():
    with pytest.raises(ValueError) as none:
        limits.check_threads(0)
    assert str(none.value) == "cannot use 0 threads: the thread count must be at least 1"
    with pytest.raises(ValueError) as too_many:
        limits.check_threads(33, most=32)
    assert str(too_many.value) == (
        "cannot use 33 threads: at most 32 here (16 per core); more threads than cores only take turns, "
        "and each costs memory and start-up time"
    )
    assert limits.check_threads(32, most=32) == 32 and limits.check_threads(None) is None
    assert limits.most_threads() == limits.cores() * limits.THREADS_PER_CORE >= 16
    too_many_here = limits.most_threads() + 1
    assert refusal(bench("--threads", too_many_here)).startswith(f"cannot use {too_many_here} threads: at most")
    assert refusal(bench("--threads", 0)) == "cannot use 0 threads: the thread count must be at least 1"


def test_numba_num_threads_from_the_environment_is_bounded_and_named():
    assert limits.check_numba_threads({}) is None
    assert limits.check_numba_threads({"NUMBA_NUM_THREADS": "4"}, most=32) == 4
    for value in ("lots", "-1", "2.5", ""):
        with pytest.raises(ValueError, match=r"^NUMBA_NUM_THREADS=.* is not a number of threads"):
            limits.check_numba_threads({"NUMBA_NUM_THREADS": value}, most=32)
    for value, why in (("100000", "at most 32 here"), ("0", "at least 1")):
        with pytest.raises(ValueError, match=f"^NUMBA_NUM_THREADS={value} in the environment: cannot use .*{why}"):
            limits.check_numba_threads({"NUMBA_NUM_THREADS": value}, most=32)
    too_many_here = str(limits.most_threads() + 1)
    assert refusal(bench(env={"NUMBA_NUM_THREADS": too_many_here})).startswith(
        f"NUMBA_NUM_THREADS={too_many_here} in the environment: cannot use"
    )


def test_temperatures_and_gamma_are_bounded_with_heatlibs_words():
    with pytest.raises(ValueError) as large:
        Problem(top=1e308).validate()
    assert str(large.value) == (
        "top temperature = 1e308 is too large: the update adds four neighbours, which overflows f64 for "
        "magnitudes above 2.2e307; use temperatures in a physical range (kelvin or degrees: below 1e6 keeps "
        "every digit meaningful)"
    )
    with pytest.raises(ValueError, match="^initial temperature = -1e308 is too large"):
        Problem(initial=-1e308).validate()
    with pytest.raises(ValueError, match="^invalid left temperature = inf: temperatures must be finite numbers"):
        Problem(left=float("inf")).validate()
    with pytest.raises(ValueError, match="^invalid gamma = nan: must be a finite number"):
        Problem(gamma=float("nan")).validate()
    with pytest.raises(ValueError, match="stable only for 0 <= gamma <= 1/4"):
        Problem(gamma=0.3).validate()
    Problem(top=limits.LARGEST_TEMPERATURE, bottom=-limits.LARGEST_TEMPERATURE).validate()
    assert refusal(bench("--right", "nan")).startswith("invalid right temperature = nan")
    assert refusal(bench("--bottom=-1e308")).startswith("bottom temperature = -1e308 is too large")


def test_sizes_no_machine_has_are_one_line_not_a_traceback():
    assert refusal(bench("--nt", -5)) == "nt = -5: there is at least the initial time level"
    assert refusal(bench("--nx", 10**30)).startswith(
        f"a run of {10**30} x {10**30} nodes and 1000 levels needs 340282366920938356736.00 EB but only "
    )
    assert refusal(bench("--nx", 100_000, "--nt", 100_000, "--history", "full")).startswith(
        "the full history needs 8.00 PB (nt x nx x nx x 8 bytes = 100000 x 100000 x 100000 x 8) but only "
    )


# Memory ----------------------------------------------------------------------------------------


def fake_files(root, contents):
    """Writes each {relative path: text} under `root` (a made-up /sys/fs/cgroup or /proc); returns `root`."""
    for path, text in contents.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    return root


def test_bytes_print_as_heatlib_prints_them():
    assert limits.format_bytes(123) == "123 bytes"
    assert limits.format_bytes(999) == "999 bytes"
    assert limits.format_bytes(1000) == "1.00 KB"
    assert limits.format_bytes(1_280_000_000) == "1.28 GB"
    assert limits.format_bytes(8 * 10**18) == "8.00 EB"
    assert limits.format_bytes(10**40) == limits.format_bytes(2**128 - 1)  # saturates, as heatlib's u128


def test_mem_available_is_read_in_bytes():
    assert limits.meminfo_available("MemTotal: 100 kB\nMemFree: 50 kB\nMemAvailable:   2048 kB\n") == 2 * 1024**2
    assert limits.meminfo_available("MemTotal: 1 kB\n") is None


def test_the_tightest_cgroup_v2_limit_counts_nested_and_page_cache_given_back(tmp_path):
    # A learner's 2 GB limit two levels down, under a 10 GB slice.
    v2 = fake_files(
        tmp_path,
        {
            "memory.max": "max\n",
            "memory.current": "5000000000\n",
            "hub.slice/memory.max": "10000000000\n",
            "hub.slice/memory.current": "4000000000\n",
            "hub.slice/learner-7/memory.max": "2000000000\n",
            "hub.slice/learner-7/memory.current": "500000000\n",
        },
    )
    assert limits.cgroup_headroom(v2, "0::/hub.slice/learner-7\n") == 3 * GB // 2
    # The slice is the tighter when it is nearly full.
    (v2 / "hub.slice/memory.current").write_text("9500000000")
    assert limits.cgroup_headroom(v2, "0::/hub.slice/learner-7") == GB // 2
    # Inactive page cache (a history just written to disk) is given back first.
    (v2 / "hub.slice/memory.stat").write_text("anon 8000000000\ninactive_file 1000000000\nactive_file 3\n")
    assert limits.cgroup_headroom(v2, "0::/hub.slice/learner-7") == 3 * GB // 2


def test_cgroup_v1_the_container_root_and_escapes(tmp_path):
    # v1, as on a hybrid host: the memory controller's own hierarchy.
    v1 = fake_files(
        tmp_path / "v1",
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": "7000000000",
            "memory/box/memory.limit_in_bytes": "2000000000",
            "memory/box/memory.usage_in_bytes": "1200000000",
            "memory/box/memory.stat": "cache 5\ninactive_file 9\ntotal_inactive_file 0\n",
        },
    )
    assert limits.cgroup_headroom(v1, "4:memory:/box\n3:cpuset:/\n0::/\n") == 800_000_000
    # Inside a container: the host's path is not mounted; the root (the container's group) counts.
    container = fake_files(tmp_path / "container", {"memory.max": "2000000000", "memory.current": "1500000000"})
    assert limits.cgroup_headroom(container, "0::/machine.slice/libpod-abc.scope") == GB // 2
    # A group outside this cgroup namespace (`..`): never a file above the mount.
    fake_files(tmp_path, {"memory.max": "1", "memory.current": "1"})
    assert limits.cgroup_headroom(container, "0::/../../escape") == GB // 2
    # No limit anywhere, or no memory controller: unknown.
    none = fake_files(tmp_path / "none", {"memory.max": "max", "memory.current": "1"})
    assert limits.cgroup_headroom(none, "0::/") is None
    assert limits.cgroup_headroom(none, "3:cpuset:/\n") is None


def test_available_memory_is_the_smaller_of_the_machine_and_the_cgroups(tmp_path):
    proc = fake_files(
        tmp_path / "proc",
        {"meminfo": "MemTotal: 8000000 kB\nMemAvailable: 4000000 kB\n", "cgroup": "0::/learner\n"},
    )
    cgroups = fake_files(tmp_path / "cgroup", {"learner/memory.max": "314572800", "learner/memory.current": "0"})
    measure = functools.partial(
        limits.available_memory, meminfo=proc / "meminfo", membership=proc / "cgroup", cgroup_root=cgroups
    )
    assert measure() == 314_572_800
    (cgroups / "learner/memory.max").write_text("max")
    assert measure() == 4_000_000 * 1024
    assert limits.available_memory(tmp_path / "absent", tmp_path / "absent", tmp_path / "absent") is None


def test_a_request_beyond_available_memory_says_what_and_what_to_do():
    needed = limits.fields_bytes(2, 60_000)
    assert needed == 57_600_000_000
    with pytest.raises(ValueError) as refused:
        limits.check_fits_in("the run", needed, "use a smaller nx", 8 * GB)
    assert str(refused.value) == "the run needs 57.60 GB but only 8.00 GB is available; use a smaller nx"
    limits.check_fits_in("the run", needed, "", 60 * GB)
    with pytest.raises(ValueError):  # unknown memory: still no array larger than the address space
        limits.check_fits_in("the run", 2**128, "", None)
    with pytest.raises(ValueError) as history:
        limits.check_history_fits(4000, 200, GB)
    assert str(history.value) == (
        "the full history needs 1.28 GB (nt x nx x nx x 8 bytes = 4000 x 200 x 200 x 8) but only 1.00 GB is "
        "available; keep only the final field (history: final) or take snapshots every k steps instead"
    )
    limits.check_history_fits(1000, 50, 20_000_001)
    limits.check_history_fits(1000, 50, None)
    with pytest.raises(ValueError, match="the full history needs"):
        limits.check_history_fits(2**64, 2**20, None)


def test_the_storage_is_refused_before_it_is_allocated_in_a_300_mib_cgroup(tmp_path, monkeypatch):
    """The reproduced defect: --nx 200 --nt 1000 --history full in a 300 MiB cgroup was killed by the kernel."""
    proc = fake_files(tmp_path / "proc", {"meminfo": "MemAvailable: 64000000 kB\n", "cgroup": "0::/user\n"})
    cgroups = fake_files(tmp_path / "cgroup", {"user/memory.max": str(300 << 20), "user/memory.current": "30000000"})
    measure = functools.partial(
        limits.available_memory, meminfo=proc / "meminfo", membership=proc / "cgroup", cgroup_root=cgroups
    )
    monkeypatch.setattr(limits, "available_memory", measure)
    problem = Problem(nx=200, nt=1000)
    with pytest.raises(ValueError) as refused:
        problem.storage(history=True)
    assert str(refused.value) == (
        "the full history needs 320.00 MB (nt x nx x nx x 8 bytes = 1000 x 200 x 200 x 8) but only 284.57 MB is "
        "available; keep only the final field (history: final) or take snapshots every k steps instead"
    )
    assert problem.storage(history=False).shape == (2, 200, 200)
    (cgroups / "user/memory.max").write_text("30100000")
    with pytest.raises(ValueError, match=r"^a run of 200 x 200 nodes and 1000 levels needs 640.00 KB but only"):
        problem.storage(history=False)


# Reading ---------------------------------------------------------------------------------------


@pytest.fixture
def wrong_references(tmp_path):
    """Files that are not the 50 x 50 reference field of the default problem, by name."""
    np.save(tmp_path / "shape.npy", np.zeros((3, 3)))
    np.save(tmp_path / "ints.npy", np.zeros((50, 50), dtype=np.int64))
    np.save(tmp_path / "objects.npy", np.full((50, 50), None, dtype=object), allow_pickle=True)
    np.savez(tmp_path / "archive.npz", field=np.zeros((50, 50)))
    (tmp_path / "pickle.pkl").write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00]\x94.")
    # A header that announces the right shape, and then 16 bytes of the 20,000.
    header = np.lib.format.MAGIC_PREFIX + b"\x01\x00"
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': (50, 50), }".ljust(117) + "\n"
    (tmp_path / "truncated.npy").write_bytes(header + len(text).to_bytes(2, "little") + text.encode() + bytes(16))
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


WHY = {
    "shape.npy": "holds an array of shape (3, 3), not the final field (50, 50) of this problem",
    "ints.npy": "holds values of type int64, not float64",
    "objects.npy": "holds values of type object, not float64",
    "archive.npz": "is a .npz archive",
    "pickle.pkl": "is not a .npy file",
    "truncated.npy": "is not a complete .npy file",
    "fifo": "it is a named pipe (FIFO), not a regular file",
}


@pytest.mark.parametrize("name", WHY)
def test_a_reference_that_is_not_the_field_is_one_line(wrong_references, name):
    message = refusal(bench("--reference", wrong_references / name))
    assert WHY[name] in message
    assert "heat reference" in message  # what to give instead
    with pytest.raises(ValueError, match=WHY[name].replace("(", r"\(").replace(")", r"\)")):
        files.load_reference(wrong_references / name, 50)


def test_dev_zero_and_a_folder_as_reference_are_refused_not_read_for_ever(tmp_path):
    assert refusal(bench("--reference", "/dev/zero")).startswith("cannot read /dev/zero: it is a device")
    assert refusal(bench("--reference", tmp_path)).startswith(f"cannot read {tmp_path}: it is a folder")


def test_the_reference_heat_writes_is_read(tmp_path):
    field = np.arange(2500, dtype=np.float64).reshape(50, 50)
    np.save(tmp_path / "reference.npy", field)
    assert np.array_equal(files.load_reference(tmp_path / "reference.npy", 50), field)
    done = bench("--nx", 50, "--nt", 10, "--reference", tmp_path / "reference.npy")
    assert done.returncode == 0, done.stderr


def test_a_file_larger_than_its_limit_is_refused(tmp_path):
    (tmp_path / "data").write_bytes(bytes(101))
    with pytest.raises(ValueError, match=r"it holds more than 100 bytes, the most that a test file can take"):
        files.read_bounded(tmp_path / "data", 100, "a test file")
    assert files.read_bounded(tmp_path / "data", 101, "a test file") == bytes(101)


# Writing ---------------------------------------------------------------------------------------


def test_a_file_is_replaced_whole_keeping_its_permissions(tmp_path):
    target = tmp_path / "timings.json"
    target.write_text("old")
    target.chmod(0o640)
    files.write_whole(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    files.write_whole(tmp_path / "fresh.json", b"{}")
    assert stat.S_IMODE((tmp_path / "fresh.json").stat().st_mode) == 0o666 & ~files.umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.json", "timings.json"]  # no partial file left


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "timings.json"
    target.write_text("the good old timings")

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as failed:
        files.write_whole(target, b"half of the new")
    assert str(failed.value) == (
        f"cannot write {target}: No space left on device (the file that was there before, if any, is unchanged)"
    )
    assert target.read_text() == "the good old timings"
    assert [p.name for p in tmp_path.iterdir()] == ["timings.json"]


def test_the_json_of_a_bench_is_written_whole(tmp_path):
    done = bench("--nx", 10, "--nt", 5, "--json", tmp_path / "out.json")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.json").read_text().startswith('{\n  "rows": [')
    assert refusal(bench("--json", tmp_path)) == f"cannot write {tmp_path}: it is a folder; name a file in it"


def test_a_fifo_nobody_reads_fails_at_once_instead_of_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="it is a named pipe that nobody reads"):
        files.write_whole(tmp_path / "pipe", b"{}")
    files.write_whole("/dev/null", b"{}")  # a device is written in place


def test_a_link_you_own_is_followed(tmp_path):
    victim = tmp_path / "results.json"
    victim.write_text("before")
    (tmp_path / "link.json").symlink_to(victim)
    files.write_whole(tmp_path / "link.json", b"after")
    assert victim.read_text() == "after"
    assert (tmp_path / "link.json").is_symlink()  # the file it points to was replaced, not the link
    # Yours in a shared (sticky, writable by all) folder too.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "mine.json").symlink_to(victim)
    files.write_whole(shared / "mine.json", b"again")
    assert victim.read_text() == "again"


def test_a_link_another_user_planted_in_a_shared_folder_is_not_written_through(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the link rule needs files owned by other users (os.chown, os.lchown): run this test as root")
    victim = tmp_path / "victim.json"
    victim.write_text("the victim's own data")
    shared = tmp_path / "shared"  # as /tmp: sticky, writable by all, owned by someone else
    shared.mkdir()
    os.chown(shared, 54321, 54321)
    shared.chmod(0o1777)
    planted = shared / "results.json"
    planted.symlink_to(victim)
    os.lchown(planted, 54322, 54322)
    with pytest.raises(ValueError) as refused:
        files.write_whole(planted, b"overwritten")
    assert str(refused.value) == (
        f"cannot write {planted}: {planted} is a link in the shared folder {shared} that another user (uid 54322) "
        "made; heatpy does not write through it, as Linux's fs.protected_symlinks would not. Write to another path "
        "(in your home, say): only its owner can remove the link"
    )
    assert victim.read_text() == "the victim's own data"
    assert refusal(bench("--json", planted)) == str(refused.value)
    assert victim.read_text() == "the victim's own data"
    # A link the folder's owner made is followed, as the kernel's rule allows.
    os.lchown(planted, 54321, 54321)
    files.write_whole(planted, b"by the folder's owner")
    assert victim.read_text() == "by the folder's owner"
    # A class folder writable by its group is shared too; and a pipe another user made there is theirs.
    os.lchown(planted, 54322, 54322)
    shared.chmod(0o1770)
    with pytest.raises(ValueError, match="is a link in the shared folder"):
        files.write_whole(planted, b"overwritten")
    assert victim.read_text() == "by the folder's owner"
    pipe = shared / "pipe"
    os.mkfifo(pipe)
    os.chown(pipe, 54322, 54322)
    with pytest.raises(ValueError, match="a pipe in the shared folder"):
        files.write_whole(pipe, b"for them")


def test_a_pipe_behind_dev_stdout_is_written_in_place():
    """/dev/stdout is a link to /proc/self/fd/1, whose target names no file when it is a pipe."""
    code = "from heatpy import files; files.write_whole('/dev/stdout', b'through the pipe')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "python",
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "through the pipe"


def test_cores_are_capped_by_a_cgroup_cpu_limit_as_heat_counts_them(tmp_path):
    """A Hub pod of 2 CPUs on a larger machine: 2 cores, so 32 threads at most, as heat allows."""
    membership = tmp_path / "cgroup"
    membership.write_text("0::/kubepods/pod1\n")
    group = tmp_path / "root" / "kubepods" / "pod1"
    group.mkdir(parents=True)
    (group / "cpu.max").write_text("200000 100000\n")
    affinity = len(os.sched_getaffinity(0))
    assert limits.cores(membership, tmp_path / "root") == min(affinity, 2)
    (group / "cpu.max").write_text("50000 100000\n")  # half a core: still one
    assert limits.cores(membership, tmp_path / "root") == 1
    (group / "cpu.max").write_text("max 100000\n")
    assert limits.cores(membership, tmp_path / "root") == affinity
    v1 = tmp_path / "v1"
    (v1 / "cpu,cpuacct" / "job").mkdir(parents=True)
    (v1 / "cpu,cpuacct" / "job" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu,cpuacct" / "job" / "cpu.cfs_period_us").write_text("100000\n")
    membership.write_text("4:cpu,cpuacct:/job\n")
    assert limits.cores(membership, v1) == 1
