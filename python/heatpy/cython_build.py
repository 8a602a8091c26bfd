"""Compiles `cython_loops.pyx` with the machine's C compiler, once, and imports it.

What `%%cython` does in a notebook, without IPython: Cython translates the
.pyx into C, the C compiler builds an extension module, Python imports it.
The module is kept in a folder named after a hash of the source, the Python
and Cython versions and the flags, so it is built again only when one of
them changes. Flags: -O3 -march=native, as heatlib is built for this
machine's CPU (`target-cpu=native`) and the C loop it was measured against.
"""

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

SOURCE = Path(__file__).with_name("cython_loops.pyx")
MODULE = "cython_loops"
# HEAT_TARGET_CPU (the container image sets it) builds for a CPU family instead of this machine.
C_FLAGS = ["-O3", f"-march={os.environ.get('HEAT_TARGET_CPU') or 'native'}", "-shared", "-fPIC"]


class Unavailable(RuntimeError):
    """A tool that cannot run on this machine; the message says why and what to install."""


def build_folder():
    """Where built modules are kept: HEATPY_BUILD_DIR, else the checkout's target/heatpy-cython
    (the same folder whoever starts Python: set-up, a notebook's kernel, heat bench)."""
    root = os.environ.get("HEATPY_BUILD_DIR") or Path(__file__).resolve().parents[2] / "target" / "heatpy-cython"
    return Path(root)


def compiler():
    """The C compiler Python was built with (CC overrides), as a command list; Unavailable if missing."""
    command = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if not command or shutil.which(command[0]) is None:
        raise Unavailable(
            f"Cython needs a C compiler and '{command[0] if command else 'cc'}' was not found "
            "(on Debian/Ubuntu: apt-get install gcc)"
        )
    return command


def load():
    """The compiled module, built first if needed. Returns (module, seconds spent building, 0 if cached)."""
    try:
        import Cython
    except ImportError as error:
        raise Unavailable(f"Cython is not installed ({error}); run bash kernel-setup/setup.sh --setup-only") from error
    cc = compiler()
    key = hashlib.sha256(
        SOURCE.read_bytes() + f"{sys.version}|{Cython.__version__}|{cc}|{C_FLAGS}".encode()
    ).hexdigest()[:16]
    folder = build_folder() / key
    built = folder / (MODULE + sysconfig.get_config_var("EXT_SUFFIX"))
    seconds = 0.0
    if not built.exists():
        start = time.perf_counter()
        _build(cc, folder, built)
        seconds = time.perf_counter() - start
    spec = importlib.util.spec_from_file_location(MODULE, built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, seconds


def _build(cc, folder, built):
    # Built beside its final place and renamed in, so a second process never imports half a file.
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f"build-{os.getpid()}"
    work.mkdir(exist_ok=True)
    c_file = work / (MODULE + ".c")
    _run([sys.executable, "-m", "cython", "-3", str(SOURCE), "-o", str(c_file)], "Cython")
    target = work / built.name
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        raise Unavailable(
            f"this Python's C headers are missing ({include}/Python.h), which Cython's module needs; "
            "on Debian or Ubuntu: apt-get install python3-dev, then bash kernel-setup/setup.sh --setup-only"
        )
    _run([*cc, *C_FLAGS, f"-I{include}", str(c_file), "-o", str(target)], "the C compiler")
    os.replace(target, built)
    shutil.rmtree(work, ignore_errors=True)


def _run(command, who):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise Unavailable(f"{who} failed to build {SOURCE.name}: {(done.stderr or done.stdout).strip()[-600:]}")
