"""The load test through the one-machine Hub: N learners log in, get their servers, run notebook 3.

    sudo .venv/bin/python tests/load_test.py --hub [--learners 1,2,4,8] [--image localhost/heat-accel:test]

What tests/load_test.py measures on loose kernels, measured the way a class meets it: each learner
logs in through the Hub's proxy (a password login, as the login page posts it), asks for their
server (as the spawn page does), and once it is ready opens the notebook as JupyterLab opens it: a
session through the proxy (POST /user/NAME/api/sessions), whose kernel the server's pool hands
over, then the kernel's websocket through the proxy, every code cell sent in order. All N learners
start at the same moment. Recorded per learner:
- login to server ready: the login, the spawn from the image, the notebooks copied into the home;
- server ready to kernel ready: the session made and the kernel answering (the pool's warm kernel
  when it had one: `warm` says so, from the server's log);
- first heatmap and notebook done, from the kernel ready;
- memory of the whole server (its container's cgroup: anonymous and shared memory, not the page cache):
  the peak over the run, and idle at the end with the pool's next kernel started ahead; and by part
  (memory_breakdown.py: JupyterLab's server, the kernel, its variables, the compiler, Python, the
  pool's warm kernel), at the peak, each part's highest, and at rest;
- failures (a kernel died, a cell failed, the time limit) and refusals for memory.
Between rounds every learner's server is stopped, so each round starts from login.
With --runaway, one more learner's server spins on all the cores its limit gives it (a runaway
cell) through every round: how much a neighbour slows the class.
"""

import csv
import json
import pathlib
import subprocess
import tempfile
import threading
import time
import uuid

import websocket
from browser import wait_for
from hub_harness import (
    Hub,
    api,
    clear_leftovers,
    learner_session,
    learners_containers,
    server_ready,
    server_session,
    start_server,
)
from memory_breakdown import Breakdown, Together, parts_mb, processes
from podman_image import ENV, podman

NOTEBOOK_FOLDER = "heat-accel-notebooks"
REFUSED_FOR_MEMORY = " is available; "
ROOT = pathlib.Path(__file__).resolve().parent.parent
HUB_SH = ROOT / "kernel-setup" / "hub" / "hub.sh"
# A failed learner's server log goes here, as NAME.log.
SERVER_LOGS = ROOT / "target" / "load-test-hub"


class ServerMemory:
    """The memory a learner's container holds, from its cgroup (v1 or v2): what it cannot give back
    (anonymous memory: the kernels' arrays, the compiler's; and shared memory), apart from the page
    cache the machine drops under pressure (`podman stats` counts part of that too)."""

    def __init__(self, container):
        path = podman("inspect", container, "--format", "{{.State.CgroupPath}}").lstrip("/")
        unified = pathlib.Path("/sys/fs/cgroup") / path
        self.v2 = (unified / "memory.stat").exists()
        self.folder = unified if self.v2 else pathlib.Path("/sys/fs/cgroup/memory") / path
        self.stat = self.folder / "memory.stat"

    def pids(self):
        """The container's processes, from its cgroup and any below it."""
        found = []
        for listing in self.folder.rglob("cgroup.procs"):
            try:
                found.extend(int(line) for line in listing.read_text().split())
            except (OSError, ValueError):
                continue
        return found

    def held(self):
        """Bytes held, anonymous and shared (0 once the container is gone)."""
        try:
            stat = dict(line.split() for line in self.stat.read_text().splitlines())
            keys = ("anon", "shmem") if self.v2 else ("total_rss", "total_shmem")
            return sum(int(stat[key]) for key in keys)
        except (OSError, KeyError, ValueError):
            return 0


