"""Builds the tutorial's static site from the executed notebooks, docs/ and measured figures.

    .venv/bin/python docs/site/build.py --notebooks target/notebooks --bench SMALL.json --bench LARGE.json \
        --mathjax PATH/tex-svg.js --reveal PATH/package [--roofline target/site-build/roofline] [--out target/site]

`bash docs/build-site.sh` runs this after executing the notebooks (or reusing the test run's
copies) and timing every stage with `heat bench`; run that, not this, from a fresh checkout.

Pages: an index; one page per notebook, with its pictures and tables inline (nbconvert, lab
template, MathJax served from the site so it works offline); and the Markdown pages of docs/,
where an HTML comment `<!-- generated: NAME -->` is replaced by what GENERATED[NAME] makes:
the speed table from the bench figures, the build machine, the doctor's checks, the
machine's ceilings and the roofline charts (`heat roofline`, given with --roofline).
Slides: one reveal.js deck per notebook of the webinar's core path (the notebook's metadata
says `heat_accel.presented`), made of its cells tagged `core` with their outputs; cells whose
slide type is `notes` become the speaker notes (press S).
"""

import argparse
import datetime
import html
import json
import os
import pathlib
import re
import shutil
import subprocess

import kernel_check  # the doctor's table of checks
import mistune
import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from traitlets.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent

# heatlib's API reference, as rustdoc built it (copied into the site by docs/build-site.sh).
API_REFERENCE = "api/heatlib/index.html"

# The Markdown pages of docs/ that become pages of the site, in the order of the menu.
PAGES = [
    ("python-to-rust.md", "Python to Rust"),
    ("stages.md", "The stages"),
    ("speed-of-light.md", "The speed of light"),
    ("instructor-guide.md", "Instructor guide"),
    ("troubleshooting.md", "Troubleshooting"),
]


def notebook_title(notebook):
    first = notebook.cells[0].source.splitlines()[0]
    return first.lstrip("# ").strip()


def notebook_summary(notebook):
    """The first paragraph after the title, as plain text."""
    paragraphs = notebook.cells[0].source.split("\n\n")
    return paragraphs[1].strip() if len(paragraphs) > 1 else ""


class Site:
    def __init__(self, out, notebooks):
        self.out = out
        self.notebooks = notebooks  # [(stem, notebook)], in order

    def menu(self, root):
        links = [f'<a href="{root}index.html">heat-accel</a>']
        links += [
            f'<a href="{root}notebooks/{stem}.html" title="{html.escape(notebook_title(nb))}">{stem.split("-")[0]}</a>'
            for stem, nb in self.notebooks
        ]
        links += [f'<a href="{root}{page[:-3]}.html">{title}</a>' for page, title in PAGES]
        links += [f'<a href="{root}{API_REFERENCE}">API reference</a>']
        return '<nav class="site-nav">' + " ".join(links) + "</nav>"

    def page(self, title, body, root=""):
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)} | heat-accel</title>
<link rel="stylesheet" href="{root}assets/site.css">
<script src="{root}assets/mathjax-config.js"></script>
<script defer src="{root}assets/mathjax-tex-svg.js"></script>
</head>
<body>
{self.menu(root)}
<main class="site-page">
{body}
</main>
</body>
</html>
"""

    def write(self, name, text):
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")


def slug(text):
    """GitHub's anchor for a heading, so that links written for GitHub work on the site too."""
    text = re.sub(r"<[^>]+>", "", html.unescape(text)).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def markdown_to_html(text):
    render = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])
    body = render(text)
    body = re.sub(r"<h([1-4])>(.*?)</h\1>", lambda m: f'<h{m[1]} id="{slug(m[2])}">{m[2]}</h{m[1]}>', body)
    # Links between the Markdown files of docs/ and to the notebooks, as the site names them.
    body = re.sub(r'href="(?:\./)?([\w-]+)\.md(#[\w-]+)?"', r'href="\1.html\2"', body)
    body = re.sub(r'href="\.\./notebooks/([\w-]+)\.ipynb"', r'href="notebooks/\1.html"', body)
    return body


