"""The registered kernels work in any Jupyter, not only the project's own.

Tried as a new user would: a third-party notebook runner (nbmake, a pytest plugin), installed in a
virtual environment of its own (target/runner-env, from tests/requirements-runner.lock) that has
none of the project's packages, is pointed at the registered kernels with JUPYTER_PATH and runs
every notebook. Checked: the runner's environment lacks the project's packages (it is a stranger's
Jupyter, not ours); its jupyter_client finds `rust-heatlib`, whose kernelspec names no provisioner
(the pool is attached by the project's own server: kernel-pool/heat_kernel_pool.py), while a copy
that names the pool's provisioner, as set-up wrote it before, is refused there with NoSuchKernel
(the failure this test exists to catch), and `heat-python`, the project's Python that notebook
3b names (a generic `python3` would start the runner's own Python, without NumPy or heatpy);
`pytest --nbmake` runs all six notebooks, every cell, the lab's cells meant not to compile
passing by their `raises-exception` tag.
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

pytestmark = [pytest.mark.setup, pytest.mark.kernel]

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "tests" / "requirements-runner.lock"
RUNNER_ENV = ROOT / "target" / "runner-env"
REGISTERED = ROOT / ".venv" / "share" / "jupyter"
KERNEL = "rust-heatlib"
PYTHON_KERNEL = "heat-python"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Seconds a cell may take: the first builds heatlib in the kernel.
CELL_TIMEOUT_S = 900

# Run inside the runner's environment: can its jupyter_client start the kernel named argv[1]?
FIND_KERNEL = """
import sys
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
try:
    spec = KernelSpecManager().get_kernel_spec(sys.argv[1])
except NoSuchKernel as refused:
    print("NoSuchKernel:", refused)
    sys.exit(3)
print(spec.display_name, "| provisioner:", spec.metadata.get("kernel_provisioner"))
"""

# Run inside the runner's environment: which of the project's packages it could import.
PROJECT_PACKAGES = """
import importlib.util
print(" ".join(name for name in ("heat_kernel_pool", "heatpy", "jupyterlab") if importlib.util.find_spec(name)))
"""


def runner_environment(jupyter_path):
    """A stranger's shell: the runner's environment first on PATH, the project's `.venv` nowhere."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not name.startswith(("JUPYTER", "PYTEST_"))
    }
    project_bin = str(ROOT / ".venv" / "bin")
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != project_bin]
    env["PATH"] = os.pathsep.join([str(RUNNER_ENV / "bin"), *path])
    env["JUPYTER_PATH"] = str(jupyter_path)
    return env


@pytest.fixture(scope="module", autouse=True)
def runner():
    """target/runner-env with the lock's packages; kept while the lock is unchanged."""
    assert (REGISTERED / "kernels" / KERNEL / "kernel.json").exists(), (
        f"no kernel '{KERNEL}' registered in {REGISTERED}: run bash kernel-setup/setup.sh"
    )
    stamp = RUNNER_ENV / "installed-from.lock"
    if stamp.exists() and stamp.read_text() == LOCK.read_text():
        return
    shutil.rmtree(RUNNER_ENV, ignore_errors=True)
    # The machine's own python3, not the project's: the runner must not share its packages.
    subprocess.run(["python3", "-m", "venv", str(RUNNER_ENV)], check=True)
    subprocess.run(
        [
            str(RUNNER_ENV / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(LOCK),
        ],
        check=True,
    )
    stamp.write_text(LOCK.read_text())


def in_runner(code, *arguments, jupyter_path=REGISTERED):
    return subprocess.run(
        [str(RUNNER_ENV / "bin" / "python"), "-c", code, *arguments],
        env=runner_environment(jupyter_path),
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )


def test_the_runners_environment_lacks_the_projects_packages():
    strangers = in_runner(PROJECT_PACKAGES).stdout.split()
    assert not strangers, f"the runner's environment has the project's packages {strangers}: it proves nothing"


def test_the_runner_finds_the_kernel_and_it_names_no_provisioner():
    found = in_runner(FIND_KERNEL, KERNEL)
    assert found.returncode == 0, f"the runner's jupyter_client cannot start '{KERNEL}': {found.stdout.strip()}"
    assert "provisioner: None" in found.stdout, f"the kernelspec names a provisioner: {found.stdout.strip()}"


def test_the_runner_finds_the_projects_python_kernel():
    found = in_runner(FIND_KERNEL, PYTHON_KERNEL)
    assert found.returncode == 0, f"the runner's jupyter_client cannot start '{PYTHON_KERNEL}': {found.stdout}"
    argv = json.loads((REGISTERED / "kernels" / PYTHON_KERNEL / "kernel.json").read_text())["argv"]
    # Not resolved: .venv/bin/python is a link to the Python .venv was made from.
    assert pathlib.Path(argv[0]).is_relative_to(ROOT / ".venv"), f"not the project's Python: {argv}"


def test_a_kernelspec_naming_the_pools_provisioner_is_refused_there(tmp_path):
    """The check above can fail: the kernelspec as set-up wrote it before is refused."""
    spec_dir = tmp_path / "kernels" / "old-heatlib"
    spec_dir.mkdir(parents=True)
    spec = json.loads((REGISTERED / "kernels" / KERNEL / "kernel.json").read_text())
    spec["metadata"] = {"kernel_provisioner": {"provisioner_name": "heat-kernel-pool"}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    found = in_runner(FIND_KERNEL, "old-heatlib", jupyter_path=tmp_path)
    assert found.returncode == 3, f"not refused: exit {found.returncode} {found.stdout.strip()}"


def test_nbmake_runs_every_notebook_through_the_kernel_it_names():
    """About as long as the notebooks' own run (minutes: notebook 3's compute, the lab's races)."""
    command = [
        str(RUNNER_ENV / "bin" / "python"),
        "-m",
        "pytest",
        "--nbmake",
        f"--nbmake-timeout={CELL_TIMEOUT_S}",
        "-p",
        "no:cacheprovider",
        "-q",
        *map(str, NOTEBOOKS),
    ]
    ran = subprocess.run(
        command, env=runner_environment(REGISTERED), cwd=tempfile.gettempdir(), capture_output=True, text=True
    )
    said = f"{ran.stdout[-3000:]}\n{ran.stderr[-2000:]}"
    assert ran.returncode == 0, f"nbmake failed (exit {ran.returncode}):\n{said}"
    assert f"{len(NOTEBOOKS)} passed" in ran.stdout, said
