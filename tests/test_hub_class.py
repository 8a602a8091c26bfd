"""A class on the one-machine JupyterHub (kernel-setup/hub/hub.sh), from the learners' side.

    sudo .venv/bin/python -m pytest tests/test_hub_class.py [--base IMAGE]

Starts the Hub as an instructor does, with two learners' accounts made from a list, on the
tutorial's image (the `image` fixture builds it, or finds its layers built). Then, through the
Hub's proxy only, in this order (each test goes on from where the one before left the class):
1. A name without an account cannot log in (with a learner's password, or any), a learner's
   name with another learner's password cannot either, and a stranger's sign-up waits for the
   instructor: it cannot log in.
2. Each learner logs in with headless Chromium, gets a server spawned from the image, finds the
   notebooks copied into their home, and runs notebook 01 in JupyterLab: every cell, no error
   output, its pictures (the checks of tests/browser.py), on the kernel the pool had started
   ahead for the notebooks' folder.
3. A learner cannot reach the other's server (its API, its files) nor the other's record in the
   Hub's API: 403 or 404. Each server mounts its learner's volume and no other.
4. Nothing is lost: a notebook a learner saved survives their server being stopped (as the idle
   culler stops it) and started again. Inside the server, a run past the learner's memory limit
   is refused with heatlib's message; the server killed anyway (as the OOM killer would) is
   started again, the notebook intact.
5. Ctrl-C ends the Hub and its learners' servers; the Hub started again on the same state still
   has the accounts and the notebook; --end-class removes the learners' volumes.
Figures (login to server ready, notebook run) go to target/hub-class/hub-class.json.
"""

import csv
import json
import pathlib
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import pytest
import requests
from browser import run_notebook, start_chromium, wait_for
from hub_accounts import Refused, log_in, post_form
from hub_harness import (
    Hub,
    api,
    clear_leftovers,
    learner_session,
    learners_containers,
    learners_volumes,
    server_ready,
    server_session,
    start_server,
)
from podman_image import ENV, ROOT, podman
from selenium.webdriver.common.by import By

pytestmark = [pytest.mark.container, pytest.mark.browser]

OUT = ROOT / "target" / "hub-class"
PORT = 18000
NOTEBOOK = "heat-accel-notebooks/01-compiled-interpreted-jit.ipynb"
LEARNERS = ["ada", "grace"]


@dataclass
class Lesson:
    """The class being taught: its Hub, the learners' accounts (name: password), its figures."""

    hub: Hub
    image: str
    state: pathlib.Path
    learners_file: pathlib.Path
    accounts: dict = field(repr=False)  # passwords: not printed by a failing assertion into a CI log
    figures: dict = field(default_factory=dict)

    def first_learner(self):
        return next(iter(self.accounts.items()))

    def start_hub(self):
        if self.hub.process.poll() is None:
            self.hub.stop()
        self.hub = Hub(self.image, PORT, self.state, self.learners_file, OUT / "hub.log")


@pytest.fixture(scope="module")
def lesson(image):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hub.log").write_text("")
    clear_leftovers(LEARNERS)
    with tempfile.TemporaryDirectory() as folder:
        state = pathlib.Path(folder) / "state"
        learners_file = pathlib.Path(folder) / "learners.txt"
        learners_file.write_text("# the class\n" + "\n".join(LEARNERS) + "\n")
        started = time.perf_counter()
        first_hub = Hub(image, PORT, state, learners_file, OUT / "hub.log")
        taught = Lesson(first_hub, image, state, learners_file, {}, {"hub up": time.perf_counter() - started})
        try:
            with open(state / "accounts.csv", newline="") as rows:
                taught.accounts = dict(csv.reader(rows))
            yield taught
        finally:
            for hub in {first_hub, taught.hub}:
                if hub.process.poll() is None:
                    hub.stop()
            clear_leftovers(LEARNERS)
        (OUT / "hub-class.json").write_text(json.dumps(taught.figures, indent=1))
        print(", ".join(f"{what} {seconds:.0f} s" for what, seconds in taught.figures.items()))


