"""The webinar's core path, measured: do notebooks 01-04 fit their 60 minutes, and the lab its 30?

    .venv/bin/python tests/core_path.py [--kernel rust-heatlib] [--json target/core-path.json] [--no-run]

Every cell of every notebook is tagged `core` (what the webinar presents) or `deeper` (for
self-paced learners; nothing in the core needs it). What must hold:

- Each cell has exactly one of the two tags. Each run of deeper cells opens with a markdown
  cell headed `#### Deeper: ...`, so a learner sees where the core path resumes. Each cell has a
  slide type (`metadata.slideshow.slide_type`): `skip` for deeper cells, anything else for core
  ones (the slides are the core cells; `notes` cells are the speaker notes).
- The presented notebooks (metadata `heat_accel.presented`: 01-04) run their core cells alone,
  in order, on a fresh kernel, without an error: the core never leans on a deeper cell.
- A core prediction (a cell tagged `predict:ID`) offers its answers as a list `- **A** ...`,
  at least three of them, for a room to vote on, and the cell after it starts a new slide (the
  answer is not on the poll's slide). Those that `heat predictions` answers from
  `heat bench --json` offer exactly its choices, in its order, in the notebook it names.
- A poll's answer is out of sight until revealed: a core markdown cell after a poll, in its
  section, that reads the result ("Reading it") is folded in `<details>`, so JupyterLab shows only
  its summary line.
- Each presented notebook opens its core with **Learning objectives** and closes it with **Key
  points**, Carpentries style.
- The plan fits: for the presented notebooks, narration (core markdown words at 140 words a
  minute, speaker notes included) plus the measured compute time of their core cells is at most
  60 minutes, and so is the whole plan: that, with a welcome of 3 minutes, 75 seconds per poll
  (a webinar platform's poll takes 60-90 s), 20 seconds to explain each core code cell of five
  lines or more, and 2 minutes of questions after each notebook. The lab's core sections (each `## ` heading
  of its core carries its estimated minutes in `heat_accel.minutes`: the solution's size and
  concepts, and a fresh reader's attempt) add up to at most 30.

It prints, per notebook, the words and code lines of its core and deeper cells and the compute
time of the core cells, then the minute-by-minute plan (each core section: its narration at 140
words a minute plus its measured compute), which the instructor guide quotes; and writes it all
as JSON.
`--no-run` checks the tags and counts the words without starting a kernel (its plan counts no
compute).
"""

import argparse
import datetime
import json
import pathlib
import re
import sys

import nbformat
from heat_cli import heat_json
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORDS_PER_MINUTE = 140
CORE_MINUTES = 60
LAB_MINUTES = 30
# The room's share of the hour, in the plan: the welcome, each poll, questions after each notebook.
WELCOME_MINUTES, POLL_MINUTES, QUESTIONS_MINUTES = 3, 1.25, 2
# Explaining code takes the room time too: this much for each core code cell of at least EXPLAINED_LINES.
EXPLAIN_MINUTES, EXPLAINED_LINES = 20 / 60, 5
PATHS = ("core", "deeper")
OPTION = re.compile(r"^- \*\*[A-E]\*\* .*$", re.MULTILINE)


def tags(cell):
    return cell.metadata.get("tags", [])


def is_core(cell):
    return "core" in tags(cell)


def slide_type(cell):
    return cell.metadata.get("slideshow", {}).get("slide_type")


def is_presented(notebook):
    return notebook.metadata.get("heat_accel", {}).get("presented", False)


def words(cell):
    return len(cell.source.split()) if cell.cell_type == "markdown" else 0


def code_lines(cell):
    """Lines of code as a reader counts them: not blank, not a comment."""
    if cell.cell_type != "code":
        return 0
    return sum(1 for line in cell.source.splitlines() if line.strip() and not line.strip().startswith(("//", "#")))


def explained(cell):
    """Whether the presenter explains the cell's code to the room: a core code cell of five lines or more."""
    return cell.cell_type == "code" and code_lines(cell) >= EXPLAINED_LINES


def presented_problems(name, notebook):
    """Objectives first, key points last, and no result read out in the open."""
    core = [cell for cell in notebook.cells if is_core(cell)]
    problems = []
    if not any("Learning objectives" in cell.source for cell in core[:3]):
        problems.append(f"{name}: its core should open with **Learning objectives** (in its first three cells)")
    if not any("Key points" in cell.source for cell in core[-3:]):
        problems.append(f"{name}: its core should close with **Key points** (in its last three cells)")
    after_poll = False
    for cell in core:
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            after_poll = False
        if any(tag.startswith("predict:") for tag in tags(cell)):
            after_poll = True
        elif after_poll and cell.cell_type == "markdown" and "Reading it" in cell.source:
            if not cell.source.startswith("<details>"):
                said = cell.source.strip()[:50]
                problems.append(f"{name}: {said!r} reads a poll's result in the open; fold it in <details>")
    return problems


