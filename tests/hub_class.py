"""A class on the one-machine JupyterHub (kernel-setup/hub/hub.sh), from the learners' side.

    sudo .venv/bin/python tests/hub_class.py [--image localhost/heat-accel:test] [--port 18000]

Starts the Hub as an instructor does, with two learners' accounts made from a list, on the image
tests/container_image.py built. Then, through the Hub's proxy only:
1. A name without an account cannot log in (with a learner's password, or any), a learner's
   name with another learner's password cannot either, and a stranger's sign-up waits for the
   instructor: it cannot log in.
2. Each learner logs in with headless Chromium, gets a server spawned from the image, finds the
   notebooks copied into their home, and runs notebook 01 in JupyterLab: every cell, no error
   output, its pictures (the checks of tests/lab_in_browser.py), on the kernel the pool had
   started ahead for the notebooks' folder.
3. A learner cannot reach the other's server (its API, its files) nor the other's record in the
   Hub's API: 403 or 404. Each server mounts its learner's volume and no other.
4. Nothing is lost: a notebook a learner saved survives their server being stopped (as the idle
   culler stops it) and started again, and the Hub being stopped and started again.
   Inside the server, a run past the learner's memory limit is refused with heatlib's message;
   the server killed anyway (as the OOM killer would) is started again, the notebook intact.
5. Ctrl-C ends the Hub and its learners' servers; --end-class removes the learners' volumes.
Figures (login to server ready, notebook run) go to target/hub-class/hub-class.json.
Needs root (podman); the image must exist (tests/run.sh builds it first).
"""

import argparse
import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urljoin

import requests
from container_image import ENV, IMAGE
from hub_accounts import Refused, log_in, post_form
from lab_in_browser import run_all, wait_for
from script_outcome import report
from selenium.webdriver.common.by import By
from site_check import browser

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "hub-class"
NOTEBOOK = "heat-accel-notebooks/01-compiled-interpreted-jit.ipynb"
LEARNERS = ["ada", "grace"]


