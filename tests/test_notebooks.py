"""Executes every notebook in notebooks/ through the real Rust kernel and checks what it shows.

    .venv/bin/python -m pytest tests/test_notebooks.py [-k 03-heat-flow]

Each notebook runs headless on a fresh kernel (nbclient over the Jupyter protocol), with a
per-cell timeout. What must hold:

- No cell fails, except the cells tagged `compile-error` (the lab's compiler-error exercise),
  each of which must fail to compile.
- Every image decodes as a non-blank picture; every comparison table lists its rows with
  differences from the reference under 1e-12; the table tagged `every stage` lists every stage
  that can run (all of `heat stages`: PoCL runs the opencl stage on the CPU).
- The companion Python notebook (03b) runs on the Python kernel: every version prints its
  difference from the pure Python loop, under 1e-12, and the summary table shows.
- Notebook 03's "Rust beside Python" table lists every Python version, measured on this machine.
- Notebook 03 shows, for every CPU stage, a cell defining its step (`step:STAGE`) and a cell
  timing it through heatlib (`timed:STAGE`) whose table holds both the cell's step and the
  library stage, agreeing with the reference; the machine-code cells show SIMD arithmetic for
  the row-slice step and a bounds check for the checked loop. (Without an OpenCL driver it is
  run in JupyterLab by tests/test_lab_in_browser.py --without-opencl.)
- The lab (05) as committed: every check says NOT YET, every race says what is not timed. With
  the solutions folded in the lab itself (a markdown cell tagged `solution:NAME`, the code in a
  ```rust block) swapped into its `exercise:NAME` cells: every check says PASSED and every race
  prints its readings. No three consecutive lines of a solution
  (beyond what its blank already gives) appear in notebooks 01-04: the exercises are variants
  of what those show, so single lines, the update rule itself, do. Everywhere else, no check
  says NOT YET.

The executed copies go to target/notebooks/ (the committed notebooks stay without outputs).
"""

import base64
import io
import json
import pathlib
import re
import time

import nbformat
import pytest
from heat_cli import stage_names
from nbclient import NotebookClient
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LAB = ROOT / "notebooks" / "05-exercises.ipynb"
SOLUTION = re.compile(r"^<details><summary>Solution[^\n]*</summary>\n\n```rust\n(.*)```\n\n</details>$", re.S)
# The executed copies: the docs site is built from them (docs/build-site.sh).
OUT = ROOT / "target" / "notebooks"
CELL_TIMEOUT_S = 600
# The CPU stages notebook 03 must write out and time; the interpreter and OpenCL show their source.
WRITTEN_OUT = ["typed_checked", "typed", "vectorized", "convolve"]
TIMED = WRITTEN_OUT + ["parallel"]


def png_is_picture(data):
    """A PNG larger than 100 x 100 pixels, of more than ten colours (not a blank or flat image)."""
    try:
        image = Image.open(io.BytesIO(data))
        colours = image.convert("RGB").getcolors(maxcolors=10)  # None: more than 10
    except (OSError, ValueError):  # not an image Pillow can read: broken
        return False
    return image.format == "PNG" and min(image.size) > 100 and colours is None


def gif_frames(data):
    try:
        image = Image.open(io.BytesIO(data))
    except (OSError, ValueError):
        return 0
    return image.n_frames if image.format == "GIF" else 0


def text_of(cell):
    """Everything a cell printed or showed as text, HTML or Markdown."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", ""), data.get("text/markdown", "")]
    return "\n".join(parts)


def verdicts(notebook):
    """The exercise checks' verdicts, in order: 'PASSED' or 'NOT YET'."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            found += re.findall(r"^(PASSED|NOT YET): ", text, flags=re.M)
    return found


# heatlib::TABLE_MIME_TYPE: a table's data as JSON, beside its HTML.
TABLE_MIME_TYPE = "application/vnd.heat-accel.table+json"


def tables_of(cell):
    """Every table a cell showed, as the data heatlib sent beside its HTML (TABLE_MIME_TYPE:
    kind, caption, baseline, columns, rows of {"text", "value"} cells, notes)."""
    return [
        output["data"][TABLE_MIME_TYPE]
        for output in cell.get("outputs", [])
        if isinstance(output.get("data", {}).get(TABLE_MIME_TYPE), dict)
    ]


def comparison_rows(table):
    """(name, max |diff|) of every row of a comparison or race table (found by its column title:
    a table placed on the machine's ceilings has two more columns after it)."""
    if "max |diff|" not in table["columns"]:
        return []
    column = table["columns"].index("max |diff|")
    return [(row[0]["text"], row[column]["value"]) for row in table["rows"]]


def tags(cell):
    return cell.metadata.get("tags", [])


def solutions():
    """The lab's folded solutions, by exercise: the code of each cell tagged `solution:NAME`."""
    found = {}
    for cell in nbformat.read(LAB, as_version=4).cells:
        for tag in tags(cell):
            if tag.startswith("solution:"):
                folded = SOLUTION.match(cell.source)
                assert folded, f"{tag}: not a folded ```rust block (<details><summary>Solution ...)"
                found[tag.split(":", 1)[1]] = folded.group(1)
    return found


