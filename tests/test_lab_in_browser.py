"""The README's first command, then notebooks 01-04 run through JupyterLab in headless Chromium.

    .venv/bin/python -m pytest tests/test_lab_in_browser.py [--without-opencl] [-k 03-heat-flow]

What a learner does, checked:
- `bash kernel-setup/setup.sh --port 18888` (the README's command; set-up is already done, so it
  skips to JupyterLab, as root too) prints a link with a token; the lab page loads with it, and
  the server refuses a request without it (HTTP 403). The token is in no process's command
  line (which any user can read through ps), JupyterLab's nor its kernels', nor in a kernel's
  environment.
- Chromium opens each notebook from that link, chooses Run > Run All Cells, and waits until every
  code cell has an execution count. Then: no error output (the only text on stderr allowed is
  evcxr's note that a redefined variable was dropped), every picture displayed (complete,
  natural width > 0, at least as many as the notebook's test run showed), the comparison
  tables present where the notebook has them, no news or update prompt on the page.
  Notebook 01 is then run again through Kernel > Restart Kernel and Run All Cells (the kernel
  pool hands over the new kernel), and checked the same way. Screenshots go to target/lab-check/.
  A run that never ends is reported with what the page showed, the end of JupyterLab's log and
  what the kernels' processes were doing (`kernel_processes`).
- With --without-opencl, on a machine with no OpenCL driver (OCL_ICD_VENDORS pointing at an
  empty folder, as on a laptop without one): the same, and notebook 03 says that it left the
  opencl stage out instead of failing.
- The server stops cleanly on SIGINT (Ctrl-C), as the README says, and no kernel it started
  (the pool's, or one started cold) is left running.
"""

import os
import pathlib
import re
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field

import pytest
from browser import page_of, reachable, run_notebook, status, wait_for
from lab_server import stop_with_ctrl_c

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ["01-compiled-interpreted-jit.ipynb", "02-vectorization.ipynb", "03-heat-flow.ipynb", "04-gpu-opencl.ipynb"]
PORT = 18888
SHOTS = ROOT / "target" / "lab-check"
# What notebook 03 prints for a stage this machine cannot run.
LEFT_OUT = "opencl is left out on this machine"


@dataclass
class Lab:
    """JupyterLab as the README's command started it."""

    process: subprocess.Popen
    base: str
    # Kept out of the repr, so that a failing assertion does not print them into a CI log.
    link: str = field(repr=False)
    token: str = field(repr=False)
    log: pathlib.Path
    without_opencl: bool


def wait_for_link(process, log):
    """The link the README's command prints, with its token; (link, token)."""
    pattern = re.compile(rf"http://127\.0\.0\.1:{PORT}/lab\?token=(\w+)")

    def printed():
        if process.poll() is not None:
            pytest.fail(f"setup.sh stopped (exit {process.returncode}) before printing the link; see {log}")
        return pattern.search(log.read_text(errors="replace"))

    found = wait_for(f"the link in setup.sh's output ({log})", printed, 600)
    return found[0], found[1]


