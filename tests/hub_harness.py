"""The one-machine JupyterHub (kernel-setup/hub/hub.sh) driven as an instructor and learners
drive it, for tests/test_hub_class.py and tests/hub_load.py.

- `Hub(image, port, state, learners_file, log_path)`: hub.sh started with an instructor and the
  learners of a list, waited for until it says where it is; `stop()` is the instructor's Ctrl-C.
- `learner_session`, `server_session`: a learner logged in (requests), known to the Hub, and to
  their own server after its OAuth round trip; `api`: a request as JupyterLab makes it.
- `server_ready`, `start_server`: a learner's server, asked about and started.
- `learners_containers`, `learners_volumes`, `clear_leftovers`: what podman holds of learners.
"""

import os
import signal
import subprocess

from browser import wait_for
from hub_accounts import log_in
from podman_image import ENV, ROOT, podman


class Hub:
    """hub.sh running in a process group of its own, its output in a log."""

    def __init__(self, image, port, state, learners_file, log_path, hub_options=()):
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
            raise RuntimeError(f"hub.sh ended (exit {self.process.returncode}); its log:\n{self.tail()}")
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


def server_session(hub, name, password):
    """A learner's session that their own server knows too: its first answer is the OAuth round
    trip with the Hub, followed here as a browser follows it."""
    session = learner_session(hub, name, password)
    session.get(f"{hub}/user/{name}/lab", timeout=60)
    return session


def start_server(hub, name, password):
    session = learner_session(hub, name, password)
    api(session, hub, "POST", f"/hub/api/users/{name}/server")
    wait_for(f"{name}'s server started again", lambda: server_ready(session, hub, name), 300, step=1)
