"""What the `heat` command says as JSON, as the tests read it: one definition of each table
(the stages, the polls), so that no test keeps a copy of its own."""

import functools
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def heat_json(*arguments):
    """What `heat ARGUMENTS` prints as JSON (the release build, with opencl, as the kernel's heatlib)."""
    printed = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "heat-cli", "--", *arguments],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(printed)


@functools.cache
def stage_names():
    """The stages, as heatlib lists them (`heat stages --json`)."""
    return [stage["name"] for stage in heat_json("stages", "--json")]
