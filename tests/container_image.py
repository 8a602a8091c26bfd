"""The tutorial's image, built with podman and run: its JupyterLab, the doctor inside it, its memory limit.

    sudo .venv/bin/python tests/container_image.py [--base IMAGE] [--port 18899] [--keep]

What a learner on macOS or Windows does with Docker, checked with podman (no Docker engine runs
on our machines):
1. The base. By default a stand-in for the official Rust image, built from Debian's packages and
   this machine's toolchain (kernel-setup/container/base-from-debian.sh), since our machines reach
   no container registry. It carries this machine's evcxr_jupyter, which set-up built earlier in
   the same run, so the image's set-up does not build it a second time. `--base IMAGE` builds on
   another base instead, e.g. docker.io/library/rust:1.95-bookworm where a registry is reachable.
   A base made by the same recipe less than a week ago is kept (base-from-debian.sh says why).
2. `podman build` of kernel-setup/container/Containerfile, as its header says. podman keeps the
   layers of the last build: on the same base, a change to the notebooks, docs or tests builds
   only the last layer again, a change to heatlib or set-up the set-up's, and new Python locks
   all of it but the Debian packages.
3. `podman run` of the image's own command, the port published on 127.0.0.1 and the notebooks on
   a volume, as the instructor guide tells learners. Then: the link it prints; the lab page with
   the token (200) and without (403); the server runs as jovyan (uid 1000), not root; the volume
   holds a copy of the notebooks that jovyan can write to; the doctor inside the container passes
   (a kernel, heatlib, a heatmap, OpenCL, the kernel's speed). And under `--memory 1g` (a Hub's
   per-learner limit), a run that does not fit is refused with heatlib's message, not killed,
   and one that fits runs. Notebooks run in this image's JupyterLab in headless Chromium in
   tests/hub_class.py, which starts each learner's server from it (notebook 01, two learners).
4. `podman stop`: the server stops on SIGTERM within 30 s, exit status 0.
Needs root (debootstrap and podman as root); installs podman, runc and debootstrap if missing.
"""

import argparse
import json
import os
import pathlib
import secrets
import subprocess
import sys
import time

from lab_in_browser import page_of, reachable, wait_for
from script_outcome import report
from site_check import status

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTAINER = ROOT / "kernel-setup" / "container"
IMAGE = "localhost/heat-accel:test"
LOCAL_BASE = "localhost/heat-accel-base:bookworm"
# podman's settings for machines like CI's (why: containers.conf).
ENV = {**os.environ, "CONTAINERS_CONF": str(CONTAINER / "containers.conf")}


