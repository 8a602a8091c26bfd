"""The built site (target/site, a Jupyter Book) opened in headless Chromium, as a reader sees it.

    bash docs/build-site.sh && .venv/bin/python -m pytest tests/test_site.py

Serves the site on 127.0.0.1, then, starting from index.html and following every link inside
the site: each page must load with HTTP 200 and a title; every image must be displayed
(complete, natural width > 0); every link must lead somewhere (a page of the site that loads,
or a file that answers 200, and the #fragment it names must exist there); equations must have
been typeset by MathJax, from the site's own copy. The pages the site promises (each notebook,
the guides) must all be reached. Links that leave the site cannot be followed on a machine
without network; they are listed, not fetched, and no page loads a script or a style from
outside the site. Search works offline: a word finds the pages that have it. The API reference
(rustdoc) must be reached and load; its own links are rustdoc's (checked by `cargo doc` with
warnings denied). The generated pages show what was measured, as heat printed it: each size's
speed table the speed-ups of `heat bench --json` (whose rows fit their schema), the Python
table each Python version, the speed-of-light page the table `heat roofline --html` wrote, the
troubleshooting page each check of the doctor. Each notebook of the core path has a slide deck (slides/STEM.html): in a
1280 x 720 window, no slide's content is taller than the slide, and its speaker notes are there.
A screenshot of the heat-flow page goes to target/site-check/heat-flow.png, one of each deck's
tallest slide beside it.
"""

import functools
import html
import http.server
import json
import pathlib
import re
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field

import jsonschema
import kernel_check  # the doctor: its checks and their anchors
import nbformat
import pytest
from browser import status
from core_path import is_core, is_presented
from heat_cli import stage_names

