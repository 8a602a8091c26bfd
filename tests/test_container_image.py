"""The tutorial's image, run as the instructor guide tells learners: its JupyterLab, the doctor
inside it, its memory limit, its stop.

    sudo .venv/bin/python -m pytest tests/test_container_image.py [--base IMAGE]

The image is built first (the `image` fixture: tests/podman_image.py says how). Then `podman run`
of the image's own command, the port published on 127.0.0.1 and the notebooks on a volume, as
the instructor guide tells learners: the link it prints; the lab page with the token (200) and
without (403); the server runs as jovyan (uid 1000), not root; the volume holds a copy of the
notebooks that jovyan can write to; the doctor inside the container passes (a kernel, heatlib, a
heatmap, OpenCL, the kernel's speed). Under `--memory 1g` (a Hub's per-learner limit), a run
that does not fit is refused with heatlib's message, not killed, and one that fits runs. Last,
`podman stop`: the server stops on SIGTERM within 30 s, exit status 0. Notebooks run in this
image's JupyterLab in headless Chromium in tests/test_hub_class.py, which starts each learner's
server from it (notebook 01, two learners).
"""

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field

import pytest
from browser import page_of, reachable, status, wait_for
from podman_image import ENV, podman

pytestmark = pytest.mark.container

PORT = 18899


@dataclass
class Running:
    """The image's container, started as a learner starts it."""

    name: str
    base: str
    token: str = field(repr=False)  # not printed by a failing assertion into a CI log


@pytest.fixture(scope="module")
def container(image):
    name = f"heat-accel-test-{os.getpid()}"
    volume = f"{name}-notebooks"
    token = secrets.token_hex(24)
    # What the instructor guide tells a learner to run, with a known token instead of a printed one.
    started = time.perf_counter()
    podman(
        "run",
        "-d",
        "--name",
        name,
        "-p",
        f"127.0.0.1:{PORT}:8888",
        "-v",
        f"{volume}:/opt/heat-accel/notebooks",
        "-e",
        f"JUPYTER_TOKEN={token}",
        image,
        check=True,
    )
    try:
        base = f"http://127.0.0.1:{PORT}"
        try:
            wait_for("the container's JupyterLab answering", lambda: reachable(f"{base}/lab?token={token}"), 120)
        except TimeoutError as error:
            pytest.fail(f"{error}; its log:\n{podman('logs', name)}")
        print(f"the container's JupyterLab answered after {time.perf_counter() - started:.0f} s")
        yield Running(name, base, token)
    finally:
        podman("rm", "-f", name)
        podman("volume", "rm", "-f", volume)


# The assertions below hold no value with the token in it: pytest would print it.
def test_the_image_prints_the_link_to_open(container):
    logs = podman("logs", container.name)
    printed = f"http://127.0.0.1:8888/lab?token={container.token}" in logs
    assert printed, "the image's command did not print the link to open"


def test_the_link_opens_jupyterlab(container):
    is_jupyterlab = "jupyter-config-data" in page_of(f"{container.base}/lab?token={container.token}")
    assert is_jupyterlab, "the lab page with the token is not JupyterLab"


def test_a_request_without_the_token_is_refused(container):
    assert status(f"{container.base}/api/contents") == 403


def test_the_server_runs_as_jovyan(container):
    assert podman("exec", container.name, "id", "-un") == "jovyan"


def test_the_notebooks_volume_is_a_copy_jovyan_can_save_to(container):
    saved = subprocess.run(
        [
            "podman",
            "exec",
            container.name,
            "bash",
            "-c",
            "ls /opt/heat-accel/notebooks/*.ipynb | wc -l && touch /opt/heat-accel/notebooks/.can-save",
        ],
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert saved.returncode == 0, saved.stderr
    assert int(saved.stdout.split()[0]) >= 6, "fewer notebooks in the volume than the course has"


def test_the_doctor_passes_inside_the_container(container):
    """A kernel, heatlib, a heatmap, OpenCL, the kernel's speed; its output shows as it comes (-s)."""
    started = time.perf_counter()
    doctor = subprocess.run(
        ["podman", "exec", container.name, "bash", "/opt/heat-accel/kernel-setup/setup.sh", "--doctor"], env=ENV
    )
    print(f"the doctor inside the container: {time.perf_counter() - started:.0f} s")
    assert doctor.returncode == 0, "the doctor inside the container failed (its output is above)"


def heat_run_in_1_gb(image, nx):
    """`heat run` of 2 levels of nx x nx nodes in a container limited to 1 GB, as a Hub limits a learner."""
    command = ["podman", "run", "--rm", "--memory", "1g", "--memory-swap", "1g", image]
    command += ["heat", "run", "--nt", "2", "--nx", str(nx), "--out", "/tmp/out.npy"]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)


def test_a_run_past_the_memory_limit_is_refused_with_heatlib_message(image):
    too_big = heat_run_in_1_gb(image, 9000)  # 2 x 648 MB fields
    print(f"under --memory 1g, a run of 2 x 648 MB fields: exit {too_big.returncode}: {too_big.stderr.strip()}")
    assert too_big.returncode == 1 and "is available" in too_big.stderr, too_big.stderr.strip()[-300:]


def test_a_run_within_the_memory_limit_runs(image):
    fits = heat_run_in_1_gb(image, 2000)  # 64 MB
    assert fits.returncode == 0, fits.stderr.strip()


def test_the_server_stops_on_sigterm_within_30_s(container):
    stopping = time.perf_counter()
    podman("stop", "-t", "30", container.name)
    seconds = time.perf_counter() - stopping
    assert podman("inspect", container.name, "--format", "{{.State.ExitCode}}") == "0"
    assert seconds <= 25, f"the server took {seconds:.0f} s to stop"