def step(what, command, env=None):
    """Runs `command`, printing its output as it comes; returns the seconds it took."""
    print(f"\n--- {what}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env={**ENV, **(env or {})}, check=True)
    return time.perf_counter() - started


def podman(*arguments):
    return subprocess.run(["podman", *arguments], env=ENV, check=True, capture_output=True, text=True).stdout.strip()


def memory_limit_is_respected():
    """A run too big for the container's memory limit (a Hub's per-learner limit) is refused with
    heatlib's message instead of being killed; one that fits still runs."""
    problems = []
    limited = ["podman", "run", "--rm", "--memory", "1g", "--memory-swap", "1g", IMAGE, "heat", "run", "--nt", "2"]
    too_big = subprocess.run(
        limited + ["--nx", "9000", "--out", "/tmp/big.npy"], env=ENV, capture_output=True, text=True, timeout=300
    )
    print(
        f"\n--- under --memory 1g, a run of 2 x 648 MB fields: exit {too_big.returncode}: {too_big.stderr.strip()}",
        flush=True,
    )
    if too_big.returncode != 1 or "is available" not in too_big.stderr:
        problems.append(
            f"under --memory 1g a run of 1.3 GB was not refused with heatlib's message "
            f"(exit {too_big.returncode}): {too_big.stderr.strip()[-300:]}"
        )
    fits = subprocess.run(
        limited + ["--nx", "2000", "--out", "/tmp/fits.npy"], env=ENV, capture_output=True, text=True, timeout=300
    )
    if fits.returncode != 0:
        problems.append(f"under --memory 1g a run of 64 MB failed (exit {fits.returncode}): {fits.stderr.strip()}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help=f"the image to build on (default: {LOCAL_BASE}, built here from Debian)")
    parser.add_argument("--port", type=int, default=18899)
    parser.add_argument("--keep", action="store_true", help="leave the container running afterwards, to look at it")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit(
            "container_image: needs root, for debootstrap and podman: sudo .venv/bin/python "
            "tests/container_image.py (tests/run.sh does this itself)"
        )
    seconds = {}
    subprocess.run(["bash", "kernel-setup/debian-packages.sh", "--with-container"], cwd=ROOT, check=True)
    base = args.base
    if base is None:
        base = LOCAL_BASE
        seconds["base"] = step(
            "the base image, from Debian's packages and this machine's toolchain",
            ["bash", str(CONTAINER / "base-from-debian.sh"), base],
            env={"HEAT_BASE_WITH_EVCXR": "1"},
        )
    seconds["build"] = step(
        "the image",
        [
            "podman",
            "build",
            "--isolation",
            "chroot",
            "--build-arg",
            f"BASE={base}",
            "-f",
            str(CONTAINER / "Containerfile"),
            "-t",
            IMAGE,
            ".",
        ],
    )
    # Each build leaves its earlier image untagged: a few GB a time. (The layers of this one,
    # untagged too, stay: the next build starts from them.)
    subprocess.run(["podman", "image", "prune", "-f"], env=ENV, capture_output=True)
    size_gb = int(json.loads(podman("image", "inspect", IMAGE))[0]["Size"]) / 1e9

    name = f"heat-accel-test-{os.getpid()}"
    token = secrets.token_hex(24)
    problems = []
    started = time.perf_counter()
    # What the instructor guide tells a learner to run, with a known token instead of a printed one.
    volume = f"{name}-notebooks"
    podman(
        "run",
        "-d",
        "--name",
        name,
        "-p",
        f"127.0.0.1:{args.port}:8888",
        "-v",
        f"{volume}:/opt/heat-accel/notebooks",
        "-e",
        f"JUPYTER_TOKEN={token}",
        IMAGE,
    )
    try:
        url = f"http://127.0.0.1:{args.port}"
        link = f"{url}/lab?token={token}"
        try:
            wait_for("the container's JupyterLab answering", lambda: reachable(link), 120)
        except TimeoutError as error:
            raise SystemExit(f"container_image: {error}; its log:\n{podman('logs', name)}") from error
        seconds["lab answering"] = time.perf_counter() - started
        logs = subprocess.run(["podman", "logs", name], env=ENV, capture_output=True, text=True).stdout
        if f"http://127.0.0.1:8888/lab?token={token}" not in logs:
            problems.append("the image's command did not print the link to open")
        if "jupyter-config-data" not in page_of(link):
            problems.append("the lab page with the token is not JupyterLab")
        if status(f"{url}/api/contents") != 403:
            problems.append(f"a request without the token answered {status(f'{url}/api/contents')}, not 403")
        user = podman("exec", name, "id", "-un")
        if user != "jovyan":
            problems.append(f"the server runs as {user}, not jovyan")
        # The volume starts as a copy of the image's notebooks, and JupyterLab must be able to save there.
        saved = subprocess.run(
            [
                "podman",
                "exec",
                name,
                "bash",
                "-c",
                "ls /opt/heat-accel/notebooks/*.ipynb | wc -l && touch /opt/heat-accel/notebooks/.can-save",
            ],
            env=ENV,
            capture_output=True,
            text=True,
        )
        if saved.returncode != 0 or int(saved.stdout.split()[0]) < 6:
            problems.append(
                f"the notebooks volume is not a writable copy of the notebooks: {saved.stdout}{saved.stderr}"
            )
        try:
            seconds["doctor"] = step(
                "the doctor, inside the container",
                ["podman", "exec", name, "bash", "/opt/heat-accel/kernel-setup/setup.sh", "--doctor"],
            )
        except subprocess.CalledProcessError:
            problems.append("the doctor inside the container failed (its output is above)")
        problems += memory_limit_is_respected()
    finally:
        if not args.keep:
            stopping = time.perf_counter()
            subprocess.run(["podman", "stop", "-t", "30", name], env=ENV, capture_output=True)
            seconds["stop"] = time.perf_counter() - stopping
            exit_code = podman("inspect", name, "--format", "{{.State.ExitCode}}")
            subprocess.run(["podman", "rm", "-f", name], env=ENV, capture_output=True)
            subprocess.run(["podman", "volume", "rm", "-f", volume], env=ENV, capture_output=True)
            if seconds["stop"] > 25 or exit_code != "0":
                problems.append(f"the server took {seconds['stop']:.0f} s to stop and exited with {exit_code}")
    print(
        "\n" + ", ".join(f"{part} {value:.0f} s" for part, value in seconds.items()) + f"; image {size_gb:.1f} GB",
        flush=True,
    )
    return report("container_image", problems)


if __name__ == "__main__":
    sys.exit(main())
