"""The tutorial's image, built with podman for the tests (the `image` fixture of conftest.py),
and podman as the tests call it.

What a learner on macOS or Windows runs with Docker is checked with podman (no Docker engine runs
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
Needs root (debootstrap and podman as root); installs podman, runc and debootstrap if missing.
"""

import json
import os
import pathlib
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTAINER = ROOT / "kernel-setup" / "container"
IMAGE = "localhost/heat-accel:test"
LOCAL_BASE = "localhost/heat-accel-base:bookworm"
# podman's settings for machines like CI's (why: containers.conf).
ENV = {**os.environ, "CONTAINERS_CONF": str(CONTAINER / "containers.conf")}


def podman(*arguments, check=False):
    """podman's output, stripped; with `check`, a failure raises."""
    return subprocess.run(["podman", *arguments], env=ENV, check=check, capture_output=True, text=True).stdout.strip()


def step(what, command, env=None):
    """Runs `command`, printing its output as it comes; returns the seconds it took."""
    print(f"\n--- {what}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env={**ENV, **(env or {})}, check=True)
    return time.perf_counter() - started


def build_image(base=None):
    """Builds IMAGE on `base` (None: the stand-in from Debian's packages); returns IMAGE."""
    if os.geteuid() != 0:
        raise PermissionError(
            "building the image needs root, for debootstrap and podman: "
            "sudo .venv/bin/python -m pytest tests -m container (tests/run.sh does this itself)"
        )
    seconds = {}
    subprocess.run(["bash", "kernel-setup/debian-packages.sh", "--with-container"], cwd=ROOT, check=True)
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
    podman("image", "prune", "-f")
    size_gb = int(json.loads(podman("image", "inspect", IMAGE, check=True))[0]["Size"]) / 1e9
    print(", ".join(f"{part} {value:.0f} s" for part, value in seconds.items()) + f"; image {size_gb:.1f} GB")
    return IMAGE
