"""The course's shape, read from the committed notebooks without running them (seconds): what
tests/core_path.py checks before it times the core path, as tests a notebook's author runs
after each edit (`.venv/bin/python -m pytest tests -m quick`).

Every cell is tagged `core` or `deeper` and has a slide type that agrees; a run of deeper cells
opens with its `#### Deeper:` heading; a core poll offers three answers or more and its answer
starts a slide of its own; the polls `heat predictions` answers are the notebooks' own, choice
for choice; each presented notebook opens with its objectives, closes with its key points and
folds every reading of a result; the presented notebooks' plan (narration, polls at 75 s, code to
explain, the welcome and questions; no compute) leaves room in the hour; the lab's core sections
each carry their minutes and add up to its half hour; every notebook names a kernel set-up
registers.
"""

import pathlib
import re

import nbformat
import pytest
from core_path import (
    CORE_MINUTES,
    LAB_MINUTES,
    convention_problems,
    is_presented,
    lab_minutes,
    plan_table,
    predictions_problems,
    presented_problems,
    sections,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = {path.name: nbformat.read(path, as_version=4) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))}


@pytest.mark.quick
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_is_core_or_deeper_and_its_slide_agrees(name):
    problems = convention_problems(name, NOTEBOOKS[name])
    assert not problems, "\n".join(problems)


@pytest.mark.quick
@pytest.mark.parametrize("name", [name for name, notebook in NOTEBOOKS.items() if is_presented(notebook)])
def test_a_presented_notebook_states_its_objectives_and_folds_its_readings(name):
    problems = presented_problems(name, NOTEBOOKS[name])
    assert not problems, "\n".join(problems)


@pytest.mark.quick
def test_the_presented_notebooks_plan_leaves_room_in_the_hour_before_any_compute():
    rows = [
        {"notebook": name, "sections": sections(notebook)}
        for name, notebook in NOTEBOOKS.items()
        if is_presented(notebook)
    ]
    assert rows, "no notebook is marked as presented (metadata heat_accel.presented)"
    table, ends = plan_table(rows)
    # The compute (about 2-3 minutes, measured by tests/core_path.py) must fit in what is left.
    assert ends <= CORE_MINUTES - 2, f"without compute the plan already ends at minute {ends:.0f}:\n{table}"


@pytest.mark.quick
def test_the_labs_core_fits_its_half_hour():
    (lab,) = [notebook for name, notebook in NOTEBOOKS.items() if name.startswith("05-")]
    minutes, unmeasured = lab_minutes(lab)
    assert not unmeasured, f"core sections without heat_accel.minutes: {unmeasured}"
    assert minutes <= LAB_MINUTES


@pytest.mark.setup
def test_the_polls_heat_predictions_answers_are_the_notebooks_own():
    problems = predictions_problems(NOTEBOOKS)
    assert not problems, "\n".join(problems)


@pytest.mark.quick
def test_cells_meant_to_fail_say_so_to_any_runner():
    """A cell that must not compile carries `raises-exception`, the tag nbclient, nbmake, nbval and
    Jupyter Book honour, so that a runner other than the project's own goes on past it."""
    untagged = [
        f"{name} cell {number}"
        for name, notebook in NOTEBOOKS.items()
        for number, cell in enumerate(notebook.cells)
        if "compile-error" in cell.metadata.get("tags", []) and "raises-exception" not in cell.metadata.get("tags", [])
    ]
    assert not untagged, f"tagged compile-error without raises-exception: {untagged}"


@pytest.mark.quick
def test_every_notebook_names_a_kernel_that_set_up_registers():
    """A notebook names its kernel; any Jupyter pointed at the project's kernels starts that one.
    The generic `python3` would start some other Python, without NumPy or heatpy."""
    setup = (ROOT / "kernel-setup" / "setup.sh").read_text()
    registered = set(re.findall(r"^(?:PYTHON_)?KERNEL_NAME=([\w-]+)$", setup, flags=re.M))
    assert registered == {"rust-heatlib", "heat-python"}, f"setup.sh registers {registered}"
    named = {name: notebook.metadata.get("kernelspec", {}).get("name") for name, notebook in NOTEBOOKS.items()}
    assert {name: kernel for name, kernel in named.items() if kernel not in registered} == {}