def times(ratio):
    """A speed-up as heatlib's `benchmark::times` writes it: three significant digits."""
    if ratio is None:
        return "&ndash;"
    digits = 0 if ratio >= 100 else 1 if ratio >= 10 else 2
    return f"{ratio:.{digits}f}&times;"


def stage_table(bench):
    """Every stage against its webinar counterpart, with the figures `heat bench` measured.

    Each size's speed-ups are the JSON's own, over the baseline the JSON names for that size."""
    bench = rust_rows(bench)
    rows = {(row["size"], row["stage"]): row for row in bench}
    stages = list(dict.fromkeys(row["stage"] for row in bench))
    small = next(row for row in bench if row["size"] == "small")
    large = next(row for row in bench if row["size"] == "large")

    def duration(row):
        unit, scale = ("s", 1) if row["median_s"] >= 1 else ("ms", 1e3)
        low, high = row["min_s"] * scale, row["max_s"] * scale
        return f'{row["median_s"] * scale:.3g} {unit} <span class="spread">({low:.3g}&ndash;{high:.3g})</span>'

    lines = [
        '<table class="speed-table">',
        "<thead><tr><th>webinar tool</th><th>heatlib stage</th><th>the idea it teaches</th>"
        f"<th>small ({small['nx']}&times;{small['nx']}, {small['nt']} time levels): median (min&ndash;max)</th>"
        f"<th>speed-up over <code>{html.escape(small['baseline'])}</code></th>"
        f"<th>large ({large['nx']}&times;{large['nx']}, {large['nt']} time levels): median (min&ndash;max)</th>"
        "<th>M cell-updates/s</th>"
        f"<th>speed-up over <code>{html.escape(large['baseline'])}</code></th></tr></thead><tbody>",
    ]
    for stage in stages:
        first = rows.get(("small", stage)) or rows[("large", stage)]
        cells = [html.escape(first["python_analog"]), f"<code>{stage}</code>", html.escape(first["idea"])]
        row = rows.get(("small", stage))
        if row:
            cells += [duration(row), times(row["speed_up"])]
        else:
            cells += ["not run", "&ndash;"]
        row = rows.get(("large", stage))
        if row:
            cells += [duration(row), f"{row['mcells_per_s']:,.0f}", times(row["speed_up"])]
        else:
            cells += ["not run (minutes)", "&ndash;", "&ndash;"]
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    lines.append("</tbody></table>")
    devices = {row["device"]["name"] for row in bench if row.get("device")}
    if devices:
        lines.append(f"<p>The <code>opencl</code> stage ran on: {html.escape(', '.join(sorted(devices)))}.</p>")
    return "\n".join(lines)


def rust_rows(bench):
    return [row for row in bench if row.get("language", "rust") == "rust"]


def python_table(bench):
    """Each Python version beside its Rust counterpart, per size, from `heat bench --with-python`'s JSON."""
    python = [row for row in bench if row.get("language") == "python"]
    if not python:
        return (
            "<p>(This site was built without the Python side: "
            "<code>heat bench --with-python</code> found no Python rows.)</p>"
        )
    rust = {(row["size"], row["stage"]): row for row in rust_rows(bench)}
    sizes = list(dict.fromkeys(row["size"] for row in python))
    versions = list(dict.fromkeys(row["stage"] for row in python))
    by = {(row["size"], row["stage"]): row for row in python}
    head = "".join(
        f"<th>{html.escape(size)}: Python M cell-updates/s</th><th>Rust M cell-updates/s</th><th>Rust / Python</th>"
        for size in sizes
    )
    lines = [
        '<table class="python-table">',
        f"<thead><tr><th>Python version</th><th>heatlib stage</th>{head}</tr></thead><tbody>",
    ]
    for version in versions:
        first = next(by[(size, version)] for size in sizes if (size, version) in by)
        counterpart = first["rust_counterpart"]
        stage = f"<code>{html.escape(counterpart)}</code>" if counterpart else "no library stage"
        cells = [html.escape(first["python_analog"]), stage]
        for size in sizes:
            row = by.get((size, version))
            partner = rust.get((size, counterpart)) if counterpart else None
            if row is None:
                cells += ["not run", "&ndash;", "&ndash;"]
                continue
            cells += [
                f"{row['mcells_per_s']:,.0f}",
                f"{partner['mcells_per_s']:,.0f}" if partner else "not run",
                times(row.get("rust_over_python")),
            ]
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def build_machine(bench):
    cpu = "unknown CPU"
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.M)
        cpu = found[1] if found else cpu
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    threads = max(row["threads"] for row in rust_rows(bench))
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<p class="build-machine">Measured by <code>heat bench</code> while this site was built: '
        f"{html.escape(cpu)}, {os.cpu_count()} logical CPUs (the parallel stage used {threads} threads), "
        f"{when}, commit <code>{html.escape(commit.stdout.strip() or 'unknown')}</code>. "
        "Each figure is the median of the timed runs after one warm-up run; "
        "the range in brackets is the fastest and the slowest run.</p>"
    )


