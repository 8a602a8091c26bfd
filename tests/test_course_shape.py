"""The course's shape, read from the committed notebooks without running them (seconds): what
tests/core_path.py checks before it times the core path, as tests a notebook's author runs
after each edit (`.venv/bin/python -m pytest tests -m quick`).

Every cell is tagged `core` or `deeper` and has a slide type that agrees; a run of deeper cells
opens with its `#### Deeper:` heading; a core poll offers three answers or more and its answer
starts a slide of its own; the polls `heat predictions` answers are the notebooks' own, choice
for choice; the presented notebooks' narration alone leaves room in the hour; the lab's core
sections each carry their minutes and add up to its half hour.
"""

import pathlib

import nbformat
import pytest
from core_path import (
    CORE_MINUTES,
    LAB_MINUTES,
    WORDS_PER_MINUTE,
    convention_problems,
    is_presented,
    lab_minutes,
    lengths,
    predictions_problems,
)

NOTEBOOKS = {
    path.name: nbformat.read(path, as_version=4)
    for path in sorted((pathlib.Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
}


@pytest.mark.quick
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_is_core_or_deeper_and_its_slide_agrees(name):
    problems = convention_problems(name, NOTEBOOKS[name])
    assert not problems, "\n".join(problems)


@pytest.mark.quick
def test_the_presented_notebooks_narration_leaves_room_in_the_hour():
    presented = [name for name, notebook in NOTEBOOKS.items() if is_presented(notebook)]
    assert presented, "no notebook is marked as presented (metadata heat_accel.presented)"
    minutes = sum(lengths(NOTEBOOKS[name])["core"]["words"] for name in presented) / WORDS_PER_MINUTE
    assert minutes <= CORE_MINUTES, f"the narration of {presented} alone takes {minutes:.0f} minutes"


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