def with_solutions(exercises):
    """A copy of the lab with each `exercise:NAME` cell replaced by its folded solution."""
    known = solutions()
    copy = nbformat.from_dict(json.loads(json.dumps(exercises)))
    used = set()
    for cell in copy.cells:
        for tag in tags(cell):
            if tag.startswith("exercise:"):
                name = tag.split(":", 1)[1]
                assert name in known, f"exercise '{name}' has no folded solution (a cell tagged solution:{name})"
                cell.source = known[name]
                used.add(name)
    assert used == set(known), f"folded solutions without an exercise cell: {sorted(set(known) - used)}"
    return copy


# The Python versions notebook 03's "Rust beside Python" table must list, measured on this machine.
PYTHON_ROWS = [
    "pure Python loops",
    "Cython, typed memoryviews, checks on",
    "Cython, boundscheck(False), wraparound(False)",
    "Numba @njit",
    "NumPy whole-array slicing",
    "scipy.signal.convolve2d",
    "Numba parallel=True with prange",
    "Numba @njit, the centre term at every gamma",
    "JAX jit on the CPU",
]


def is_python(notebook):
    return notebook.metadata.get("kernelspec", {}).get("language") == "python"


def check_python_notebook(notebook):
    """The companion Python notebook: every version's difference from the pure Python loop
    printed and under 1e-12, and the summary table shown."""
    problems = []
    text = "\n".join(text_of(cell) for cell in notebook.cells)
    differences = re.findall(r"max \|diff\| from the pure Python loop: (\S+)", text)
    if len(differences) < 6:
        problems.append(f"only {len(differences)} versions printed their difference from the pure Python loop")
    problems += [f"a version differs by {d}" for d in differences if not float(d) <= 1e-12]
    if "| Numba @njit |" not in text:
        problems.append("the summary table is missing")
    return problems


def check(notebook, name):
    problems, images, tables = [], 0, 0
    side_by_side = []
    for number, cell in enumerate(notebook.cells, 1):
        failed = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if "compile-error" in tags(cell):
            # evcxr writes a compiler error as "[E0277] Error: ..." in the traceback.
            compiled_not = any(re.search(r"\[E\d{4}\]", "\n".join(o.get("traceback", []))) for o in failed)
            if not compiled_not:
                problems.append(f"cell {number} is tagged compile-error but did not fail to compile")
        else:
            for output in failed:
                problems.append(f"cell {number}: {output.get('ename')}: {output.get('evalue')}")
        # evcxr reports a panic as text on stderr, not as an error: read it. Only the blank lab's
        # checks meet panics (a `todo!()` not yet written), and report them as NOT YET.
        printed = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if "panicked at" in printed and name != "05-exercises.ipynb":
            panic = printed.split("panicked at", 1)[1].strip().splitlines()[:2]
            problems.append(f"cell {number} panicked at {' '.join(panic)}")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            # A picture evcxr did not draw shows its Debug text instead: no error, no picture.
            if data.get("text/plain", "").startswith(("Picture(", "LinePlot {", "Heatmap {")):
                problems.append(f"cell {number}: a picture shown as text, not drawn: {data['text/plain'][:60]}")
            if "image/png" in data:
                images += 1
                if not png_is_picture(base64.b64decode(data["image/png"])):
                    problems.append(f"cell {number}: a PNG that is blank or broken")
            if "image/gif" in data:
                images += 1
                if gif_frames(base64.b64decode(data["image/gif"])) < 2:
                    problems.append(f"cell {number}: an animation with fewer than 2 frames")
        for table in tables_of(cell):
            if table["kind"] == "side-by-side":
                side_by_side += [row[0]["text"] for row in table["rows"]]
            if table["kind"] in ("comparison", "race"):
                tables += 1
                rows = comparison_rows(table)
                if not rows:
                    problems.append(f"cell {number}: a comparison table without rows")
                for row, difference in rows:
                    if difference is None or not difference <= 1e-12:
                        problems.append(f"cell {number}: {row} differs from the reference by {difference}")
                if "every stage" in tags(cell):
                    missing = set(stage_names()) - {row for row, _ in rows}
                    if missing:
                        problems.append(f"cell {number}: the comparison table lacks {sorted(missing)}")
    if is_python(notebook):
        return problems + check_python_notebook(notebook), images, tables
    if images == 0 and not name.startswith("05-"):
        problems.append("no picture at all")
    if name.startswith("03-"):
        problems += check_stage_cells(notebook)
        missing = [row for row in PYTHON_ROWS if row not in side_by_side]
        if missing:
            problems.append(f"the Rust beside Python table lacks the Python rows {missing}")
    return problems, images, tables


