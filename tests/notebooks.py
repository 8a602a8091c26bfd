"""Executes every notebook in notebooks/ through the real Rust kernel and checks what it shows.

    .venv/bin/python tests/notebooks.py [--kernel rust-heatlib] [--timeout 600] [NOTEBOOK ...]

Each notebook runs headless on a fresh kernel (nbclient over the Jupyter protocol), with a
per-cell timeout. No cell may fail; every image must decode as a non-blank picture; every
comparison table must list its stages with differences from the reference under 1e-12.
Exercise checks must say NOT YET in the exercise notebook as committed (the blanks), and
PASSED everywhere else, including a copy of the exercises with the solutions (the cells
tagged `solution:NAME` in the main notebooks) put in place of the blanks (`exercise:NAME`).
The executed copies go to target/notebooks/ (the committed notebooks stay without outputs).
"""
import argparse
import base64
import functools
import json
import pathlib
import re
import struct
import subprocess
import sys
import time
import zlib

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


@functools.cache
def stage_names():
    """The stages, as heatlib lists them (`heat stages --json`; built with opencl, as the kernel's heatlib)."""
    listed = subprocess.run(["cargo", "run", "--release", "-q", "-p", "heat-cli", "--", "stages", "--json"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [stage["name"] for stage in json.loads(listed)]


def png_is_picture(data):
    """A PNG whose header is sane and whose pixel data is not a single repeated byte."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width > 100 and height > 100 and len(set(pixels[: 200_000])) > 10


def gif_frames(data):
    return data.count(b"\x21\xf9\x04") if data.startswith(b"GIF8") else 0


def verdicts(notebook):
    """The exercise checks' verdicts, in order: 'PASSED' or 'NOT YET'."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            found += re.findall(r"^(PASSED|NOT YET): ", text, flags=re.M)
    return found


def with_solutions(exercises, solved_from):
    """A copy of the exercise notebook with each `exercise:NAME` cell replaced by `solution:NAME`."""
    solutions = {}
    for notebook in solved_from:
        for cell in notebook.cells:
            for tag in cell.metadata.get("tags", []):
                if tag.startswith("solution:"):
                    solutions[tag.split(":", 1)[1]] = cell.source
    copy = nbformat.from_dict(json.loads(json.dumps(exercises)))
    for cell in copy.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("exercise:"):
                name = tag.split(":", 1)[1]
                if name not in solutions:
                    raise SystemExit(f"exercise '{name}' has no cell tagged solution:{name} in the main notebooks")
                cell.source = solutions[name]
    return copy


def check(notebook, path):
    problems, images, tables = [], 0, 0
    for number, cell in enumerate(notebook.cells, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {number}: {output.get('ename')}: {output.get('evalue')}")
            data = output.get("data", {})
            if "image/png" in data:
                images += 1
                if not png_is_picture(base64.b64decode(data["image/png"])):
                    problems.append(f"cell {number}: a PNG that is blank or broken")
            if "image/gif" in data:
                images += 1
                if gif_frames(base64.b64decode(data["image/gif"])) < 2:
                    problems.append(f"cell {number}: an animation with fewer than 2 frames")
            html = data.get("text/html", "")
            if "heat-comparison" in html:
                tables += 1
                rows = re.findall(r"<tr><td>([a-z_]+)</td>.*?<td[^>]*>([^<]+)</td></tr>", html)
                if not rows:
                    problems.append(f"cell {number}: a comparison table without rows")
                for stage, difference in rows:
                    if not float(difference) <= 1e-12:
                        problems.append(f"cell {number}: {stage} differs from the reference by {difference}")
                if "every stage" in cell.metadata.get("tags", []):
                    missing = set(stage_names()) - {stage for stage, _ in rows}
                    if missing:
                        problems.append(f"cell {number}: the comparison table lacks {sorted(missing)}")
    if images == 0 and not str(path).startswith("05-"):
        problems.append("no picture at all")
    return problems, images, tables


def run(notebook, name, args, out):
    start = time.perf_counter()
    client = NotebookClient(notebook, timeout=args.timeout, kernel_name=args.kernel, allow_errors=True,
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(notebook, out / name)
    problems, images, tables = check(notebook, name)
    print(f"{name}: executed in {seconds:.0f} s, {images} pictures, {tables} comparison tables", flush=True)
    return problems


def report(name, problems):
    print(f"{name}: {'ok' if not problems else 'FAILED'}", flush=True)
    for problem in problems:
        print(f"  {problem}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--kernel", default="rust-heatlib")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    out = ROOT / "target" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    executed = {}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        problems = run(notebook, path.name, args, out)
        found = verdicts(notebook)
        if path.name.startswith("05-"):
            if not found or "PASSED" in found:
                problems.append(f"the blank exercises should all say NOT YET; they said {found}")
        elif "NOT YET" in found:
            problems.append(f"a check failed in a main notebook: {found}")
        report(path.name, problems)
        failed |= bool(problems)
        executed[path.name] = notebook
    exercises = [name for name in executed if name.startswith("05-")]
    if exercises:
        originals = [nbformat.read(ROOT / "notebooks" / name, as_version=4) for name in sorted(executed) if not name.startswith("05-")]
        solved = with_solutions(nbformat.read(ROOT / "notebooks" / exercises[0], as_version=4), originals)
        name = "05-exercises-solved.ipynb"
        problems = run(solved, name, args, out)
        found = verdicts(solved)
        if not found or "NOT YET" in found:
            problems.append(f"with the solutions every check should say PASSED; they said {found}")
        report(name, problems)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
