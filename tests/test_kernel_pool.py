"""The kernel pool inside a real JupyterLab server (kernel-setup/kernel-pool/heat_kernel_pool.py).

Without a server (seconds): a starting kernel that holds a file lock (as its cargo holds the
package cache's) is not paused while a learner's kernel waits for that lock, and is paused again
once it holds none; a pool asked for 30 kernels keeps 4; the folder named by HEAT_KERNEL_POOL_DIR
stays inside the server's. Then in a server, over its REST API and the kernels' own connection
files, as JupyterLab uses them, in this order (each step leans on the one before):
1. The server starts a kernel ahead; a notebook's session takes that kernel (the server's log names
   it), and the kernel draws a heatmap.
2. That kernel dies (killed, as a panic or the out-of-memory killer would): the server restarts it
   cold on the same ports and key, so the connection the notebook holds keeps working.
3. A restart asked for (Kernel > Restart) takes the pool's next kernel: new ports, and a client
   connected to them runs a cell.
4. The notebook's kernel dies again (the server starts it cold), then Ctrl-C stops the server,
   and no kernel it started, the pool's or the cold one, is left running.
"""

import asyncio
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import heat_kernel_pool
import pytest
from kernel_check import FIRST_HEATMAP, execute
from lab_server import ROOT, Server, client_for, connection_of, kernels_started_by, state_of

OUT = ROOT / "target" / "kernel-pool"
PORT = 18890
PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
# A cell on a warm kernel takes seconds; 120 s means it never answers.
CELL_TIMEOUT_S = 120


HOLD_LOCK = """
import fcntl, sys, time
lock = open(sys.argv[1], "w")
fcntl.flock(lock, fcntl.LOCK_EX)
time.sleep(1.5)
fcntl.flock(lock, fcntl.LOCK_UN)
time.sleep(60)
"""
WAIT_FOR_LOCK = "import fcntl, sys; fcntl.flock(open(sys.argv[1], 'w'), fcntl.LOCK_EX)"


class QuietLog:
    """The server's log, as the pool writes to it: errors kept for a test to read, the rest dropped."""

    def __init__(self):
        self.errors = []

    def error(self, message, *args, **_details):
        self.errors.append(message % args)

    def info(self, *args, **_details):
        pass

    warning = info


async def lock_holder_and_waiter(lock_path):
    """The wedge of two notebooks opened at once: a warm kernel paused while its cargo held a
    lock that the learner's busy kernel waited for, which kept it busy, which kept the other
    paused. Here the 'warm kernel' holds an flock for 1.5 s of its own running time, and the
    'learner's kernel' waits for it; the learner counts as busy for 4 s at least."""
    pool = heat_kernel_pool.KernelPool(1, QuietLog())
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, lock_path], start_new_session=True)
    await asyncio.sleep(0.3)  # it takes the lock
    waiter = subprocess.Popen([sys.executable, "-c", WAIT_FOR_LOCK, lock_path])
    started = time.monotonic()
    pool.busy = lambda: waiter.poll() is None or time.monotonic() - started < 4
    info = {
        "ip": "127.0.0.1",
        "transport": "tcp",
        "key": b"test",
        "signature_scheme": "hmac-sha256",
        **{name: 1 for name in PORTS},
    }
    kernel = heat_kernel_pool.WarmKernel(holder, lock_path + ".json", info)
    tending = asyncio.get_running_loop().create_task(pool.tend(kernel))
    try:
        while waiter.poll() is None and time.monotonic() - started < 15:
            await asyncio.sleep(0.1)
        waited = None if waiter.poll() is None else time.monotonic() - started
        await asyncio.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
        return waited, state_of(holder.pid)
    finally:
        kernel.handed_over = True
        waiter.kill()
        holder.kill()
        await tending


@pytest.mark.quick
def test_a_lock_holder_is_never_left_paused():
    OUT.mkdir(parents=True, exist_ok=True)
    waited, holder_state = asyncio.run(lock_holder_and_waiter(str(OUT / "lock")))
    assert waited is not None, (
        "a learner's kernel waiting for a lock that a paused warm kernel holds was still waiting "
        "after 15 s: the pool paused the lock's holder"
    )
    assert waited <= 5, f"the learner's kernel waited {waited:.1f} s for a lock held for 1.5 s"
    assert holder_state == "T", "a starting kernel holding no lock was not paused while a kernel was busy"


@pytest.mark.quick
def test_a_pool_of_30_is_bounded_to_4_with_a_message(monkeypatch):
    log = QuietLog()
    monkeypatch.setenv("HEAT_KERNEL_POOL", "30")
    assert heat_kernel_pool.pool_size_setting(log) == heat_kernel_pool.MAX_POOL
    assert log.errors


@pytest.mark.quick
@pytest.mark.parametrize(
    "chosen, expected", [("heat-accel-notebooks", "heat-accel-notebooks"), ("../../..", ""), ("", "")]
)
def test_the_pools_folder_stays_inside_the_servers(monkeypatch, chosen, expected):
    root = OUT / "root"
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HEAT_KERNEL_POOL_DIR", chosen)
    folder = heat_kernel_pool.pool_folder_setting(str(root.resolve()), QuietLog())
    assert folder == str((root / expected).resolve()) and os.path.isdir(folder)