def test_the_accounts_are_the_list_readable_by_the_instructor_only(lesson):
    assert sorted(lesson.accounts) == LEARNERS
    assert (lesson.state / "accounts.csv").stat().st_mode & 0o077 == 0


def test_wrong_logins_are_refused(lesson):
    first, second = list(lesson.accounts)
    tries = [
        ("a name without an account, with a learner's password", "mallory", lesson.accounts[first]),
        ("a name without an account, with no password", "nobody", ""),
        ("a learner's name with another learner's password", first, lesson.accounts[second]),
    ]
    let_in = []
    for what, name, password in tries:
        try:
            log_in(lesson.hub.url, name, password)
            let_in.append(f"{what} logged in ({name})")
        except Refused:
            print(f"refused: {what}")
    assert not let_in, "\n".join(let_in)


def test_a_stranger_who_signs_up_waits_for_the_instructor(lesson):
    form = {
        "username": "eve",
        "signup_password": "a-long-passphrase-9",
        "signup_password_confirmation": "a-long-passphrase-9",
    }
    post_form(requests.Session(), lesson.hub.url, "/hub/signup", form)
    with pytest.raises(Refused):
        log_in(lesson.hub.url, "eve", "a-long-passphrase-9")


@pytest.mark.parametrize("name", LEARNERS)
def test_a_learner_logs_in_and_runs_notebook_01(lesson, name):
    """Logs in with Chromium, waits for the server, runs the notebook in JupyterLab, on the
    pool's warm kernel (started for the folder the notebooks were copied into)."""
    chromium = start_chromium()  # each learner's own browser
    try:
        problems = log_in_and_run(lesson, chromium, name)
    finally:
        chromium.quit()
    assert not problems, "\n".join(problems)
    logs = subprocess.run(["podman", "logs", f"jupyter-{name}"], env=ENV, capture_output=True, text=True)
    pool_lines = [line for line in (logs.stdout + logs.stderr).splitlines() if "heat-kernel-pool" in line]
    assert any("heat-kernel-pool: took a warm kernel" in line for line in pool_lines), pool_lines[-3:]


def log_in_and_run(lesson, chromium, name):
    started = time.perf_counter()
    chromium.get(f"{lesson.hub.url}/hub/login")
    chromium.find_element(By.ID, "username_input").send_keys(name)
    chromium.find_element(By.ID, "password_input").send_keys(lesson.accounts[name])
    chromium.find_element(By.ID, "login_submit").click()
    try:
        wait_for(f"{name}: JupyterLab after the login", lambda: f"/user/{name}/lab" in chromium.current_url, 600)
    except TimeoutError as error:
        chromium.save_screenshot(str(OUT / f"{name}-timeout.png"))
        return [str(error)]
    lesson.figures[f"{name} login to lab"] = time.perf_counter() - started
    started = time.perf_counter()
    problems = run_notebook(chromium, f"{lesson.hub.url}/user/{name}", "", NOTEBOOK, OUT)
    lesson.figures[f"{name} notebook 01"] = time.perf_counter() - started
    return problems


def test_a_learner_cannot_reach_another(lesson):
    first, second = list(lesson.accounts)
    running = learners_containers([second])
    assert running, f"{second} has no server: nothing to try to reach"
    session = learner_session(lesson.hub.url, first, lesson.accounts[first])
    reached = []
    for path in (
        f"/user/{second}/api/contents/heat-accel-notebooks",
        f"/user/{second}/files/heat-accel-notebooks/01-compiled-interpreted-jit.ipynb",
        f"/user/{second}/api/kernels",
        f"/hub/api/users/{second}",
    ):
        answer = api(session, lesson.hub.url, "GET", path)
        # A server asks the Hub whom a browser is (a redirect to its OAuth page), which refuses another learner.
        hops = 0
        while answer.status_code in (301, 302, 303) and hops < 6:
            answer = session.get(urljoin(answer.url, answer.headers["Location"]), timeout=60, allow_redirects=False)
            hops += 1
        print(f"{first} -> {path}: {answer.status_code}")
        if answer.status_code not in (403, 404):
            reached.append(f"{first} reached {path}: {answer.status_code}")
    assert not reached, "\n".join(reached)


