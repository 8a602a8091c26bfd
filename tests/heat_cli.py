"""The `heat` command of this checkout, built once per run, and what it says as JSON, as the tests
read it: one definition of each table (the stages, the polls), so that no test keeps its own."""

import functools
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


@functools.cache
def heat_command():
    """The `heat` command of this checkout, built optimised (as heatlib's reference and benches
    are, with opencl as the kernel's heatlib) once per test run."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "heat-cli"], cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "heat"


def heat_json(*arguments):
    """What `heat ARGUMENTS` prints as JSON."""
    printed = subprocess.run([heat_command(), *arguments], check=True, capture_output=True, text=True).stdout
    return json.loads(printed)


@functools.cache
def stage_names():
    """The stages, as heatlib lists them (`heat stages --json`)."""
    return [stage["name"] for stage in heat_json("stages", "--json")]