pytestmark = pytest.mark.browser

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / "target" / "site"
# The executed notebooks the site was built from, and the measurements.
EXECUTED = ROOT / "target" / "notebooks"
MEASURED = ROOT / "target" / "site-build"
SCREENSHOTS = ROOT / "target" / "site-check"
API_REFERENCE = "api/heatlib/index.html"
GUIDES = ["python-to-rust", "stages", "speed-of-light", "instructor-guide", "troubleshooting"]
PROMISED = [
    "index.html",
    *(f"docs/{page}.html" for page in GUIDES),
    API_REFERENCE,
] + [f"notebooks/{path.stem}.html" for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
HEAT_FLOW = "notebooks/03-heat-flow.html"

IMAGES = "return Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.complete, i.naturalWidth]);"
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
# Every script and style sheet the page loads.
LOADED = "return Array.from(document.querySelectorAll('script[src], link[rel=stylesheet]')).map(e => e.src || e.href);"
HAS_ID = "return document.getElementById(arguments[0]) !== null || document.getElementsByName(arguments[0]).length > 0;"
EQUATIONS = (
    "return [document.querySelectorAll('mjx-container').length, document.querySelectorAll('mjx-merror').length];"
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Chromium drops requests it no longer needs when the test moves to the next page.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def wait_for_equations(driver):
    """MathJax typesets after the page loads; wait until it says it is done."""
    driver.set_script_timeout(60)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;"
        "const wait = () => ready() ? MathJax.startup.promise.then(() => done(true)) : setTimeout(wait, 50);"
        "if (!document.querySelector('script[src*=mathjax]')) done(false); else wait();"
    )


def check_page(driver, url, problems):
    """Loads one page; returns the links on it (None if it did not load) and how many images it shows."""
    code = status(url)
    if code != 200:
        problems.append(f"{url}: HTTP {code}")
        return None, 0
    driver.get(url)
    if not driver.title.strip():
        problems.append(f"{url}: no title")
    shown = driver.execute_script(IMAGES)
    for source, complete, width in shown:
        if not complete or width == 0:
            problems.append(f"{url}: an image is not displayed ({source}...)")
    wait_for_equations(driver)
    typeset, errors = driver.execute_script(EQUATIONS)
    if errors:
        problems.append(f"{url}: {errors} equations failed to typeset")
    if url.endswith(HEAT_FLOW) and typeset == 0:
        problems.append(f"{url}: the heat equation was not typeset")
    repeated = driver.execute_script(
        "const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);"
        "return ids.filter((id, i) => ids.indexOf(id) !== i);"
    )
    if repeated:
        problems.append(f"{url}: ids used twice, so links to them are ambiguous: {sorted(set(repeated))}")
    origin = "{0.scheme}://{0.netloc}/".format(urllib.parse.urlsplit(url))
    outside = [source for source in driver.execute_script(LOADED) if not source.startswith(origin)]
    if outside:
        problems.append(f"{url}: loads from outside the site, which a machine offline cannot: {outside}")
    raw = re.search(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$", driver.execute_script("return document.body.innerText;"))
    if raw:
        problems.append(f"{url}: TeX shown as text, not typeset: {raw[0][:60]}")
    return driver.execute_script(LINKS), len(shown)


def pictures_in(notebook_path):
    """How many pictures the executed notebook holds: its PNG and GIF outputs, and the figures
    its Markdown cells show (`![what](figures/...)`)."""
    notebook = nbformat.read(notebook_path, as_version=4)
    outputs = sum(
        kind.startswith("image/")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        for kind in output.get("data", {})
    )
    figures = sum(
        len(re.findall(r"!\[[^\]]*\]\([^)]+\)", cell.source)) for cell in notebook.cells if cell.cell_type == "markdown"
    )
    return outputs + figures


def bench_rows(language):
    """The rows `heat bench --json` wrote for the site, of `language` ("rust" or "python")."""
    return [
        row
        for path in sorted(MEASURED.glob("bench-*.json"))
        for row in json.loads(path.read_text())
        if row.get("language", "rust") == language
    ]


@pytest.fixture(scope="module")
def base():
    """The site served on 127.0.0.1: its address."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"no site in {SITE}; build it with bash docs/build-site.sh")
    server = Server(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@dataclass
class Crawl:
    """What following every link from index.html found."""

    visited: list = field(default_factory=list)
    loaded: set = field(default_factory=set)
    # (page, target, fragment) of every link to a #fragment inside the site
    fragments: list = field(default_factory=list)
    outside: set = field(default_factory=set)
    # the HTTP status of every file (not a page) a link leads to
    files: dict = field(default_factory=dict)
    images: int = 0
    problems: list = field(default_factory=list)


@pytest.fixture(scope="module")
def crawl(chromium, base):
    found = Crawl()
    queue = [base + "index.html"]
    while queue:
        url = queue.pop(0)
        if url in found.visited:
            continue
        found.visited.append(url)
        links, shown = check_page(chromium, url, found.problems)
        found.images += shown
        if links is None:
            continue
        found.loaded.add(url)
        page = url[len(base) :]
        if page.startswith("api/"):
            # rustdoc's own pages link to every item and source file: its index loading is
            # what the site promises; `cargo doc -D warnings` already checked its links.
            continue
        if page.startswith("notebooks/"):
            expected = pictures_in(EXECUTED / (page[len("notebooks/") : -len(".html")] + ".ipynb"))
            if shown != expected:
                found.problems.append(f"{page} shows {shown} images; its notebook has {expected} pictures")
        for link in links:
            target, _, fragment = link.partition("#")
            if not target.startswith(base):
                if not link.startswith("mailto:"):
                    found.outside.add(link)
                continue
            if target.endswith("/"):
                target += "index.html"
            # reveal.js's own links (#/3/1) name a slide, not an element.
            if fragment and not fragment.startswith("/"):
                found.fragments.append((url, target, fragment))
            if not target.endswith(".html"):
                # A file, not a page (a picture at full size, a download): it must be there.
                if target not in found.files:
                    found.files[target] = status(target)
            elif target not in found.visited and target not in queue:
                queue.append(target)
    print(f"{len(found.visited)} pages opened in Chromium, {found.images} images displayed")
    for link in sorted(found.outside):
        print(f"  leaves the site (not followed, no network here): {link}")
    return found


def test_every_page_loads_with_its_pictures_and_equations(crawl):
    assert not crawl.problems, "\n".join(crawl.problems)


def test_every_file_a_link_names_is_there(crawl):
    assert {file: code for file, code in crawl.files.items() if code != 200} == {}


def test_every_link_inside_the_site_leads_somewhere(crawl, chromium):
    wanted = {}  # page -> the fragments links name on it
    for _, target, fragment in crawl.fragments:
        # A page that failed to load: the test above says so.
        if target in crawl.loaded:
            wanted.setdefault(target, set()).add(urllib.parse.unquote(fragment))
    missing = set()
    for target, fragments in wanted.items():
        chromium.get(target)
        missing |= {(target, f) for f in fragments if not chromium.execute_script(HAS_ID, f)}
    problems = [
        f"{page}: a link to {target}#{fragment}, but there is no #{fragment} there"
        for page, target, fragment in crawl.fragments
        if (target, urllib.parse.unquote(fragment)) in missing
    ]
    assert not problems, "\n".join(problems)


def test_every_promised_page_is_reached(crawl, base):
    reached = {url[len(base) :] for url in crawl.visited}
    assert [page for page in PROMISED if page not in reached] == [], "not linked from the site (or missing)"


def test_bench_rows_fit_their_published_schema():
    """Every row the site is built from fits the schema of `heat bench --json` (heatlib's BenchRow)."""
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "bench-row.schema.json").read_text()))
    paths = sorted(MEASURED.glob("bench-*.json"))
    assert paths, f"no heat bench figures in {MEASURED}/bench-*.json"
    errors = [
        f"{path.name}: {error.message} at {list(error.absolute_path)}"
        for path in paths
        for error in validator.iter_errors(json.loads(path.read_text()))
    ]
    assert not errors, "\n".join(errors)


