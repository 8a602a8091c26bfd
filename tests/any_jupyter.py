"""The registered kernel works in any Jupyter, not only the project's own.

    .venv/bin/python tests/any_jupyter.py [--notebook 01-compiled-interpreted-jit.ipynb]

Tried as a new user would: a third-party notebook runner (nbmake, a pytest plugin), installed in a
virtual environment of its own (target/runner-env, from tests/requirements-runner.lock) that has
none of the project's packages, is pointed at the registered kernels with JUPYTER_PATH and runs a
notebook. Checked:
1. The runner's environment lacks the project's packages (no heat_kernel_pool, no heatpy, no
   JupyterLab): it is a stranger's Jupyter, not ours.
2. Its jupyter_client finds `rust-heatlib`, and the kernelspec names no provisioner (the pool is
   attached by the project's own server: kernel-pool/heat_kernel_pool.py). A copy of the kernelspec
   that names the pool's provisioner, as set-up wrote it before, is refused there with
   NoSuchKernel: the failure this test exists to catch.
3. `pytest --nbmake` runs the notebook through the kernel, every cell, without an error.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from outcome import report

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "tests" / "requirements-runner.lock"
RUNNER_ENV = ROOT / "target" / "runner-env"
REGISTERED = ROOT / ".venv" / "share" / "jupyter"
KERNEL = "rust-heatlib"

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
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not name.startswith("JUPYTER")
    }
    project_bin = str(ROOT / ".venv" / "bin")
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != project_bin]
    env["PATH"] = os.pathsep.join([str(RUNNER_ENV / "bin"), *path])
    env["JUPYTER_PATH"] = str(jupyter_path)
    return env


def install_runner():
    """target/runner-env with the lock's packages; kept while the lock is unchanged."""
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


def old_kernelspec_is_refused(problems):
    """The kernelspec as set-up wrote it before (naming the provisioner) fails in the runner."""
    with tempfile.TemporaryDirectory() as folder:
        spec_dir = pathlib.Path(folder) / "kernels" / "old-heatlib"
        spec_dir.mkdir(parents=True)
        spec = json.loads((REGISTERED / "kernels" / KERNEL / "kernel.json").read_text())
        spec["metadata"] = {"kernel_provisioner": {"provisioner_name": "heat-kernel-pool"}}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        found = in_runner(FIND_KERNEL, "old-heatlib", jupyter_path=folder)
        print(f"a kernelspec naming the pool's provisioner, in the runner: {found.stdout.strip()}", flush=True)
        if found.returncode != 3:
            problems.append(
                "a kernelspec naming a provisioner the runner lacks was not refused there, so this test "
                f"could not tell a plain kernelspec from one: exit {found.returncode} {found.stdout.strip()}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", default="01-compiled-interpreted-jit.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    problems = []
    if not (REGISTERED / "kernels" / KERNEL / "kernel.json").exists():
        return report(
            "any Jupyter", [f"no kernel '{KERNEL}' registered in {REGISTERED}: run bash kernel-setup/setup.sh"]
        )
    install_runner()

    strangers = in_runner(PROJECT_PACKAGES).stdout.split()
    if strangers:
        problems.append(f"the runner's environment has the project's packages {strangers}: it proves nothing")

    found = in_runner(FIND_KERNEL, KERNEL)
    print(f"'{KERNEL}' in the runner: {found.stdout.strip() or found.stderr.strip()[-300:]}", flush=True)
    if found.returncode != 0:
        problems.append(f"the runner's jupyter_client cannot start '{KERNEL}': {found.stdout.strip()}")
    elif "provisioner: None" not in found.stdout:
        problems.append(f"the kernelspec names a provisioner; any other Jupyter refuses it: {found.stdout.strip()}")
    old_kernelspec_is_refused(problems)

    notebook = ROOT / "notebooks" / args.notebook
    command = [
        str(RUNNER_ENV / "bin" / "python"),
        "-m",
        "pytest",
        "--nbmake",
        f"--nbmake-timeout={args.timeout}",
        "-p",
        "no:cacheprovider",
        "-q",
        str(notebook),
    ]
    print(f"\n--- {' '.join(command)}", flush=True)
    ran = subprocess.run(command, env=runner_environment(REGISTERED), cwd=tempfile.gettempdir())
    if ran.returncode != 0:
        problems.append(f"nbmake failed on {args.notebook} through '{KERNEL}' (exit {ran.returncode}; above)")
    return report("any Jupyter (nbmake in its own environment)", problems)


if __name__ == "__main__":
    sys.exit(main())
