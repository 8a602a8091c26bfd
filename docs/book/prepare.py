"""Lays out the course site's book (Jupyter Book) from the repository, ready to build.

    target/docs-env/bin/python docs/book/prepare.py --notebooks target/notebooks \
        --generated target/site-build/generated --out target/book

`bash docs/build-site.sh` runs this, then `jupyter-book build`; run that, not this.

The book is laid out as the repository is, so that the links written for GitHub work on the
site too: its configuration and front page (docs/book), the pages of docs/ in docs/, and the
notebooks as the project ran them (--notebooks) in notebooks/, with their figures. On a page
of docs/, a line `<!-- generated: NAME -->` is replaced by the file NAME.html (or NAME.md)
of --generated: the tables `heat bench --html` and `heat roofline --html` wrote, the charts
`heat roofline --charts` drew, the slide decks' list (docs/book/slides.py), and the two this
script writes there first: the build machine, and the doctor's checks (from `CHECKS` in
kernel-setup/kernel_check.py, so the troubleshooting page and the doctor say the same thing).
The folder itself goes to docs/generated, for the pictures a fragment shows. A name without
its file stops the build: a page never goes out with a placeholder.
"""

import argparse
import datetime
import html
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOK = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "kernel-setup"))
import kernel_check  # noqa: E402  (the doctor's table of checks)

# A line of its own, so that a page can also name the convention in its text.
GENERATED = re.compile(r"^<!-- generated: ([\w-]+) -->$", flags=re.M)


def inline(text):
    """A sentence of the doctor's table as HTML: escaped, `code` kept as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def doctor_checks():
    """One section per check, at the anchor the doctor's failure message names."""
    sections = []
    for name, check in kernel_check.CHECKS.items():
        failure = html.escape(f"FAIL  {name}: {check.failure}\n      fix: {check.fix}")
        sections.append(
            f'<section class="check"><h3 id="{kernel_check.anchor(name)}">{html.escape(name)}</h3>'
            f"<p><strong>What it checks:</strong> {inline(check.looks_at)}</p>"
            f"<p><strong>What a failure prints:</strong></p><pre>{failure}</pre>"
            f"<p><strong>Usual cause:</strong> {inline(check.cause)}</p>"
            f"<p><strong>Fix:</strong> <code>{html.escape(check.fix)}</code></p></section>"
        )
    # One line each: a blank line would end Markdown's HTML block.
    return "\n".join(sections) + "\n"


def build_machine():
    """The machine the figures on the site were measured on, and the commit."""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.M) if cpuinfo.exists() else None
    cpu = found[1] if found else "unknown CPU"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<p class="build-machine">Measured by <code>heat bench</code> while this site was built: '
        f"{html.escape(cpu)}, {os.cpu_count()} logical CPUs, {when}, "
        f"commit <code>{html.escape(commit.stdout.strip() or 'unknown')}</code>.</p>\n"
    )


def fill(text, generated, page):
    def replace(match):
        written = [path for path in (generated / f"{match[1]}.html", generated / f"{match[1]}.md") if path.exists()]
        if not written:
            raise SystemExit(f"prepare.py: {page} asks for '{match[1]}', but {generated} has no {match[1]}.html")
        return written[0].read_text().rstrip("\n")

    return GENERATED.sub(replace, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=pathlib.Path, required=True, help="folder of the executed notebooks")
    parser.add_argument("--generated", type=pathlib.Path, required=True, help="folder of NAME.html fragments")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="the book's folder (emptied first)")
    args = parser.parse_args()

    sources = sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [path.name for path in sources if not (args.notebooks / path.name).exists()]
    if missing:
        raise SystemExit(f"prepare.py: no executed copy of {missing} in {args.notebooks}; run bash docs/build-site.sh")
    (args.generated / "doctor-checks.html").write_text(doctor_checks())
    (args.generated / "build-machine.html").write_text(build_machine())

    shutil.rmtree(args.out, ignore_errors=True)
    shutil.copytree(BOOK, args.out, ignore=shutil.ignore_patterns("*.py", "__pycache__", "templates"))
    shutil.copytree(args.generated, args.out / "docs" / "generated")
    for page in sorted((ROOT / "docs").glob("*.md")):
        (args.out / "docs" / page.name).write_text(fill(page.read_text(), args.generated, page.name))
    index = args.out / "index.md"
    index.write_text(fill(index.read_text(), args.generated, "index.md"))
    (args.out / "notebooks").mkdir()
    for path in sources:
        shutil.copy(args.notebooks / path.name, args.out / "notebooks" / path.name)
    shutil.copytree(ROOT / "notebooks" / "figures", args.out / "notebooks" / "figures")
    print(f"prepare.py: the book laid out in {args.out}")


if __name__ == "__main__":
    main()