def format_ratio(ratio):
    """A speed-up as heatlib's `format_ratio` prints it: three significant digits, then "x"."""
    digits = 0 if ratio >= 100 else 1 if ratio >= 10 else 2
    return f"{ratio:.{digits}f}x"


def heat_tables(driver, kind):
    """Each table of kind `kind` (heatlib's `Table`, class heat-KIND) on the page: its caption,
    column titles, and the text of each cell of each row."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('div.heat-' + arguments[0] + ' table')).map(t => ({"
        "  caption: t.caption ? t.caption.innerText : '',"
        "  columns: Array.from(t.querySelectorAll('th')).map(c => c.innerText),"
        "  rows: Array.from(t.rows).filter(r => r.querySelector('td'))"
        "      .map(r => Array.from(r.cells).map(c => c.innerText))}));",
        kind,
    )


def size_of(caption):
    """(nx, nt) from a heatlib table's caption ("nx = 50, nt = 1000, ...")."""
    found = re.search(r"nx = (\d+), nt = (\d+)", caption)
    assert found, f"no problem size in the caption {caption!r}"
    return int(found[1]), int(found[2])


def test_speed_tables_show_what_heat_bench_measured(chromium, base):
    """Each size's stages, in order, with the speed-ups `heat bench --json` wrote (same run, same
    baseline), in the table heat printed (`--html`)."""
    chromium.get(base + "docs/python-to-rust.html")
    tables = heat_tables(chromium, "comparison")
    bench = bench_rows("rust")
    assert bench, f"no heat bench figures in {MEASURED}/bench-*.json"
    sizes = {(row["nx"], row["nt"]) for row in bench}
    assert sorted(size_of(table["caption"]) for table in tables) == sorted(sizes), "one table per size measured"
    problems = []
    for table in tables:
        rows = [row for row in bench if (row["nx"], row["nt"]) == size_of(table["caption"])]
        assert f"speed-up over {rows[0]['baseline']}" in table["caption"]
        stage, speed_up = table["columns"].index("stage"), table["columns"].index("speed-up")
        assert [cells[stage] for cells in table["rows"]] == [row["stage"] for row in rows]
        for cells, row in zip(table["rows"], rows, strict=True):
            if cells[speed_up] != format_ratio(row["speed_up"]):
                problems.append(
                    f"{row['stage']} ({row['size']}) shows speed-up {cells[speed_up]!r}, "
                    f"heat bench measured {format_ratio(row['speed_up'])!r} over {row['baseline']}"
                )
    assert not problems, "\n".join(problems)
    names = {row["stage"] for row in bench}
    assert set(stage_names()) - {"interpreted", "opencl"} <= names, "every stage timed on some size"


