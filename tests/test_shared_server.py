"""The `heat` command on a shared server, under hostile input: the reproductions of issue 37 as
written, each of which must end in a clear one-line refusal or a correct result (no overwritten
file, no hang, no backtrace, no runaway memory).

The link case needs two users: as root (CI is), the test makes them (`useradd`) and removes them
after; otherwise it is skipped with the reason. heatpy's, the Hub's and the kernel's cases are in
test_heatpy_limits.py, test_hub_values.py and test_start_kernel.py.
"""

import contextlib
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

pytestmark = pytest.mark.setup

# Long enough for a run that works, short enough that a hang fails the test instead of CI.
SECONDS = 60


def ran(command, env=None, timeout=SECONDS):
    """`command` run through the shell, as the issue writes it; a hang fails the test."""
    return subprocess.run(
        command,
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def refused_in_one_line(done, says):
    """A failure exit with one line on stderr that says `says`, and no backtrace."""
    assert done.returncode not in (0, 101), (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.startswith("heat:")]
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "panicked" not in done.stderr and "RUST_BACKTRACE" not in done.stderr, done.stderr


@pytest.fixture
def place():
    """A folder every user can enter, with the heat command in it (the checkout's build folder
    may be closed to other users)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="heat-shared-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def heat_here(heat, place):
    copy = place / "heat"
    shutil.copy2(heat, copy)
    copy.chmod(0o755)
    return copy


@contextlib.contextmanager
def kernel_protection_off():
    """Linux's own fs.protected_symlinks off for the test, if this machine lets us, so that what
    protects the victim is heat's rule; put back after."""
    switch = pathlib.Path("/proc/sys/fs/protected_symlinks")
    try:
        before = switch.read_text()
        switch.write_text("0\n")
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            switch.write_text(before)


@contextlib.contextmanager
def two_users():
    """Two new users, an attacker and a victim, removed after."""
    if os.geteuid() != 0:
        pytest.skip("making two users needs root (CI runs as root)")
    if shutil.which("useradd") is None:
        pytest.skip("no useradd on this machine")
    tag = uuid.uuid4().hex[:6]
    names = [f"heata{tag}", f"heatv{tag}"]
    try:
        for name in names:
            subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True)
        yield names
    finally:
        for name in names:
            subprocess.run(["userdel", name], capture_output=True)


def as_user(user, command, env=None):
    return ran(f"su {user} -s /bin/bash -c {shlex.quote(command)}", env=env)


def test_a_link_planted_in_a_shared_folder_does_not_turn_a_write_into_an_overwrite(heat_here, place):
    with two_users() as (attacker, victim), kernel_protection_off():
        shared, home = place / "s", place / "vh"
        shared.mkdir(mode=0o1777)
        shared.chmod(0o1777)
        home.mkdir(mode=0o700)
        shutil.chown(home, victim)
        assert as_user(victim, f"echo keep > {home}/.bashrc").returncode == 0
        for name in ("r.npy", "rows.json", "roofline.json"):
            assert as_user(attacker, f"ln -s {home}/.bashrc {shared}/{name}").returncode == 0
        done = as_user(victim, f"{heat_here} run --nx 10 --nt 10 --out {shared}/r.npy")
        refused_in_one_line(done, "is a link in the shared folder")
        done = as_user(
            victim,
            f"{heat_here} bench --size 10:10 --stages typed --repeat 1 --no-ceilings --json {shared}/rows.json",
        )
        refused_in_one_line(done, "is a link in the shared folder")
        # The kept ceilings are only a cache: not kept, the bench still runs.
        done = as_user(
            victim,
            f"HEAT_ROOFLINE_FILE={shared}/roofline.json {heat_here} bench --size 10:10 --stages typed "
            "--repeat 1 --bench-budget 2",
        )
        assert done.returncode == 0, done.stderr
        assert (home / ".bashrc").read_text() == "keep\n"
        # Under a process limit too small for the threads asked for: a message, not a panic.
        done = as_user(
            victim, f"ulimit -u 1; exec {heat_here} run --stage parallel --threads 4 --nx 10 --nt 10 --out /dev/null"
        )
        refused_in_one_line(done, "the system would not start them")