def convention_problems(name, notebook):
    problems = []
    previous_core = True
    for number, cell in enumerate(notebook.cells):
        where = f"{name} cell {number} ({cell.source.strip()[:40]!r})"
        marked = [path for path in PATHS if path in tags(cell)]
        if len(marked) != 1:
            problems.append(f"{where}: tagged {marked or 'neither'}; exactly one of core, deeper")
            continue
        core = marked == ["core"]
        kind = slide_type(cell)
        if kind is None:
            problems.append(f"{where}: no slide type (metadata.slideshow.slide_type)")
        elif (kind == "skip") == core:
            problems.append(f"{where}: a {marked[0]} cell with slide type {kind!r}")
        opens_run = not core and previous_core and number > 0
        if opens_run and not (cell.cell_type == "markdown" and cell.source.startswith("#### Deeper:")):
            problems.append(f"{where}: a run of deeper cells should open with a '#### Deeper: ...' heading")
        if core and any(tag.startswith("predict:") for tag in tags(cell)):
            if len(OPTION.findall(cell.source)) < 3:
                problems.append(f"{where}: a prediction should offer at least three answers as '- **A** ...'")
            shown_next = [
                slide_type(later)
                for later in notebook.cells[number + 1 :]
                if is_core(later) and slide_type(later) != "notes"
            ]
            if shown_next and shown_next[0] not in ("slide", "subslide"):
                problems.append(f"{where}: the cell that answers a poll should start a slide of its own")
        previous_core = core
    return problems


def predictions_problems(notebooks):
    """The polls `heat predictions` answers must be the notebooks' own, choice for choice."""
    problems = []
    for poll in heat_json("predictions", "--json"):
        cells = [
            cell
            for name, notebook in notebooks.items()
            if name.startswith(poll["notebook"] + "-")
            for cell in notebook.cells
            if f"predict:{poll['id']}" in tags(cell)
        ]
        if len(cells) != 1:
            problems.append(f"heat predictions' {poll['id']}: {len(cells)} cells tagged predict:{poll['id']}")
            continue
        offered = [line.split("** ", 1)[1].strip() for line in OPTION.findall(cells[0].source + "\n")]
        wanted = [choice["label"] for choice in poll["choices"]]
        if offered != wanted:
            problems.append(f"predict:{poll['id']} offers {offered}; heat predictions answers {wanted}")
    return problems


def lengths(notebook):
    counted = {path: {"words": 0, "code_lines": 0, "cells": 0} for path in PATHS}
    for cell in notebook.cells:
        path = "core" if is_core(cell) else "deeper"
        counted[path]["words"] += words(cell)
        counted[path]["code_lines"] += code_lines(cell)
        counted[path]["cells"] += 1
    return counted