def test_each_server_mounts_its_learner_volume_only(lesson):
    for name in lesson.accounts:
        mounts = podman("inspect", f"jupyter-{name}", "--format", "{{range .Mounts}}{{.Name}} {{end}}").split()
        assert mounts == [f"heat-accel-home-{name}"]


def notebook_kept(hub, name, password):
    """Whether the notebook the test below saved is there, as saved. (Called outside the
    assertions: pytest would print its arguments, the password among them.)"""
    session = server_session(hub, name, password)
    answer = api(session, hub, "GET", f"/user/{name}/api/contents/heat-accel-notebooks/kept.ipynb")
    return answer.status_code == 200 and answer.json()["content"]["metadata"].get("heat") == name


def test_a_saved_notebook_survives_the_server_stopped_and_started(lesson):
    name, password = lesson.first_learner()
    session = server_session(lesson.hub.url, name, password)
    content = {"cells": [], "metadata": {"heat": name}, "nbformat": 4, "nbformat_minor": 5}
    path = f"/user/{name}/api/contents/heat-accel-notebooks/kept.ipynb"
    saved = api(session, lesson.hub.url, "PUT", path, json={"type": "notebook", "content": content})
    assert saved.status_code in (200, 201), f"{name} could not save a notebook through the Hub"
    api(session, lesson.hub.url, "DELETE", f"/hub/api/users/{name}/server")
    wait_for(f"{name}'s server stopped", lambda: not learners_containers([name]), 120)
    start_server(lesson.hub.url, name, password)
    kept = notebook_kept(lesson.hub.url, name, password)
    assert kept, f"{name}'s saved notebook is gone"


def test_a_run_past_the_memory_limit_is_refused_with_heatlib_message(lesson):
    name, _ = lesson.first_learner()
    # 2 levels of 30000 x 30000 nodes are 14.4 GB, past the 5 GB limit: refused before allocating.
    run = ["heat", "run", "--nt", "2", "--nx", "30000", "--out", "/tmp/big.npy"]
    too_big = subprocess.run(
        ["podman", "exec", f"jupyter-{name}", *run], env=ENV, capture_output=True, text=True, timeout=300
    )
    print(f"{name}, a run past the limit: {too_big.stderr.strip()}")
    assert too_big.returncode == 1 and "is available" in too_big.stderr, too_big.stderr.strip()[-300:]


def test_a_killed_server_is_started_again_with_the_notebook_intact(lesson):
    """As the kernel's OOM killer kills one: the Hub notices (it polls every 30 s) and starts it
    again at the learner's next request."""
    name, password = lesson.first_learner()
    session = learner_session(lesson.hub.url, name, password)
    podman("kill", f"jupyter-{name}")
    wait_for(f"the Hub sees {name}'s killed server", lambda: not server_ready(session, lesson.hub.url, name), 120, 2)
    start_server(lesson.hub.url, name, password)
    kept = notebook_kept(lesson.hub.url, name, password)
    assert kept, f"{name}'s saved notebook is gone"


def test_ctrl_c_ends_the_hub_and_the_learners_servers(lesson):
    status = lesson.hub.stop()
    assert learners_containers(LEARNERS) == []
    assert status in (0, 130), lesson.hub.tail()


def test_the_hub_started_again_keeps_the_accounts_and_the_notebook(lesson):
    lesson.start_hub()
    name, password = lesson.first_learner()
    try:
        start_server(lesson.hub.url, name, password)
        kept = notebook_kept(lesson.hub.url, name, password)
        assert kept, f"{name}'s saved notebook is gone after the Hub was restarted"
    finally:
        lesson.hub.stop()


def test_end_class_removes_the_learners_volumes(lesson):
    ended = subprocess.run(
        ["bash", str(ROOT / "kernel-setup" / "hub" / "hub.sh"), "--end-class"],
        env={**ENV, "HEAT_HUB_STATE": str(lesson.state)},
        capture_output=True,
        text=True,
    )
    assert learners_volumes(LEARNERS) == [], ended.stdout + ended.stderr