def test_python_tables_show_every_python_version_with_its_ratio(chromium, base):
    """The Python versions beside their Rust stages: every one heat bench --with-python timed,
    with the JSON's Rust / Python ratio."""
    chromium.get(base + "docs/python-to-rust.html")
    tables = heat_tables(chromium, "side-by-side")
    python = bench_rows("python")
    assert python, f"no Python rows in {MEASURED}/bench-*.json"
    problems = []
    for table in tables:
        rows = [row for row in python if (row["nx"], row["nt"]) == size_of(table["caption"])]
        ratio = table["columns"].index("Rust / Python")
        shown = {cells[0]: cells[ratio] for cells in table["rows"]}
        left_out = {row["python_analog"] for row in rows} - set(shown)
        if left_out:
            problems.append(f"{table['caption']}: timed but not shown: {sorted(left_out)}")
        for row in rows:
            expected = format_ratio(row["rust_over_python"]) if row.get("rust_over_python") else None
            if expected and shown.get(row["python_analog"]) != expected:
                shown_ratio = shown.get(row["python_analog"])
                problems.append(f"{row['python_analog']} ({row['size']}): {shown_ratio!r}, the JSON {expected!r}")
    assert len(tables) == len({(row["nx"], row["nt"]) for row in python}), "one Python table per size"
    assert not problems, "\n".join(problems)


def test_speed_of_light_page_shows_heat_roofline_figures(chromium, base):
    """The build machine's bandwidth per level as `heat roofline --html` wrote it (the CLI's
    tests check that table is the JSON's), its CPU the JSON's, and both charts."""
    ceilings = json.loads((MEASURED / "roofline" / "roofline.json").read_text())
    written = (MEASURED / "generated" / "roofline-table.html").read_text()
    chromium.get(base + "docs/speed-of-light.html")
    [table] = heat_tables(chromium, "ceilings")
    charts = chromium.execute_script("return Array.from(document.images).map(i => i.currentSrc.split('/').pop());")
    assert sorted(charts) == ["roofline.png", "sweep.png"]
    assert ceilings["cpu"] in table["caption"] and ceilings["measured_on"] in table["caption"]
    assert len(table["rows"]) == len(ceilings["caches"]) + 1, "one row per cache level and one for memory"
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", written)
    assert [cell for row in table["rows"] for cell in row] == [html.unescape(cell) for cell in cells]


# Sphinx's search runs in the page, from the site's own index (searchindex.js): what it lists.
SEARCH_RESULTS = """
const done = arguments[arguments.length - 1];
const until = Date.now() + 30000;
const wait = () => {
    const found = Array.from(document.querySelectorAll('ul.search li a')).map(a => a.href);
    if (found.length > 0 || Date.now() > until) done(found); else setTimeout(wait, 100);
};
wait();
"""


def test_search_finds_the_pages_that_have_a_word_offline(chromium, base):
    chromium.get(base + "search.html?q=stencil")
    found = [link[len(base) :].split("#")[0] for link in chromium.execute_async_script(SEARCH_RESULTS)]
    assert "notebooks/03-heat-flow.html" in found, f"search for 'stencil' found {found}"