class Kernel:
    """A kernel's websocket through the Hub's proxy, as JupyterLab holds it."""

    def __init__(self, hub, name, session, kernel_id, seconds):
        cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies if f"/user/{name}/".startswith(c.path))
        url = hub.replace("http", "ws", 1) + f"/user/{name}/api/kernels/{kernel_id}/channels"
        self.session_id = uuid.uuid4().hex
        self.socket = websocket.create_connection(
            # The server answers the websocket's handshake once the kernel is up: a kernel still
            # starting (several learners per core) holds it for longer than a minute.
            f"{url}?session_id={self.session_id}",
            header=[f"Cookie: {cookies}"],
            timeout=seconds,
        )

    def send(self, msg_type, content):
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self.session_id, "username": "", "version": "5.3"}
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
        self.socket.send(json.dumps(message))
        return msg_id

    def messages_for(self, msg_id, deadline):
        """Every message answering `msg_id`, until its reply and the kernel idle again."""
        replied = idle = False
        while not (replied and idle):
            self.socket.settimeout(max(1.0, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError("the limit passed while a cell ran")
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            replied |= message["channel"] == "shell"
            idle |= kind == "status" and message["content"].get("execution_state") == "idle"
            yield kind, message["content"]

    def answers(self, deadline):
        """Waits for the kernel to answer kernel_info (it may still be starting)."""
        while True:
            msg_id = self.send("kernel_info_request", {})
            try:
                for _ in self.messages_for(msg_id, min(deadline, time.monotonic() + 10)):
                    pass
                return
            except (TimeoutError, websocket.WebSocketTimeoutException):
                if time.monotonic() > deadline:
                    raise

    def run(self, code, deadline):
        """Runs a cell; True when it showed a picture. A failed cell raises with its error."""
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        content.update(allow_stdin=False, stop_on_error=True)
        picture = False
        for kind, answer in self.messages_for(self.send("execute_request", content), deadline):
            if kind in ("display_data", "execute_result") and "image/png" in answer.get("data", {}):
                picture = True
            if kind == "error" or (kind == "execute_reply" and answer.get("status") == "error"):
                raise RuntimeError(f"{answer.get('ename')}: {answer.get('evalue')}")
        return picture


class HubLearner:
    def __init__(self, hub, name, password, notebook, cells, limit):
        self.hub, self.name, self.password = hub, name, password
        self.notebook, self.cells, self.limit = notebook, cells, limit
        self.result, self.memory, self.peak = {}, None, 0
        self.breakdown = Breakdown()

    def sample(self):
        """Bytes the learner's server holds now (0 before it is ready)."""
        if self.memory is None:
            return 0
        held = self.memory.held()
        self.peak = max(self.peak, held)
        self.breakdown.sample(held, processes(self.memory.pids()))
        return held

    def connect(self, session, kernel_id, deadline):
        """The kernel's websocket, once the kernel answers. The server drops the handshake when the
        kernel has not answered within its kernel_info_timeout (60 s), as happens to a kernel still
        starting with several learners per core; JupyterLab then connects again, and so does this."""
        self.result["reconnects"] = 0
        while True:
            try:
                kernel = Kernel(self.hub, self.name, session, kernel_id, deadline - time.monotonic())
                kernel.answers(deadline)
                return kernel
            except (websocket.WebSocketException, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                self.result["reconnects"] += 1
                time.sleep(1)

    def run(self, start):
        deadline = time.monotonic() + self.limit
        kernel = None
        try:
            session = learner_session(self.hub, self.name, self.password)
            asked = api(session, self.hub, "POST", f"/hub/api/users/{self.name}/server")
            if asked.status_code not in (201, 202):
                raise RuntimeError(f"the Hub did not start the server: {asked.status_code} {asked.text[:200]}")
            wait_for(f"{self.name}'s server", lambda: server_ready(session, self.hub, self.name), self.limit, step=0.5)
            ready = time.perf_counter()
            self.result["login_to_server_s"] = ready - start
            self.memory = ServerMemory(f"jupyter-{self.name}")
            session = server_session(self.hub, self.name, self.password)
            made = api(
                session,
                self.hub,
                "POST",
                f"/user/{self.name}/api/sessions",
                json={
                    "path": f"{NOTEBOOK_FOLDER}/{self.notebook}",
                    "name": self.notebook,
                    "type": "notebook",
                    "kernel": {"name": "rust-heatlib"},
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"no session: {made.status_code} {made.text[:200]}")
            kernel = self.connect(session, made.json()["kernel"]["id"], deadline)
            kernel_ready = time.perf_counter()
            self.result["server_to_kernel_s"] = kernel_ready - ready
            for number, code in enumerate(self.cells, 1):
                self.result["cell"] = number
                if kernel.run(code, deadline) and "first_heatmap_s" not in self.result:
                    self.result["first_heatmap_s"] = time.perf_counter() - kernel_ready
            self.result["done_s"] = time.perf_counter() - kernel_ready
            time.sleep(5)  # the pool's next kernel has started ahead by now; let the server settle
            self.result["idle_mb"] = self.memory.held() / 1e6
            self.result["parts_idle_mb"] = parts_mb(processes(self.memory.pids()))
        except Exception as error:  # a kernel that died, a cell that failed, the time limit
            where = f"code cell {self.result['cell']}: " if "cell" in self.result else ""
            said = f"{where}{type(error).__name__}: {str(error)[-300:]}"
            self.result["refused" if REFUSED_FOR_MEMORY in str(error) else "failed"] = said
        finally:
            self.result["peak_mb"] = self.peak / 1e6
            self.breakdown.record(self.result)
            logs = subprocess.run(["podman", "logs", f"jupyter-{self.name}"], env=ENV, capture_output=True, text=True)
            self.result["warm"] = "heat-kernel-pool: took a warm kernel" in logs.stdout + logs.stderr
            if "failed" in self.result:
                SERVER_LOGS.mkdir(parents=True, exist_ok=True)
                (SERVER_LOGS / f"{self.name}.log").write_text(logs.stdout + logs.stderr)
            if kernel is not None:
                kernel.socket.close()


def stop_servers(hub, accounts):
    for name, password in accounts.items():
        session = learner_session(hub, name, password)
        api(session, hub, "DELETE", f"/hub/api/users/{name}/server")
    wait_for("every learner's server stopped", lambda: not learners_containers(accounts), 300)


def round_of(hub, accounts, count, notebook, cells, limit):
    """Each learner's results, and the class's together (memory_breakdown.Together)."""
    names = list(accounts)[:count]
    learners = [HubLearner(hub, name, accounts[name], notebook, cells, limit) for name in names]
    together = Together()
    start = time.perf_counter()
    threads = [threading.Thread(target=learner.run, args=(start,)) for learner in learners]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        together.sample(sum(learner.sample() for learner in learners))
        time.sleep(0.5)
    stop_servers(hub, {name: accounts[name] for name in names})
    return [learner.result for learner in learners], together.figures()


def runaway_neighbour(hub, name, password):
    """A learner's server whose every core is busy for good, as a runaway cell keeps it: two
    endless processes, as many as the server's CPU limit allows to run at once."""
    start_server(hub, name, password)
    podman("exec", "-d", f"jupyter-{name}", "bash", "-c", "yes > /dev/null & yes > /dev/null & wait")


def through_the_hub(counts, notebook, cells, limit, image, port, log, measure, runaway=False, hub_options=()):
    """Runs each round on one Hub started for the largest class; `measure(label, results, together)`
    reports.
    With `runaway`, a further learner's server keeps its cores busy through every round."""
    with tempfile.TemporaryDirectory() as folder:
        state = pathlib.Path(folder) / "state"
        learners_file = pathlib.Path(folder) / "learners.txt"
        names = [f"learner{n:02}" for n in range(1, max(counts) + 1)] + (["neighbour"] if runaway else [])
        learners_file.write_text("".join(f"{name}\n" for name in names))
        clear_leftovers(names)
        hub = Hub(image, port, state, learners_file, log, hub_options)
        try:
            with open(state / "accounts.csv", newline="") as rows:
                accounts = dict(csv.reader(rows))
            neighbour = {"neighbour": accounts.pop("neighbour")} if runaway else {}
            for count in counts:
                for name, password in neighbour.items():
                    runaway_neighbour(hub.url, name, password)
                results, together = round_of(hub.url, accounts, count, notebook, cells, limit)
                stop_servers(hub.url, neighbour)
                measure(f"{count} beside a runaway" if runaway else count, results, together)
        finally:
            hub.stop()
            subprocess.run(
                [
                    "bash",
                    str(pathlib.Path(__file__).resolve().parent.parent / "kernel-setup/hub/hub.sh"),
                    "--end-class",
                ],
                env={**ENV, "HEAT_HUB_STATE": str(state)},
                capture_output=True,
            )