def check_stage_cells(notebook):
    """Notebook 03: each CPU stage written in a cell and timed beside the library's; the machine code."""
    problems = []
    cell_tags = [tag for cell in notebook.cells for tag in tags(cell)]
    for stage in WRITTEN_OUT:
        if f"step:{stage}" not in cell_tags:
            problems.append(f"no cell defines the {stage} step (tag step:{stage})")
    for stage in TIMED:
        timed = [cell for cell in notebook.cells if f"timed:{stage}" in tags(cell)]
        if not timed:
            problems.append(f"no cell times the {stage} step through heatlib (tag timed:{stage})")
        for cell in timed:
            shown = tables_of(cell)
            rows = [row for table in shown for row, _ in comparison_rows(table)]
            if stage not in rows:
                problems.append(f"timed:{stage}: the library's {stage} is not in the table ({rows})")
            if not any("this cell" in row or "in bands" in row for row in rows):
                problems.append(f"timed:{stage}: no step of the notebook's own in the table ({rows})")
            if stage != "parallel" and not any(table["kind"] == "race" and table["notes"] for table in shown):
                problems.append(f"timed:{stage}: no reading of the race")
    machine = {
        tag.split(":", 1)[1]: text_of(cell)
        for cell in notebook.cells
        for tag in tags(cell)
        if tag.startswith("machine-code:")
    }
    if "SIMD:" not in machine.get("typed", ""):
        problems.append("the machine code of the row-slice step shows no SIMD arithmetic")
    if "check: if it fails, array_out_of_bounds" not in machine.get("typed_checked", ""):
        problems.append("the machine code of the checked loop shows no bounds check")
    return problems


def executed(notebook, name, capsys):
    """Runs `notebook` on a fresh kernel, writes the executed copy to OUT, and returns what
    `check` finds in it."""
    start = time.perf_counter()
    # Each on the kernel it names, as any Jupyter runs it: the companion Python notebook on the
    # tutorial's Python kernel (heat-python), the others on the Rust one (rust-heatlib).
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=notebook.metadata.kernelspec.name,
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    OUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, OUT / name)
    problems, images, tables = check(notebook, name)
    with capsys.disabled():  # the figures, for a slow run to be read
        print(f"\n  {name}: executed in {seconds:.0f} s, {images} pictures, {tables} comparison tables")
    return problems


def races_untimed(notebook):
    return sum(text_of(cell).count("not timed:") for cell in notebook.cells)


def squashed_lines(text):
    """The code lines of `text` without spaces, blank lines and lone braces."""
    squashed = (re.sub(r"\s+", "", line) for line in text.splitlines())
    return [line for line in squashed if line and line not in ("{", "}", "};", ")", "});")]


def answers_in(notebooks, lab):
    """Where a lab answer shows in another notebook: any three consecutive lines of a solution
    that the blank exercise does not already give, found in that order in a code cell."""
    given = {
        tag.split(":", 1)[1]: set(squashed_lines(cell.source))
        for cell in lab.cells
        for tag in tags(cell)
        if tag.startswith("exercise:")
    }
    cells = [
        (name, squashed_lines(cell.source))
        for name, notebook in notebooks.items()
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    found = []
    for solution, text in solutions().items():
        answer = [line for line in squashed_lines(text) if line not in given.get(solution, set())]
        windows = {tuple(answer[k : k + 3]) for k in range(len(answer) - 2)}
        for name, lines in cells:
            shown = {tuple(lines[k : k + 3]) for k in range(len(lines) - 2)}
            for window in sorted(windows & shown):
                found.append(f"{name} shows three lines of the lab's {solution} answer: {' / '.join(window)}")
    return found


@pytest.mark.setup
@pytest.mark.kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebook_runs_and_shows_what_it_says(path, capsys):
    notebook = nbformat.read(path, as_version=4)
    problems = executed(notebook, path.name, capsys)
    found = verdicts(notebook)
    if path == LAB:
        if not found or "PASSED" in found:
            problems.append(f"the blank exercises should all say NOT YET; they said {found}")
        if races_untimed(notebook) == 0:
            problems.append("the blank lab's races should each say what is not timed")
    elif "NOT YET" in found:
        problems.append(f"a check failed in a main notebook: {found}")
    assert not problems, "\n".join(problems)


@pytest.mark.quick
def test_no_lab_answer_shows_in_notebooks_01_to_04():
    main = {path.name: nbformat.read(path, as_version=4) for path in NOTEBOOKS if path != LAB}
    leaked = answers_in(main, nbformat.read(LAB, as_version=4))
    assert not leaked, "\n".join(leaked)


@pytest.mark.setup
@pytest.mark.kernel
def test_the_lab_with_its_solutions_passes_every_check(capsys):
    solved = with_solutions(nbformat.read(LAB, as_version=4))
    problems = executed(solved, "05-exercises-solved.ipynb", capsys)
    found = verdicts(solved)
    if not found or "NOT YET" in found:
        problems.append(f"with the solutions every check should say PASSED; they said {found}")
    untimed = races_untimed(solved)
    if untimed:
        problems.append(f"with the solutions every race should time every step; {untimed} said 'not timed'")
    if not any("the speed of exercise 1" in text_of(cell) for cell in solved.cells):
        problems.append("the no-indices exercise's race (exercise 6) does not report its speed-up over exercise 1")
    assert not problems, "\n".join(problems)