def test_troubleshooting_page_has_every_check_of_the_doctor(chromium, base):
    """Each way the doctor can fail has its section, at the anchor the doctor sends readers to."""
    failures = set(re.findall(r'check\.fail\("([^"]+)"', (ROOT / "kernel-setup" / "kernel_check.py").read_text()))
    assert failures, "no check.fail(...) found in kernel-setup/kernel_check.py"
    chromium.get(base + "docs/troubleshooting.html")
    listed = set(
        chromium.execute_script("return Array.from(document.querySelectorAll('.check h3')).map(h => h.innerText);")
    )
    assert sorted(failures - listed) == []
    anchors = [kernel_check.anchor(name) for name in sorted(failures)]
    assert [anchor for anchor in anchors if not chromium.execute_script(HAS_ID, anchor)] == []


# Each slide's content height in the deck's own pixels (a slide is 1280 x 720 before reveal.js
# scales it to the window), and the first words of the slide to name it by.
SLIDE_HEIGHTS = """
return Reveal.getSlides().map(slide => {
    const indices = Reveal.getIndices(slide);
    Reveal.slide(indices.h, indices.v);
    return [indices.h, indices.v, slide.scrollHeight, slide.innerText.trim().slice(0, 60)];
});
"""
SLIDE_SIZE = (1280, 720)
PRESENTED = [
    path.stem
    for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
    if is_presented(nbformat.read(path, as_version=4))
]


def test_some_notebook_is_presented():
    assert PRESENTED, "no notebook is marked as presented (metadata heat_accel.presented): no slides"


@pytest.mark.parametrize("stem", PRESENTED)
def test_slides_fit_and_carry_their_notes(chromium, base, stem):
    """The notebook's deck: slides of 1280 x 720, none taller than that, its speaker notes shown."""
    core = [cell for cell in nbformat.read(EXECUTED / f"{stem}.ipynb", as_version=4).cells if is_core(cell)]
    notes = sum(cell.metadata.get("slideshow", {}).get("slide_type") == "notes" for cell in core)
    chromium.set_window_size(*SLIDE_SIZE)
    try:
        chromium.get(f"{base}slides/{stem}.html")
        wait_for_equations(chromium)
        ready = chromium.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const until = Date.now() + 30000;"
            "const wait = () => (window.Reveal && Reveal.isReady()) ? done(true)"
            "    : Date.now() > until ? done(false) : setTimeout(wait, 50);"
            "wait();"
        )
        assert ready, "reveal.js did not start within 30 s"
        config = chromium.execute_script("const c = Reveal.getConfig(); return [c.width, c.height];")
        assert tuple(config) == SLIDE_SIZE
        slides = chromium.execute_script(SLIDE_HEIGHTS)
        assert slides, "the deck has no slides"
        tallest = max(slides, key=lambda slide: slide[2])
        chromium.execute_script("Reveal.slide(arguments[0], arguments[1]);", tallest[0], tallest[1])
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        chromium.save_screenshot(str(SCREENSHOTS / f"slides-{stem}-tallest.png"))
        print(f"slides/{stem}.html: {len(slides)} slides, {notes} speaker notes, tallest {tallest[2]} px")
        too_tall = [
            f"#/{h}/{v}: {content} px tall: {words!r}" for h, v, content, words in slides if content > SLIDE_SIZE[1]
        ]
        assert not too_tall, "\n".join(too_tall)
        shown = chromium.execute_script("return document.querySelectorAll('aside.notes').length;")
        assert notes > 0 and shown == notes, f"{shown} speaker notes shown, {notes} cells of notes in its core"
    finally:
        chromium.set_window_size(1280, 1000)


def test_heat_flow_page_screenshot(chromium, base):
    """A picture of the page most learners open, for a person to look at (target/site-check)."""
    chromium.get(base + HEAT_FLOW)
    wait_for_equations(chromium)
    height = min(chromium.execute_script("return document.body.scrollHeight;"), 2400)
    chromium.set_window_size(1280, height)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "heat-flow.png"
    chromium.save_screenshot(str(shot))
    chromium.set_window_size(1280, 1000)
    assert shot.stat().st_size > 10_000, f"{shot} is nearly empty"
    print(f"screenshot of the heat-flow page: {shot}")
