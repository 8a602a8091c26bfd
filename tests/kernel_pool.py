"""The kernel pool inside a real JupyterLab server (kernel-setup/kernel-pool/heat_kernel_pool.py).

    .venv/bin/python tests/kernel_pool.py [--port 18890]

Checked, over the server's REST API and the kernels' own connection files, as JupyterLab uses them:
1. The server starts a kernel ahead; a notebook's session takes that kernel (the server's log names
   it), and the kernel draws a heatmap.
2. That kernel dies (killed, as a panic or the out-of-memory killer would): the server restarts it
   cold on the same ports and key, so the connection the notebook holds keeps working.
3. A restart asked for (Kernel > Restart) takes the pool's next kernel: new ports, and a client
   connected to them runs a cell.
4. Ctrl-C stops the server, and no kernel the pool started is left running.
Before the server, without one (seconds): a starting kernel that holds a file lock (as its cargo
holds the package cache's) is not paused while a learner's kernel waits for that lock, and is
paused again once it holds none; a pool asked for 30 kernels keeps 4; the folder named by
HEAT_KERNEL_POOL_DIR stays inside the server's.
"""

import argparse
import asyncio
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.request
from queue import Empty

import heat_kernel_pool
from jupyter_client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir
from kernel_check import FIRST_HEATMAP, execute
from lab_in_browser import stop_with_ctrl_c
from outcome import report

ROOT = pathlib.Path(__file__).resolve().parent.parent