def run_core(notebook, kernel, timeout):
    """The core cells alone on a fresh kernel: the seconds each took (0 for markdown), and the
    errors they raised."""
    core = nbformat.from_dict(notebook)
    core.cells = [cell for cell in notebook.cells if is_core(cell)]
    client = NotebookClient(
        core,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    seconds, errors = [], []
    for cell in core.cells:
        timing = cell.metadata.get("execution", {})
        took = 0.0
        if cell.cell_type == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            began = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            ended = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            took = (ended - began).total_seconds()
        seconds.append(took)
        for output in cell.get("outputs", []):
            if output.output_type == "error" and "compile-error" not in tags(cell):
                said = f"{output.get('ename', '')} {output.get('evalue', '')[:200]}"
                errors.append(f"{cell.source.strip()[:50]!r}: {said}")
    return seconds, errors


def sections(notebook, seconds=None):
    """The core path of a notebook cut at its headings: each section's title, words and compute
    (`seconds`, one per core cell; none given: no compute counted)."""
    found = []
    core = [cell for cell in notebook.cells if is_core(cell)]
    if seconds is None:
        seconds = [0.0] * len(core)
    for cell, took in zip(core, seconds, strict=True):
        if cell.cell_type == "markdown" and cell.source.startswith(("# ", "## ")) or not found:
            title = cell.source.splitlines()[0].lstrip("# ").strip() if cell.source.startswith("#") else "(start)"
            found.append({"section": title, "words": 0, "compute_s": 0.0, "polls": 0, "explained": 0})
        found[-1]["words"] += words(cell)
        found[-1]["explained"] += explained(cell)
        found[-1]["compute_s"] += took
        found[-1]["polls"] += any(tag.startswith("predict:") for tag in tags(cell))
    return found


def plan_table(rows):
    """The minute-by-minute plan, per section: narration at WORDS_PER_MINUTE, measured compute, the
    room's polls and the code cells to explain; the welcome before it and questions after each
    notebook. Returns the table (Markdown) and the minute the last notebook ends."""
    lines = [
        "| minute | notebook | section | words | compute | polls | code to explain |",
        "|---|---|---|---|---|---|---|",
        f"| 0-{WELCOME_MINUTES} | - | welcome; everyone opens JupyterLab and notebook 1 | | | | |",
    ]
    at = float(WELCOME_MINUTES)
    for row in rows:
        for section in row.get("sections", []):
            minutes = (
                section["words"] / WORDS_PER_MINUTE
                + section["compute_s"] / 60
                + section["polls"] * POLL_MINUTES
                + section["explained"] * EXPLAIN_MINUTES
            )
            lines.append(
                f"| {at:.0f}-{at + minutes:.0f} | {row['notebook'][:2]} | {section['section']} "
                f"| {section['words']} | {section['compute_s']:.0f} s | {section['polls'] or ''} "
                f"| {section['explained'] or ''} |"
            )
            at += minutes
        if row.get("sections"):
            lines.append(f"| {at:.0f}-{at + QUESTIONS_MINUTES:.0f} | {row['notebook'][:2]} | questions | | | | |")
            at += QUESTIONS_MINUTES
    return "\n".join(lines), at


def lab_minutes(notebook):
    """The lab's core sections' minutes, and the core section headings that give none."""
    minutes, unmeasured = 0, []
    for cell in notebook.cells:
        if is_core(cell) and cell.cell_type == "markdown" and cell.source.startswith("## "):
            given = cell.metadata.get("heat_accel", {}).get("minutes")
            if given is None:
                unmeasured.append(cell.source.splitlines()[0])
            else:
                minutes += given
    return minutes, unmeasured


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernel", default="rust-heatlib")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--json", type=pathlib.Path, default=ROOT / "target" / "core-path.json")
    parser.add_argument("--no-run", action="store_true", help="check the tags and count; start no kernel")
    args = parser.parse_args()
    problems, rows, notebooks = [], [], {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        notebooks[path.name] = notebook
        problems += convention_problems(path.name, notebook)
        row = {"notebook": path.stem, "presented": is_presented(notebook), **lengths(notebook)}
        if row["presented"]:
            problems += presented_problems(path.name, notebook)
            seconds = None
            if not args.no_run:
                seconds, errors = run_core(notebook, args.kernel, args.timeout)
                row["core_compute_s"] = round(sum(seconds), 1)
                problems += [f"{path.name}, run core only: {error}" for error in errors]
            row["sections"] = sections(notebook, seconds)
        if path.stem.startswith("05-"):
            row["lab_core_minutes"], unmeasured = lab_minutes(notebook)
            problems += [f"{path.name}: a core section without heat_accel.minutes: {h}" for h in unmeasured]
        rows.append(row)
    problems += predictions_problems(notebooks)

    print(f"{'notebook':34} {'core words':>10} {'deeper':>7} {'core code':>9} {'deeper':>7} {'compute':>8}")
    for row in rows:
        compute = f"{row['core_compute_s']:.0f} s" if "core_compute_s" in row else "-"
        print(
            f"{row['notebook']:34} {row['core']['words']:>10} {row['deeper']['words']:>7} "
            f"{row['core']['code_lines']:>9} {row['deeper']['code_lines']:>7} {compute:>8}"
        )
    presented = [row for row in rows if row["presented"]]
    narration = sum(row["core"]["words"] for row in presented) / WORDS_PER_MINUTE
    compute = sum(row.get("core_compute_s", 0) for row in presented) / 60
    total = narration + compute
    plan = {
        "words_per_minute": WORDS_PER_MINUTE,
        "narration_minutes": round(narration, 1),
        "compute_minutes": None if args.no_run else round(compute, 1),
        "core_minutes": None if args.no_run else round(total, 1),
        "lab_core_minutes": next((row["lab_core_minutes"] for row in rows if "lab_core_minutes" in row), None),
    }
    print(
        f"core path of {', '.join(row['notebook'][:2] for row in presented)}: "
        f"{narration:.1f} min of narration at {WORDS_PER_MINUTE} words a minute"
        + ("" if args.no_run else f" + {compute:.1f} min of compute = {total:.1f} min (at most {CORE_MINUTES})")
    )
    table, ends = plan_table(rows)
    plan["with_the_room_minutes"] = round(ends, 1)
    plan["poll_minutes"], plan["explain_minutes_per_code_cell"] = POLL_MINUTES, round(EXPLAIN_MINUTES, 2)
    print(table)
    compute_said = " (no compute counted: --no-run)" if args.no_run else ""
    print(
        f"with the welcome, the polls, the code explained and questions{compute_said}: "
        f"{ends:.0f} minutes (at most {CORE_MINUTES})"
    )
    if ends > CORE_MINUTES:
        problems.append(f"with the room's share the plan ends at minute {ends:.0f}, after {CORE_MINUTES}")
    if not presented:
        problems.append("no notebook is marked as presented (metadata heat_accel.presented)")
    if total > CORE_MINUTES:
        problems.append(f"the core path takes {total:.1f} minutes, more than {CORE_MINUTES}")
    if plan["lab_core_minutes"] is not None:
        print(f"the lab's core exercises: {plan['lab_core_minutes']} min (at most {LAB_MINUTES})")
        if plan["lab_core_minutes"] > LAB_MINUTES:
            problems.append(f"the lab's core takes {plan['lab_core_minutes']} minutes, more than {LAB_MINUTES}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"notebooks": rows, "plan": plan}, indent=1) + "\n")
    for problem in problems:
        print(f"  {problem}", flush=True)
    print("core path: " + ("FAILED" if problems else "ok"), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
