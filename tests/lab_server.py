"""A JupyterLab server of the project's .venv for a test, as a learner starts it: its own
process group, a token, the kernel pool on; its REST API, its log, and Ctrl-C to stop it.

Used by tests/test_kernel_pool.py and tests/test_two_notebooks_at_once.py; test_lab_in_browser.py
starts its server with the README's command instead, and stops it with `stop_with_ctrl_c`.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import time
import urllib.request

from jupyter_client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir
from memory_breakdown import children_of, processes, tree

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOKEN = "kernel-pool-test"


class Server:
    """`jupyter lab` on 127.0.0.1:`port`, serving notebooks/, its output in `log_path`."""

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
        """Ctrl-C, as a learner stops it; returns what went wrong (`stop_with_ctrl_c`)."""
        return stop_with_ctrl_c(self.process)


def connection_of(kernel_id):
    """The connection file the server wrote for its kernel `kernel_id`: ports and key."""
    return json.loads((pathlib.Path(jupyter_runtime_dir()) / f"kernel-{kernel_id}.json").read_text())


def client_for(info):
    """A started client of the kernel at `info`, once it answers."""
    client = BlockingKernelClient()
    client.load_connection_info(info)
    client.start_channels()
    client.wait_for_ready(timeout=300)
    return client


def kernels_started_by(pid):
    """The Rust kernels (evcxr_jupyter with a connection file) among the descendants of `pid`."""
    return [child for child, row in processes(tree(pid, children_of())).items() if row.kernel]


def state_of(pid):
    """The process's state letter in /proc (T: stopped, Z: ended, its exit status not yet read),
    or None once it is gone."""
    try:
        return (pathlib.Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid):
    return state_of(pid) not in (None, "Z")


def stop_with_ctrl_c(process):
    """Stops JupyterLab, started in a process group of its own, as a learner does: Ctrl-C twice
    (it asks to confirm the first). Returns what went wrong: a server still running 30 s later
    (it is then killed), or a kernel it started (the pool's, or one started cold) left running
    5 s after it stopped. Without a terminal, Ctrl-C ends the server without shutting its
    kernels down, so this is what a learner's script or IDE would see."""
    kernels = kernels_started_by(process.pid)
    for _ in range(2):
        try:
            os.killpg(process.pid, signal.SIGINT)
        except ProcessLookupError:
            break
        time.sleep(1)
    problems = []
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        problems.append("JupyterLab did not stop within 30 s of Ctrl-C")
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in kernels) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in kernels if alive(pid)]
    if left:
        problems.append(f"kernels the server started outlived it: processes {left}")
        for pid in left:
            try:
                os.killpg(pid, signal.SIGKILL)  # each kernel leads a process group of its own
            except ProcessLookupError:
                pass
    return problems