@pytest.fixture(scope="module")
def lab():
    """The server, once its first warm kernel is ready; stopped with Ctrl-C by the last test."""
    OUT.mkdir(parents=True, exist_ok=True)
    server = Server(PORT, OUT / "jupyterlab.log")
    try:
        server.wait_for_log(r"warm kernel \(pid \d+\) ready after", 300)
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


@pytest.fixture(scope="module")
def notebook(lab):
    """A notebook's session: its kernel's id, the warm kernel's pid it took, its connection."""
    mark = len(lab.logged())
    session = lab.api(
        "POST",
        "/api/sessions",
        {"path": "01-compiled-interpreted-jit.ipynb", "type": "notebook", "kernel": {"name": "rust-heatlib"}},
    )
    kernel_id = session["kernel"]["id"]
    taken = lab.wait_for_log(r"took a warm kernel \(pid (\d+), ready", 30, after=mark)
    client = client_for(connection_of(kernel_id))
    yield {
        "kernel_id": kernel_id,
        "pid": int(taken.group(1)),
        "taken_at": mark + taken.end(),  # where the log goes on after the hand-over
        "first": connection_of(kernel_id),
        "client": client,
    }
    client.stop_channels()
    if lab.process.poll() is None:  # test 4 stops the server with the session open, as a learner would
        lab.api("DELETE", f"/api/sessions/{session['id']}")


@pytest.mark.setup
@pytest.mark.kernel
def test_1_a_notebook_takes_the_warm_kernel_and_draws(notebook):
    _, bundles, _ = execute(notebook["client"], FIRST_HEATMAP, CELL_TIMEOUT_S)
    assert any("image/png" in bundle for bundle in bundles), "the pool's kernel drew no heatmap"


@pytest.mark.setup
@pytest.mark.kernel
def test_2_a_killed_kernel_restarts_cold_on_the_same_ports_and_key(lab, notebook):
    mark = len(lab.logged())
    os.killpg(notebook["pid"], signal.SIGKILL)
    lab.wait_for_log(r"KernelRestarter: restarting kernel", 60, after=mark)
    _, _, text = execute(notebook["client"], 'println!("{}", 6 * 7);', CELL_TIMEOUT_S)
    after_death = connection_of(notebook["kernel_id"])
    assert all(after_death[name] == notebook["first"][name] for name in PORTS + ("key",)), (
        "after the kernel died, the server's restart changed its ports or key"
    )
    assert "42" in text, f"after the kernel died, the notebook's connection ran a cell that printed {text!r}"
    assert "took a warm kernel" not in lab.logged()[mark:], (
        "a kernel that died was replaced from the pool (its ports change under the notebook)"
    )


@pytest.mark.setup
@pytest.mark.kernel
def test_3_a_restart_asked_for_takes_the_next_warm_kernel(lab, notebook):
    before = connection_of(notebook["kernel_id"])
    # The pool's next kernel, started when the notebook took the first, is ready.
    lab.wait_for_log(r"warm kernel \(pid \d+\) ready after", 300, after=notebook["taken_at"])
    mark = len(lab.logged())
    lab.api("POST", f"/api/kernels/{notebook['kernel_id']}/restart")
    lab.wait_for_log(r"took a warm kernel", 30, after=mark)
    restarted = connection_of(notebook["kernel_id"])
    assert any(restarted[name] != before[name] for name in PORTS), "the restart kept the old ports: no pool kernel"
    client = client_for(restarted)
    try:
        _, _, text = execute(client, 'println!("{}", 6 * 7);', CELL_TIMEOUT_S)
    finally:
        client.stop_channels()
    assert "42" in text, f"after a restart asked for, a cell printed {text!r}"


@pytest.mark.setup
@pytest.mark.kernel
def test_4_ctrl_c_stops_the_server_and_every_kernel_it_started(lab, notebook):
    # The notebook's kernel dies once more, so that the server holds a kernel it started cold
    # (not the pool's) when it stops: that one must end with it too.
    mark = len(lab.logged())
    os.killpg(current_kernel(lab), signal.SIGKILL)
    lab.wait_for_log(r"KernelRestarter: restarting kernel", 60, after=mark)
    wait_for_cold_kernel(lab, notebook["kernel_id"])
    assert not lab.stop()


def current_kernel(lab):
    """The kernel a notebook holds after test 3: the pool's last kernel handed over."""
    return int(re.findall(r"took a warm kernel \(pid (\d+)", lab.logged())[-1])


def wait_for_cold_kernel(lab, kernel_id, seconds=60):
    """Waits for the kernel the server starts cold for `kernel_id`: one of its kernels, started
    with the server's own connection file (the pool's name theirs heat-pool-*)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for pid in kernels_started_by(lab.process.pid):
            try:
                if f"kernel-{kernel_id}.json".encode() in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes():
                    return
            except OSError:  # ended while we looked
                continue
        time.sleep(0.5)
    raise TimeoutError(f"no kernel started cold for {kernel_id} in {seconds} s")
