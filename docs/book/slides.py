"""The webinar's slide decks: one reveal.js deck per notebook of the core path, for the site.

    target/docs-env/bin/python docs/book/slides.py --notebooks target/notebooks \
        --reveal PATH/package --out target/site/slides --list target/site-build/generated/slide-decks.html

`bash docs/build-site.sh` runs this; run that, not this.

A deck is made of the notebook's cells tagged `core` with their outputs (a notebook is
presented when its metadata says `heat_accel.presented`); cells whose slide type is `notes`
become the speaker notes (press S). The decks sit in the site's slides/ folder, 1280 x 720,
with reveal.js and MathJax's settings beside them and MathJax from the book's own copy
(../_static/mathjax), so they work offline. --list writes the decks' list as HTML, for the front page of the book.
"""

import argparse
import html
import pathlib
import re
import shutil

import nbformat
from nbconvert import SlidesExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from traitlets.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"


def notebook_title(notebook):
    return notebook.cells[0].source.splitlines()[0].lstrip("# ").strip()


def is_presented(notebook):
    """A notebook of the webinar's 60-minute core path, presented as slides."""
    return notebook.metadata.get("heat_accel", {}).get("presented", False)


def core_only(notebook):
    """The notebook as presented: its cells tagged `core`, in order (deeper cells stay on its page)."""
    core = nbformat.from_dict(notebook)
    core.cells = [cell for cell in notebook.cells if "core" in cell.metadata.get("tags", [])]
    return core


def links_on_the_site(body):
    """A deck's links as the site has them: notebooks and docs/ pages are HTML pages there."""
    body = re.sub(r'href="\.\./docs/([\w-]+)\.md(#[\w-]+)?"', r'href="../docs/\1.html\2"', body)
    return re.sub(r'href="([\w-]+)\.ipynb(#[\w-]+)?"', r'href="../notebooks/\1.html\2"', body)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=pathlib.Path, required=True, help="folder of the executed notebooks")
    parser.add_argument("--reveal", type=pathlib.Path, required=True, help="reveal.js 5's npm package folder")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="the site's slides/ folder")
    parser.add_argument("--list", type=pathlib.Path, required=True, help="where to write the decks' list")
    args = parser.parse_args()

    shown = SlidesExporter().default_config.NbConvertBase.display_data_priority
    exporter = SlidesExporter(
        template_name="heat-slides",
        extra_template_basedirs=[str(TEMPLATES)],
        reveal_url_prefix="reveal.js",
        # The white theme's font comes with reveal.js; the stock "simple" one asks Google's servers.
        reveal_theme="white",
        reveal_width="1280",
        reveal_height="720",
        config=Config({"NbConvertBase": {"display_data_priority": [*shown, "image/gif"]}}),
    )
    # A timing cell prints its runs line by line; on a slide they read as one block.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor, enabled=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for part in ("dist", "plugin/notes"):
        shutil.copytree(args.reveal / part, args.out / "reveal.js" / part, dirs_exist_ok=True)
    # The notebooks' own pictures, where the decks' Markdown names them (figures/...).
    shutil.copytree(ROOT / "notebooks" / "figures", args.out / "figures", dirs_exist_ok=True)
    shutil.copy(TEMPLATES / "heat-slides" / "mathjax-config.js", args.out)
    decks = []
    for source in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(args.notebooks / source.name, as_version=4)
        if not is_presented(notebook):
            continue
        resources = {"metadata": {"name": notebook_title(notebook)}, "site_root": "../"}
        body, _ = exporter.from_notebook_node(core_only(notebook), resources=resources)
        (args.out / f"{source.stem}.html").write_text(links_on_the_site(body))
        decks.append(f'<li><a href="slides/{source.stem}.html">{html.escape(notebook_title(notebook))}</a></li>')
        print(f"wrote {args.out / source.stem}.html")
    if not decks:
        raise SystemExit("slides.py: no notebook is presented (metadata heat_accel.presented): no slides")
    args.list.parent.mkdir(parents=True, exist_ok=True)
    args.list.write_text('<ol class="slide-decks">' + "".join(decks) + "</ol>\n")


if __name__ == "__main__":
    main()