class Hub:
    """hub.sh running in a process group of its own, its output in a log."""

    def __init__(self, image, port, state, learners_file, log_path=OUT / "hub.log", hub_options=()):
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        command = [
            "bash",
            str(ROOT / "kernel-setup" / "hub" / "hub.sh"),
            "--instructor",
            "teacher",
            "--learners",
            str(learners_file),
            "--port",
            str(port),
            "--image",
            image,
            *hub_options,
        ]
        # This start's own lines: a Hub started again on the same log must not see the first's.
        self.log_from = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "a")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            command,
            env={**ENV, "HEAT_HUB_STATE": str(state)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for("the Hub up, with its accounts", self.started, 900, step=1)
        except TimeoutError:
            self.stop()
            raise

    def started(self):
        if self.process.poll() is not None:
            raise SystemExit(f"hub_class: hub.sh ended (exit {self.process.returncode}); its log:\n{self.tail()}")
        return b"The Hub is at" in self.log_path.read_bytes()[self.log_from :]

    def tail(self):
        return "\n".join(self.log_path.read_text().splitlines()[-40:])

    def stop(self):
        """Ctrl-C, as the instructor ends the class; returns hub.sh's exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()
        finally:
            self.log.close()


def podman(*arguments):
    return subprocess.run(["podman", *arguments], env=ENV, capture_output=True, text=True).stdout.strip()


def learners_containers(names):
    """The IDs of these learners' server containers (DockerSpawner names them jupyter-NAME)."""
    if not names:
        return []
    return podman("ps", "-a", "-q", "--filter", f"name=^jupyter-({'|'.join(names)})$").split()


def learners_volumes(names):
    """These learners' home volumes (heat-accel-home-NAME) that exist."""
    homes = {f"heat-accel-home-{name}" for name in names}
    return sorted(homes & set(podman("volume", "ls", "--format", "{{.Name}}").split()))


def clear_leftovers(names):
    """Removes what a run killed before its end (a machine restarted mid-test) left of these
    learners, so that this run starts from nothing and judges only what it made itself."""
    containers, volumes = learners_containers(names), learners_volumes(names)
    if containers:
        podman("rm", "-f", *containers)
    if volumes:
        podman("volume", "rm", "-f", *volumes)
    if containers or volumes:
        print(f"removed what an interrupted run left: {len(containers)} containers, volumes {volumes}", flush=True)


def api(session, hub, method, path, **kwargs):
    """A request to the Hub's or a server's API with the session's login cookie, as JupyterLab
    makes it (the _xsrf cookie echoed in a header)."""
    # The Hub and each server set an _xsrf cookie of their own, each on its own path.
    cookies = [cookie for cookie in session.cookies if cookie.name == "_xsrf" and path.startswith(cookie.path)]
    cookie = max(cookies, key=lambda cookie: len(cookie.path), default=None)
    headers = {"X-XSRFToken": cookie.value if cookie else ""}
    return session.request(method, f"{hub}{path}", headers=headers, timeout=60, allow_redirects=False, **kwargs)


def learner_session(hub, name, password):
    """Logged in as `name`, with the Hub's _xsrf cookie of the logged-in session (the Hub sets it
    on the first page after the login, as a browser sees it)."""
    session = log_in(hub, name, password)
    session.get(f"{hub}/hub/home", timeout=60)
    return session


def server_ready(session, hub, name):
    answer = api(session, hub, "GET", f"/hub/api/users/{name}")
    return answer.status_code == 200 and answer.json().get("servers", {}).get("", {}).get("ready")


def logins_fail_closed(hub, accounts, problems):
    names = list(accounts)
    tries = [
        ("a name without an account, with a learner's password", "mallory", accounts[names[0]]),
        ("a name without an account, with no password", "nobody", ""),
        ("a learner's name with another learner's password", names[0], accounts[names[1]]),
    ]
    for what, name, password in tries:
        try:
            log_in(hub, name, password)
            problems.append(f"{what} logged in ({name})")
        except Refused:
            print(f"refused: {what}", flush=True)
    stranger = post_form(
        requests.Session(),
        hub,
        "/hub/signup",
        {
            "username": "eve",
            "signup_password": "a-long-passphrase-9",
            "signup_password_confirmation": "a-long-passphrase-9",
        },
    )
    try:
        log_in(hub, "eve", "a-long-passphrase-9")
        problems.append("a stranger who signed up logged in without the instructor's authorization")
    except Refused:
        print(
            f"refused: a stranger's sign-up (answer {stranger.status_code}) until the instructor authorizes it",
            flush=True,
        )


def learner_runs_notebook(hub, name, password, figures, problems):
    """Logs in with Chromium, waits for the server, runs the notebook in JupyterLab."""
    driver = browser()
    try:
        started = time.perf_counter()
        driver.get(f"{hub}/hub/login")
        driver.find_element(By.ID, "username_input").send_keys(name)
        driver.find_element(By.ID, "password_input").send_keys(password)
        driver.find_element(By.ID, "login_submit").click()
        wait_for(f"{name}: JupyterLab after the login", lambda: f"/user/{name}/lab" in driver.current_url, 600)
        figures[f"{name} login to lab"] = time.perf_counter() - started
        started = time.perf_counter()
        problems += run_all(driver, f"{hub}/user/{name}", "", NOTEBOOK, OUT)
        figures[f"{name} notebook 01"] = time.perf_counter() - started
        # The kernel pool under the Hub: started for the folder the notebooks were copied into.
        logs = subprocess.run(["podman", "logs", f"jupyter-{name}"], env=ENV, capture_output=True, text=True)
        server_log = logs.stdout + logs.stderr
        if "heat-kernel-pool: took a warm kernel" not in server_log:
            pool_lines = [line for line in server_log.splitlines() if "heat-kernel-pool" in line]
            problems.append(f"{name}'s notebook did not open on the pool's warm kernel: {pool_lines[-3:]}")
    except TimeoutError as error:
        OUT.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(OUT / f"{name}-timeout.png"))
        problems.append(str(error))
    finally:
        driver.quit()