@pytest.fixture(scope="module")
def lab(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    without_opencl = request.config.getoption("--without-opencl")
    no_drivers = tempfile.TemporaryDirectory()
    environment = dict(os.environ)
    if without_opencl:
        # The OpenCL loader finds its drivers through this folder: an empty one, no platform.
        environment["OCL_ICD_VENDORS"] = no_drivers.name
    # JupyterLab autosaves the notebooks it runs, outputs included; the committed ones stay without.
    committed = {path: path.read_bytes() for path in (ROOT / "notebooks").glob("*.ipynb")}
    log = SHOTS / "setup-sh.log"
    with open(log, "w") as output:
        # Ctrl-C as in a terminal: a shell that starts this test in the background (`cmd &`)
        # makes it and its children ignore SIGINT, and JupyterLab would then never see it.
        process = subprocess.Popen(
            ["bash", "kernel-setup/setup.sh", "--port", str(PORT)],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        link, token = wait_for_link(process, log)
        print(f"setup.sh printed {link.replace(token, '<token>')}", flush=True)
        # setup.sh prints the link just before JupyterLab starts listening.
        wait_for(f"JupyterLab answering (see {log})", lambda: reachable(link), 120)
        yield Lab(process, f"http://127.0.0.1:{PORT}", link, token, log, without_opencl)
    finally:
        # Stopped here when test_ctrl_c_stops_the_server_and_its_kernels did not run (-k, -x).
        left = stop_with_ctrl_c(process) if process.poll() is None else []
        for path, text in committed.items():
            if path.read_bytes() != text:
                path.write_bytes(text)
        no_drivers.cleanup()
        if left:
            pytest.fail("\n".join(left))


def command_lines_holding(secret):
    """Every process whose command line, readable by any user of the machine, holds `secret`."""
    found = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if any(secret.encode() in word for word in words):
            found.append(f"{cmdline.parent.name}: {b' '.join(words)[:120].decode(errors='replace')}")
    return found


def kernels_holding(secret):
    """Every kernel process (evcxr, ipykernel) whose environment holds `secret`."""
    found = []
    for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
        try:
            command = (environ.parent / "cmdline").read_bytes()
            if b"evcxr_jupyter" not in command and b"ipykernel" not in command:
                continue
            if secret.encode() in environ.read_bytes():
                found.append(f"{environ.parent.name}: {command.replace(bytes(1), b' ')[:100].decode(errors='replace')}")
        except OSError:  # ended while we looked, or another user's
            continue
    return found


# The assertions below hold no call with the token in it: pytest would print its arguments.
def test_the_link_opens_jupyterlab(lab):
    answered = status(lab.link)
    assert answered == 200
    is_jupyterlab = "jupyter-config-data" in page_of(lab.link)
    assert is_jupyterlab, "the page with the token is not JupyterLab"


def test_a_request_without_the_token_is_refused(lab):
    assert status(f"{lab.base}/api/contents") == 403


def test_root_is_warned(lab):
    if os.geteuid() != 0:
        pytest.skip("not root: nothing to warn of")
    assert "running JupyterLab as root" in lab.log.read_text()


def test_the_token_is_in_no_command_line(lab):
    holding = command_lines_holding(lab.token)
    assert holding == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab, chromium, name):
    """Every cell run through the Run menu; notebook 01 once more after Restart Kernel."""
    must_say = LEFT_OUT if lab.without_opencl and name.startswith("03-") else None
    problems = run_notebook(
        chromium, lab.base, lab.token, name, SHOTS, restart=name.startswith("01-"), must_say=must_say
    )
    if problems:
        # JupyterLab's own account (a kernel that died or restarted, a cell's build), the token
        # hidden, and what the kernels' processes were doing: a run that never ends shows where.
        tail = lab.log.read_text(errors="replace").replace(lab.token, "<token>").splitlines()[-60:]
        problems.append("the end of JupyterLab's log:\n" + "\n".join(tail))
        problems.append("the kernels' processes (pid, group, state, waiting in, command):\n" + kernel_processes())
    assert not problems, "\n".join(problems)


KERNEL_FAMILY = (b"evcxr", b"cargo", b"rustc", b"cc", b"ld", b"python")


def kernel_processes():
    """A line per process of a kernel's family (evcxr, the compiler, Python), with its state
    (R running, S sleeping, T stopped: the pool pauses a warm kernel while a learner's cell
    runs), the kernel function it waits in (flock_lock_inode_wait: a file lock), and the file
    locks held and awaited (/proc/locks), so that a run that never ends says why."""
    lines, pids = [], set()
    for stat in sorted(pathlib.Path("/proc").glob("[0-9]*/stat"), key=lambda path: int(path.parent.name)):
        folder = stat.parent
        try:
            command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").strip()
            fields = stat.read_text().rsplit(")", 1)[1].split()
            waiting = (folder / "wchan").read_text()
        except OSError:  # ended while we looked
            continue
        name = pathlib.Path(command.split(b" ")[0].decode(errors="replace")).name.encode()
        if any(name.startswith(member) for member in KERNEL_FAMILY):
            pids.add(folder.name)
            shown = command[:150].decode(errors="replace")
            lines.append(f"{folder.name} {fields[2]} {fields[0]} {waiting or '-'} {shown}")
    try:
        locks = pathlib.Path("/proc/locks").read_text().splitlines()
    except OSError as error:
        locks = [f"unreadable ({error})"]
    # `N: FLOCK ADVISORY WRITE PID ...`; a waiter's line has `->` after N:.
    fields = [(line, line.split()) for line in locks]
    ours = [line for line, words in fields if len(words) > 4 and (words[1] == "->" or words[4] in pids)]
    lines.append("their file locks, and every lock awaited:" + "".join(f"\n{line}" for line in ours))
    return "\n".join(lines)


def test_the_token_is_in_no_kernel(lab):
    """Kernels have started by now (the pool's too): none holds the token, on its command line or
    in its environment (which learners' code and build scripts read)."""
    holding = command_lines_holding(lab.token)
    assert holding == []
    kernels = kernels_holding(lab.token)
    assert kernels == []


def test_ctrl_c_stops_the_server_and_its_kernels(lab):
    problems = stop_with_ctrl_c(lab.process)
    assert problems == []