TOKEN = "kernel-pool-test"
PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class Server:
    def __init__(self, port, log_path):
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "jupyter"),
                "lab",
                "--no-browser",
                "--port",
                str(port),
                "--ServerApp.port_retries=0",
                "--notebook-dir",
                str(ROOT / "notebooks"),
                "--allow-root",
            ],
            env={**os.environ, "JUPYTER_TOKEN": TOKEN},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json", "Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read()
        return json.loads(text) if text else None

    def logged(self):
        return pathlib.Path(self.log_path).read_text()

    def wait_for_log(self, pattern, seconds, after=0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = re.search(pattern, self.logged()[after:])
            if found:
                return found
            time.sleep(0.3)
        raise TimeoutError(f"the server's log never said /{pattern}/ in {seconds} s (see {self.log_path})")

    def stop(self):
        return stop_with_ctrl_c(self.process)


def connection_of(kernel_id):
    return json.loads((pathlib.Path(jupyter_runtime_dir()) / f"kernel-{kernel_id}.json").read_text())


def client_for(info):
    client = BlockingKernelClient()
    client.load_connection_info(info)
    client.start_channels()
    client.wait_for_ready(timeout=300)
    return client


HOLD_LOCK = """
import fcntl, sys, time
lock = open(sys.argv[1], "w")
fcntl.flock(lock, fcntl.LOCK_EX)
time.sleep(1.5)
fcntl.flock(lock, fcntl.LOCK_UN)
time.sleep(60)
"""
WAIT_FOR_LOCK = "import fcntl, sys; fcntl.flock(open(sys.argv[1], 'w'), fcntl.LOCK_EX)"


def state_of(pid):
    """The process's state letter in /proc (T: stopped)."""
    return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def a_lock_holder_is_never_left_paused(lock_path):
    """The wedge of two notebooks opened at once: a warm kernel paused while its cargo held a
    lock that the learner's busy kernel waited for, which kept it busy, which kept the other
    paused. Here the 'warm kernel' holds an flock for 1.5 s of its own running time, and the
    'learner's kernel' waits for it; the learner counts as busy for 4 s at least."""

    class Log:
        def info(self, *args):
            pass

        warning = error = info

    problems = []
    pool = heat_kernel_pool.KernelPool(1, Log())
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
        waited = time.monotonic() - started
        if waiter.poll() is None:
            problems.append(
                "a learner's kernel waiting for a lock that a paused warm kernel holds "
                "was still waiting after 15 s: the pool paused the lock's holder"
            )
        elif waited > 5:
            problems.append(f"the learner's kernel waited {waited:.1f} s for a lock held for 1.5 s")
        await asyncio.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
        if state_of(holder.pid) != "T":
            problems.append("a starting kernel holding no lock was not paused while a kernel was busy")
        if not problems:
            print(
                f"0. a lock's holder is never left paused: the waiting kernel got the lock after {waited:.1f} s, "
                "and the holder was paused again once it held none",
                flush=True,
            )
    finally:
        kernel.handed_over = True
        waiter.kill()
        holder.kill()
        await tending
    return problems


def settings_are_bounded():
    class Log:
        def __init__(self):
            self.errors = []

        def error(self, message, *args):
            self.errors.append(message % args)

    problems = []
    log = Log()
    os.environ["HEAT_KERNEL_POOL"] = "30"
    if heat_kernel_pool.pool_size_setting(log) != heat_kernel_pool.MAX_POOL or not log.errors:
        problems.append("HEAT_KERNEL_POOL=30 was not bounded to 4 kernels with a message")
    root = ROOT / "target" / "kernel-pool" / "root"
    for chosen, expected in [("heat-accel-notebooks", root / "heat-accel-notebooks"), ("../../..", root), ("", root)]:
        os.environ["HEAT_KERNEL_POOL_DIR"] = chosen
        folder = heat_kernel_pool.pool_folder_setting(str(root.resolve()), log)
        if folder != str(expected.resolve()) or not os.path.isdir(folder):
            problems.append(f"HEAT_KERNEL_POOL_DIR={chosen!r} gave {folder}, not {expected}")
    del os.environ["HEAT_KERNEL_POOL"], os.environ["HEAT_KERNEL_POOL_DIR"]
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=18890)
    args = parser.parse_args()
    out = ROOT / "target" / "kernel-pool"
    out.mkdir(parents=True, exist_ok=True)
    (out / "root").mkdir(exist_ok=True)
    problems = asyncio.run(a_lock_holder_is_never_left_paused(str(out / "lock")))
    problems += settings_are_bounded()
    server = Server(args.port, out / "jupyterlab.log")
    step = "the pool's first kernel"
    try:
        server.wait_for_log(r"warm kernel \(pid \d+\) ready after", 300)
        # 1. A notebook opens on the kernel started ahead.
        mark = len(server.logged())
        session = server.api(
            "POST",
            "/api/sessions",
            {"path": "01-compiled-interpreted-jit.ipynb", "type": "notebook", "kernel": {"name": "rust-heatlib"}},
        )
        kernel_id = session["kernel"]["id"]
        taken = server.wait_for_log(r"took a warm kernel \(pid (\d+), ready", 30, after=mark)
        first = connection_of(kernel_id)
        client = client_for(first)
        _, bundles, _ = execute(client, FIRST_HEATMAP, 120)
        if not any("image/png" in bundle for bundle in bundles):
            problems.append("the pool's kernel drew no heatmap")
        print(f"1. the session took the pool's kernel (pid {taken.group(1)}) and drew a heatmap", flush=True)

        # 2. It dies; the server restarts it cold, on the same ports and key.
        step = "the notebook's connection after its kernel died and was restarted"
        mark = len(server.logged())
        os.killpg(int(taken.group(1)), signal.SIGKILL)
        server.wait_for_log(r"KernelRestarter: restarting kernel", 60, after=mark)
        _, _, text = execute(client, 'println!("{}", 6 * 7);', 120)
        after_death = connection_of(kernel_id)
        if any(after_death[name] != first[name] for name in PORTS) or after_death["key"] != first["key"]:
            problems.append("after the kernel died, the server's restart changed its ports or key")
        if "42" not in text:
            problems.append(f"after the kernel died, the notebook's connection ran a cell that printed {text!r}")
        if "took a warm kernel" in server.logged()[mark:]:
            problems.append("a kernel that died was replaced from the pool (its ports change under the notebook)")
        print("2. killed, restarted cold on the same ports and key; the same connection ran a cell", flush=True)
        client.stop_channels()

        # 3. A restart asked for takes the pool's next kernel.
        step = "a client of the kernel after a restart asked for"
        server.wait_for_log(r"warm kernel \(pid \d+\) ready after", 300, after=mark)
        mark = len(server.logged())
        server.api("POST", f"/api/kernels/{kernel_id}/restart")
        server.wait_for_log(r"took a warm kernel", 30, after=mark)
        restarted = connection_of(kernel_id)
        if all(restarted[name] == after_death[name] for name in PORTS):
            problems.append("the restart asked for kept the old ports: it did not take the pool's kernel")
        client = client_for(restarted)
        _, _, text = execute(client, 'println!("{}", 6 * 7);', 120)
        client.stop_channels()
        if "42" not in text:
            problems.append(f"after a restart asked for, a cell printed {text!r}")
        print("3. a restart asked for took the pool's next kernel, which runs cells", flush=True)
        server.api("DELETE", f"/api/sessions/{session['id']}")
    except TimeoutError as error:
        problems.append(str(error))
    except Empty:
        problems.append(f"{step}: no answer from the kernel in 120 s")
    finally:
        stopping = server.stop()
    problems += stopping
    if not stopping:
        print("4. Ctrl-C stopped the server, and no kernel of the pool is left", flush=True)
    return report("kernel_pool", problems)


if __name__ == "__main__":
    sys.exit(main())