@pytest.mark.parametrize("threads", [str(16 * len(os.sched_getaffinity(0)) + 1), "33000"])
def test_rayon_num_threads_is_bounded_like_threads(heat, threads):
    done = ran(
        f"ulimit -u 300; RAYON_NUM_THREADS={threads} {heat} run --stage parallel --nx 10 --nt 10 --out /dev/null"
    )
    refused_in_one_line(done, f"cannot use {threads} threads: RAYON_NUM_THREADS asks for them")


def test_rayon_num_threads_within_bounds_is_used(heat, tmp_path):
    rows = tmp_path / "rows.json"
    done = ran(
        f"RAYON_NUM_THREADS=3 {heat} bench --size 20:20 --stages parallel --repeat 1 --no-ceilings --json {rows}"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(rows.read_text())[0]["threads"] == 3


@pytest.mark.parametrize(
    "kept",
    [
        pytest.param("malformed", id="malformed"),
        pytest.param("fifo", id="a pipe"),
        pytest.param("/dev/zero", id="/dev/zero"),
        pytest.param("zeros", id="a bandwidth of 0"),
    ],
)
def test_the_bench_budget_covers_measuring_the_ceilings_and_a_bad_kept_file_is_refused(
    heat, tmp_path, kept, this_machines_ceilings
):
    path = tmp_path / "roofline.json"
    says = {
        "malformed": "not ceilings heatlib wrote",
        "fifo": "not a regular file",
        "/dev/zero": "not a regular file",
        "zeros": "is 0, not a positive number",
    }[kept]
    if kept == "malformed":
        path.write_text("{ not json")
    elif kept == "fifo":
        os.mkfifo(path)
    elif kept == "/dev/zero":
        path = pathlib.Path(kept)
    else:
        # This machine's own ceilings, one bandwidth spoilt: refused for the figure, not the machine.
        spoilt = json.loads(this_machines_ceilings.read_text())
        spoilt["bandwidth"][0]["gb_per_s"] = 0.0
        path.write_text(json.dumps(spoilt))
    rows = tmp_path / "rows.json"
    started = time.monotonic()
    done = ran(
        f"{heat} bench --size 50:100 --stages typed --repeat 1 --bench-budget 3 --json {rows}",
        env={"HEAT_ROOFLINE_FILE": str(path)},
        timeout=20,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "the kept ceilings are not used" in done.stderr and says in done.stderr, done.stderr
    assert took < 3 + 2, f"the bench took {took:.1f} s with --bench-budget 3"
    assert [row["stage"] for row in json.loads(rows.read_text())] == ["typed"]
    assert "NaN" not in done.stdout, done.stdout


@pytest.fixture(scope="module")
def this_machines_ceilings(heat, tmp_path_factory):
    """This machine's ceilings as heat keeps them (measured once, a few seconds)."""
    kept = tmp_path_factory.mktemp("ceilings") / "roofline.json"
    subprocess.run(
        [heat, "roofline"], env={**os.environ, "HEAT_ROOFLINE_FILE": str(kept)}, check=True, capture_output=True
    )
    return kept


def test_json_to_a_pipe_behind_dev_stdout_is_written(heat):
    done = ran(f"{heat} bench --size 10:10 --stages typed --repeat 1 --no-ceilings --json /dev/stdout | cat")
    assert done.returncode == 0, done.stderr
    assert '"stage": "typed"' in done.stdout, done.stdout


def test_dev_zero_as_the_kept_file_is_refused_without_reading_it(heat):
    done = ran(
        f"ulimit -v 4000000; HEAT_ROOFLINE_FILE=/dev/zero {heat} bench --size 10:10 --stages typed --repeat 1 "
        "--bench-budget 1"
    )
    assert done.returncode == 0, done.stderr
    assert "cannot read /dev/zero: it is not a regular file" in done.stderr, done.stderr


@pytest.mark.parametrize("what", ["out", "from-fifo", "from-zero"])
def test_a_pipe_or_a_device_to_read_or_write_is_refused_at_once(heat, tmp_path, what):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    command = {
        "out": f"{heat} run --nx 10 --nt 10 --out {fifo}",
        "from-fifo": f"{heat} predictions --from {fifo}",
        "from-zero": f"ulimit -v 4000000; {heat} predictions --from /dev/zero",
    }[what]
    done = ran(command, timeout=20)
    says = "nobody reads" if what == "out" else "not a regular file"
    refused_in_one_line(done, says)