def learners_are_apart(hub, accounts, problems):
    first, second = list(accounts)
    session = learner_session(hub, first, accounts[first])
    for path in (
        f"/user/{second}/api/contents/heat-accel-notebooks",
        f"/user/{second}/files/heat-accel-notebooks/01-compiled-interpreted-jit.ipynb",
        f"/user/{second}/api/kernels",
        f"/hub/api/users/{second}",
    ):
        answer = api(session, hub, "GET", path)
        # A server asks the Hub whom a browser is (a redirect to its OAuth page), which refuses another learner.
        hops = 0
        while answer.status_code in (301, 302, 303) and hops < 6:
            answer = session.get(urljoin(answer.url, answer.headers["Location"]), timeout=60, allow_redirects=False)
            hops += 1
        if answer.status_code not in (403, 404):
            problems.append(f"{first} reached {path}: {answer.status_code}")
        else:
            print(f"{first} -> {path}: {answer.status_code}", flush=True)
    for name in accounts:
        mounts = podman("inspect", f"jupyter-{name}", "--format", "{{range .Mounts}}{{.Name}} {{end}}").split()
        if mounts != [f"heat-accel-home-{name}"]:
            problems.append(f"{name}'s server mounts {mounts}, not only heat-accel-home-{name}")


def server_session(hub, name, password):
    """A learner's session that their own server knows too: its first answer is the OAuth round
    trip with the Hub, followed here as a browser follows it."""
    session = learner_session(hub, name, password)
    session.get(f"{hub}/user/{name}/lab", timeout=60)
    return session


def save_a_notebook(hub, name, password):
    session = server_session(hub, name, password)
    content = {"cells": [], "metadata": {"heat": name}, "nbformat": 4, "nbformat_minor": 5}
    path = f"/user/{name}/api/contents/heat-accel-notebooks/kept.ipynb"
    answer = api(session, hub, "PUT", path, json={"type": "notebook", "content": content})
    return session, answer.status_code


def notebook_kept(hub, name, password):
    session = server_session(hub, name, password)
    answer = api(session, hub, "GET", f"/user/{name}/api/contents/heat-accel-notebooks/kept.ipynb")
    return answer.status_code == 200 and answer.json()["content"]["metadata"].get("heat") == name


def start_server(hub, name, password):
    session = learner_session(hub, name, password)
    api(session, hub, "POST", f"/hub/api/users/{name}/server")
    wait_for(f"{name}'s server started again", lambda: server_ready(session, hub, name), 300, step=1)


def nothing_lost(hub, accounts, problems):
    name, password = next(iter(accounts.items()))
    session, saved = save_a_notebook(hub, name, password)
    if saved not in (200, 201):
        problems.append(f"{name} could not save a notebook through the Hub: {saved}")
        return
    api(session, hub, "DELETE", f"/hub/api/users/{name}/server")
    wait_for(f"{name}'s server stopped", lambda: not learners_containers([name]), 120)
    start_server(hub, name, password)
    if not notebook_kept(hub, name, password):
        problems.append(f"{name}'s saved notebook is gone after their server was stopped and started again")
    else:
        print(f"{name}'s saved notebook survived their server stopped and started again", flush=True)