def doctor_checks(_bench):
    parts = []
    for name, check in kernel_check.CHECKS.items():
        parts.append(f"""<section class="check">
<h3 id="{kernel_check.anchor(name)}">{html.escape(name)}</h3>
<p><strong>What it checks:</strong> {markdown_inline(check.looks_at)}</p>
<p><strong>What a failure prints:</strong></p>
<pre>FAIL  {html.escape(name)}: {html.escape(check.failure)}
      fix: {html.escape(check.fix)}</pre>
<p><strong>Usual cause:</strong> {markdown_inline(check.cause)}</p>
<p><strong>Fix:</strong> <code>{html.escape(check.fix)}</code></p>
</section>""")
    return "\n".join(parts)


# Set by main(): the folder `heat roofline --json/--charts` wrote into while this site was built.
ROOFLINE = {"folder": None}


def roofline_charts(bench):
    """This build machine's ceilings, and the sweep and roofline charts drawn from its own measurement."""
    folder = ROOFLINE["folder"]
    if folder is None or not (folder / "roofline.json").exists():
        return "<p>(This site was built without <code>heat roofline</code>'s measurement.)</p>"
    ceilings = json.loads((folder / "roofline.json").read_text())
    threads = sorted({b["threads"] for b in ceilings["bandwidth"]})
    sizes = sorted({b["working_set"] for b in ceilings["bandwidth"]})
    levels = [(f"L{c['level']}", c["bytes"] // 2) for c in ceilings["caches"]] + [("memory", sizes[-1])]

    def nearest(pattern, size, t):
        rows = [b for b in ceilings["bandwidth"] if b["pattern"] == pattern and b["threads"] == t]
        return min(rows, key=lambda b: abs(b["working_set"] - size))

    header = "".join(f"<th>{p} {t}T</th>" for t in threads for p in ("read", "write", "copy"))
    lines = [
        f'<table class="heat-roofline"><caption>Bandwidth in GB/s on this site\'s build machine '
        f"({html.escape(ceilings['cpu'])}, {ceilings['cores']} cores, measured {ceilings['measured_on']}); "
        "bytes counted with read for ownership</caption>",
        f"<thead><tr><th>level</th><th>working set</th>{header}</tr></thead><tbody>",
    ]
    for level, size in levels:
        cells = "".join(
            f"<td>{nearest(p, size, t)['gb_per_s']:.0f}</td>" for t in threads for p in ("read", "write", "copy")
        )
        shown = nearest("copy", size, 1)["working_set"]
        lines.append(f"<tr><td>{level}</td><td>{shown / 1024:.0f} KiB</td>{cells}</tr>")
    lines.append("</tbody></table>")
    flops = ", ".join(
        f"{f['gflops']:.0f} GFLOP/s on {f['threads']} thread{'s' if f['threads'] > 1 else ''}"
        for f in ceilings["flops"]
    )
    lines.append(f"<p>Arithmetic: {flops}.</p>")
    for chart, alt in (
        ("sweep.png", "Speed of typed, vectorized and parallel against plate size, with their ceilings"),
        ("roofline.png", "Each stage on the roofline of this site's build machine"),
    ):
        if (folder / chart).exists():
            lines.append(f'<p><img src="roofline/{chart}" alt="{alt}"></p>')
    return "\n".join(lines)


def markdown_inline(text):
    return re.sub(r"^<p>|</p>\n?$", "", mistune.html(text))


GENERATED = {
    "speed-table": stage_table,
    "python-table": python_table,
    "build-machine": build_machine,
    "doctor-checks": doctor_checks,
    "roofline-charts": roofline_charts,
}


def fill_generated(text, bench):
    def replace(match):
        name = match[1]
        if name not in GENERATED:
            raise SystemExit(f"build.py: unknown generated block '{name}' (known: {', '.join(GENERATED)})")
        return GENERATED[name](bench)

    return re.sub(r"<!-- generated: ([\w-]+) -->", replace, text)


def build_notebook_pages(site):
    shown = HTMLExporter().default_config.NbConvertBase.display_data_priority
    exporter = HTMLExporter(
        template_name="heat-notebook",
        extra_template_basedirs=[str(HERE / "templates")],
        config=Config({"NbConvertBase": {"display_data_priority": [*shown, "image/gif"]}}),
    )
    stems = [stem for stem, _ in site.notebooks]
    for number, (stem, notebook) in enumerate(site.notebooks):
        pager = []
        if number > 0:
            pager.append(
                f'<a href="{stems[number - 1]}.html">&larr; '
                f"{html.escape(notebook_title(site.notebooks[number - 1][1]))}</a>"
            )
        if number + 1 < len(stems):
            pager.append(
                f'<a href="{stems[number + 1]}.html">'
                f"{html.escape(notebook_title(site.notebooks[number + 1][1]))} &rarr;</a>"
            )
        resources = {
            "metadata": {"name": notebook_title(notebook)},
            "site_root": "../",
            "site_nav": site.menu("../"),
            "site_pager": '<nav class="site-pager">' + " ".join(pager) + "</nav>",
        }
        body, _ = exporter.from_notebook_node(notebook, resources=resources)
        site.write(f"notebooks/{stem}.html", notebook_links_on_the_site(body))
    figures = ROOT / "notebooks" / "figures"
    if figures.is_dir():
        shutil.copytree(figures, site.out / "notebooks" / "figures", dirs_exist_ok=True)


def is_presented(notebook):
    """A notebook of the webinar's 60-minute core path, presented as slides."""
    return notebook.metadata.get("heat_accel", {}).get("presented", False)


def core_only(notebook):
    """The notebook as presented: its cells tagged `core`, in order (deeper cells stay on its page)."""
    core = nbformat.from_dict(notebook)
    core.cells = [cell for cell in notebook.cells if "core" in cell.metadata.get("tags", [])]
    return core


def build_slides(site, reveal):
    """A deck per presented notebook at slides/STEM.html, 1280 x 720, reveal.js served by the site."""
    shown = SlidesExporter().default_config.NbConvertBase.display_data_priority
    exporter = SlidesExporter(
        template_name="heat-slides",
        extra_template_basedirs=[str(HERE / "templates")],
        reveal_url_prefix="reveal.js",
        # The white theme's font comes with reveal.js; the stock "simple" one asks Google's servers.
        reveal_theme="white",
        reveal_width="1280",
        reveal_height="720",
        config=Config({"NbConvertBase": {"display_data_priority": [*shown, "image/gif"]}}),
    )
    # A timing cell prints its runs line by line; on a slide they read as one block.
    exporter.register_preprocessor(CoalesceStreamsPreprocessor, enabled=True)
    for part in ("dist", "plugin/notes"):
        shutil.copytree(reveal / part, site.out / "slides" / "reveal.js" / part, dirs_exist_ok=True)
    for stem, notebook in site.notebooks:
        if is_presented(notebook):
            resources = {"metadata": {"name": notebook_title(notebook)}, "site_root": "../"}
            body, _ = exporter.from_notebook_node(core_only(notebook), resources=resources)
            # The notebooks' own pictures are served beside their pages (notebooks/figures).
            body = body.replace('src="figures/', 'src="../notebooks/figures/')
            site.write(f"slides/{stem}.html", notebook_links_on_the_site(body, "../notebooks/"))


def notebook_links_on_the_site(body, notebooks=""):
    """A notebook's links as the site has them: other notebooks and docs/ pages are HTML pages
    there; `notebooks` is the way from the page to the notebooks' pages."""
    body = re.sub(r'href="\.\./docs/([\w-]+)\.md(#[\w-]+)?"', r'href="../\1.html\2"', body)
    return re.sub(r'href="([\w-]+)\.ipynb(#[\w-]+)?"', rf'href="{notebooks}\1.html\2"', body)


def build_index(site):
    items = "\n".join(
        f'<li><a href="notebooks/{stem}.html">{html.escape(notebook_title(nb))}</a>'
        f"<p>{notebook_links_on_the_site(markdown_inline(notebook_summary(nb)), 'notebooks/')}</p></li>"
        for stem, nb in site.notebooks
    )
    guides = "\n".join(f'<li><a href="{page[:-3]}.html">{title}</a></li>' for page, title in PAGES)
    guides += (
        f'\n<li><a href="{API_REFERENCE}">heatlib\'s API reference</a>: every public item, '
        "with examples that run as tests (rustdoc)</li>"
    )
    decks = "\n".join(
        f'<li><a href="slides/{stem}.html">{html.escape(notebook_title(nb))}</a></li>'
        for stem, nb in site.notebooks
        if is_presented(nb)
    )
    slides = (
        "<h2>Slides for the webinar</h2>\n<p>The core path of the notebooks above as slides (1280 x 720), "
        "with their outputs as they ran for this site; press S for the speaker notes and a clock.</p>\n"
        f'<ol class="notebook-list">\n{decks}\n</ol>'
        if decks
        else ""
    )
    body = f"""<h1>heat-accel: why code is slow or fast, measured live</h1>
<p>A webinar taught researchers to speed up Python on one problem: explicit finite differences for
2-D transient heat flow in a square plate. This tutorial rebuilds it in Rust, one idea per step:
an interpreter, typed loops, whole-array code, convolution, threads and a GPU kernel, each timed
and each checked against the same reference. These pages are the notebooks as they ran when the
site was built, with their pictures and tables.</p>
<h2>The notebooks</h2>
<ol class="notebook-list">
{items}
</ol>
{slides}
<h2>Guides</h2>
<ul>
{guides}
</ul>
<p>To run the notebooks yourself: <code>bash kernel-setup/setup.sh</code> in a checkout of the repository
(the <a href="instructor-guide.html">instructor guide</a> says what it installs and how long it takes).</p>"""
    site.write("index.html", site.page("heat-accel", body))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=pathlib.Path, required=True, help="folder of executed notebooks")
    parser.add_argument(
        "--bench",
        type=pathlib.Path,
        required=True,
        action="append",
        help="heat bench --json output (give it once per file; their rows are joined)",
    )
    parser.add_argument("--mathjax", type=pathlib.Path, required=True, help="MathJax 3's es5/tex-svg.js")
    parser.add_argument(
        "--roofline",
        type=pathlib.Path,
        help="folder heat roofline wrote roofline.json, sweep.png and roofline.png into",
    )
    parser.add_argument("--reveal", type=pathlib.Path, required=True, help="reveal.js 5's npm package folder")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "target" / "site")
    args = parser.parse_args()
    args.out = args.out.resolve()
    ROOFLINE["folder"] = args.roofline

    sources = sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [path.name for path in sources if not (args.notebooks / path.name).exists()]
    if missing:
        raise SystemExit(f"build.py: no executed copy of {missing} in {args.notebooks}; run bash docs/build-site.sh")
    notebooks = [(path.stem, nbformat.read(args.notebooks / path.name, as_version=4)) for path in sources]
    bench = [row for path in args.bench for row in json.loads(path.read_text())]

    site = Site(args.out, notebooks)
    (args.out / "assets").mkdir(parents=True, exist_ok=True)
    for asset in ("site.css", "mathjax-config.js"):
        shutil.copy(HERE / asset, args.out / "assets" / asset)
    shutil.copy(args.mathjax, args.out / "assets" / "mathjax-tex-svg.js")
    if args.roofline:
        (args.out / "roofline").mkdir(parents=True, exist_ok=True)
        for chart in args.roofline.glob("*.png"):
            shutil.copy(chart, args.out / "roofline" / chart.name)
    build_index(site)
    build_notebook_pages(site)
    build_slides(site, args.reveal)
    for page, title in PAGES:
        text = fill_generated((ROOT / "docs" / page).read_text(), bench)
        site.write(page[:-3] + ".html", site.page(title, markdown_to_html(text)))
    print(f"site built: {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