def past_the_memory_limit(hub, accounts, problems):
    """Inside a learner's server, a run too big for their memory limit is refused with heatlib's
    message; a server killed anyway (as the kernel's OOM killer kills one) is noticed by the Hub
    and started again at the learner's next request, their saved notebook intact."""
    name, password = next(iter(accounts.items()))
    # 2 levels of 30000 x 30000 nodes are 14.4 GB, past the 5 GB limit: refused before allocating.
    run = ["heat", "run", "--nt", "2", "--nx", "30000", "--out", "/tmp/big.npy"]
    too_big = subprocess.run(
        ["podman", "exec", f"jupyter-{name}", *run], env=ENV, capture_output=True, text=True, timeout=300
    )
    if too_big.returncode != 1 or "is available" not in too_big.stderr:
        problems.append(
            f"in {name}'s server a run past the memory limit was not refused with heatlib's message "
            f"(exit {too_big.returncode}): {too_big.stderr.strip()[-300:]}"
        )
    else:
        print(f"{name}, a run past the limit: {too_big.stderr.strip()}", flush=True)
    session = learner_session(hub, name, password)
    podman("kill", f"jupyter-{name}")
    # The Hub polls its servers (every 30 s), so it sees the killed one within a minute.
    try:
        wait_for(f"the Hub sees {name}'s killed server", lambda: not server_ready(session, hub, name), 120, step=2)
    except TimeoutError as error:
        problems.append(str(error))
        return
    start_server(hub, name, password)
    if not notebook_kept(hub, name, password):
        problems.append(f"{name}'s saved notebook is gone after their server was killed and started again")
    else:
        print(f"{name}'s saved notebook survived their server killed and started again", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=IMAGE)
    parser.add_argument("--port", type=int, default=18000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("hub_class: needs root, for podman: sudo .venv/bin/python tests/hub_class.py")
    if subprocess.run(["podman", "image", "exists", args.image], env=ENV).returncode != 0:
        return report("hub_class", [f"no image {args.image}: tests/container_image.py builds it"])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hub.log").write_text("")
    clear_leftovers(LEARNERS)
    problems, figures = [], {}
    with tempfile.TemporaryDirectory() as folder:
        state = pathlib.Path(folder) / "state"
        learners_file = pathlib.Path(folder) / "learners.txt"
        learners_file.write_text("# the class\n" + "\n".join(LEARNERS) + "\n")
        started = time.perf_counter()
        hub = Hub(args.image, args.port, state, learners_file)
        figures["hub up"] = time.perf_counter() - started
        try:
            with open(state / "accounts.csv", newline="") as rows:
                accounts = dict(csv.reader(rows))
            if sorted(accounts) != LEARNERS:
                problems.append(f"accounts.csv holds {sorted(accounts)}, not {LEARNERS}")
            if (state / "accounts.csv").stat().st_mode & 0o077:
                problems.append("accounts.csv can be read by others than its owner")
            logins_fail_closed(hub.url, accounts, problems)
            for name, password in accounts.items():
                learner_runs_notebook(hub.url, name, password, figures, problems)
            learners_are_apart(hub.url, accounts, problems)
            nothing_lost(hub.url, accounts, problems)
            past_the_memory_limit(hub.url, accounts, problems)
        finally:
            status = hub.stop()
        left = learners_containers(LEARNERS)
        if left:
            problems.append(f"learners' containers left after the Hub ended: {left}")
        if status not in (0, 130):
            problems.append(f"hub.sh ended with exit status {status}: {hub.tail()}")
        # The Hub again, on the same state: the accounts and the saved notebook are still there.
        hub = Hub(args.image, args.port, state, learners_file)
        try:
            name, password = next(iter(accounts.items()))
            start_server(hub.url, name, password)
            if not notebook_kept(hub.url, name, password):
                problems.append(f"{name}'s saved notebook is gone after the Hub was restarted")
            else:
                print(f"{name}'s saved notebook survived the Hub stopped and started again", flush=True)
        finally:
            hub.stop()
        ended = subprocess.run(
            ["bash", str(ROOT / "kernel-setup" / "hub" / "hub.sh"), "--end-class"],
            env={**ENV, "HEAT_HUB_STATE": str(state)},
            capture_output=True,
            text=True,
        )
        if learners_volumes(LEARNERS):
            problems.append(f"--end-class left the learners' volumes: {ended.stdout}{ended.stderr}")
    (OUT / "hub-class.json").write_text(json.dumps(figures, indent=1))
    print(", ".join(f"{what} {seconds:.0f} s" for what, seconds in figures.items()), flush=True)
    if problems:
        print(hub.tail())
    return report("hub_class", problems)


if __name__ == "__main__":
    sys.exit(main())
