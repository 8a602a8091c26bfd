"""Opens the built site (target/site) in headless Chromium and checks it as a reader would see it.

    .venv/bin/python tests/site_check.py [--site target/site] [--screenshots target/site-check]

Serves the site on 127.0.0.1, then, starting from index.html and following every link inside
the site: each page must load with HTTP 200 and a title; every image must be displayed
(complete, natural width > 0); every link must lead somewhere (a page of the site that loads,
and the #fragment it names must exist there); equations must have been typeset by MathJax.
The pages the site promises (each notebook, the guides) must all be reached. Links that leave
the site cannot be followed on a machine without network; they are listed, not fetched.
The API reference (rustdoc) must be reached and load; its own links are rustdoc's (checked by
`cargo doc` with warnings denied). Each notebook of the core path has a slide deck
(slides/STEM.html): in a 1280 x 720 window, no slide's content is taller than the slide, and
its speaker notes are there. A screenshot of the heat-flow page goes to
target/site-check/heat-flow.png, one of each deck's tallest slide beside it.
Needs Debian's chromium and chromium-driver (bash kernel-setup/debian-packages.sh --with-browser).
"""

import argparse
import functools
import http.server
import json
import pathlib
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import kernel_check  # the doctor: its checks and their anchors
import nbformat
from core_path import is_core, is_presented
from heat_cli import stage_names
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
API_REFERENCE = "api/heatlib/index.html"
PROMISED = [
    "index.html",
    "python-to-rust.html",
    "stages.html",
    "speed-of-light.html",
    "instructor-guide.html",
    "troubleshooting.html",
    API_REFERENCE,
] + [f"notebooks/{path.stem}.html" for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
HEAT_FLOW = "notebooks/03-heat-flow.html"

IMAGES = "return Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.complete, i.naturalWidth]);"
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"
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


def serve(site):
    server = Server(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not pathlib.Path(path).exists():
            raise SystemExit(
                f"site_check: {path} is missing; install it: bash kernel-setup/debian-packages.sh --with-browser"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Chromium's background connections fail on a machine without network; keep them off.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


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


def check_bench_rows(problems):
    """Every row the site is built from fits the published schema of `heat bench --json` (heatlib's BenchRow)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "bench-row.schema.json").read_text()))
    for path in sorted((ROOT / "target" / "site-build").glob("bench-*.json")):
        for error in validator.iter_errors(json.loads(path.read_text())):
            problems.append(f"{path.name}: {error.message} at {list(error.absolute_path)}")


def check_speed_ups(rows, problems):
    """The table's speed-ups are those `heat bench --json` wrote (the same run, the same baseline)."""
    bench = [
        row
        for path in sorted((ROOT / "target" / "site-build").glob("bench-*.json"))
        for row in json.loads(path.read_text())
        if row.get("language", "rust") == "rust"
    ]
    shown = {(row[1], "small"): row[4] for row in rows} | {(row[1], "large"): row[7] for row in rows}
    for row in bench:
        digits = 0 if row["speed_up"] >= 100 else 1 if row["speed_up"] >= 10 else 2
        expected = f"{row['speed_up']:.{digits}f}\u00d7"
        cell = shown.get((row["stage"], row["size"]))
        if cell != expected:
            problems.append(
                f"python-to-rust.html: {row['stage']} ({row['size']}) shows speed-up {cell!r}, "
                f"heat bench measured {expected!r} over {row['baseline']}"
            )
    if not bench:
        problems.append("no heat bench figures in target/site-build/bench-*.json")


def check_python_table(driver, problems):
    """The Python versions beside their Rust stages: every version heat bench --with-python timed, with its ratio."""
    python = [
        row
        for path in sorted((ROOT / "target" / "site-build").glob("bench-*.json"))
        for row in json.loads(path.read_text())
        if row.get("language") == "python"
    ]
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.python-table tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText));"
    )
    shown = {row[0] for row in rows}
    missing = {row["python_analog"] for row in python} - shown
    if not python or missing:
        problems.append(f"python-to-rust.html: the Python table lacks {sorted(missing) or 'every row'}")
    ratios = [cell for row in rows for cell in row[4::3]]
    if not any(re.match(r"^[\d.]+\u00d7$", cell) for cell in ratios):
        problems.append(f"python-to-rust.html: the Python table shows no Rust / Python ratio: {rows}")


def check_generated_pages(driver, base, problems):
    """The pages generated from measurements and from the doctor say what they should."""
    driver.get(base + "python-to-rust.html")
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.speed-table tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText));"
    )
    found, stages = [row[1] for row in rows], stage_names()
    if found != stages:
        problems.append(f"python-to-rust.html: the speed table lists {found}, not {stages}")
    check_bench_rows(problems)
    check_speed_ups(rows, problems)
    for row in rows:
        figures = [cell for cell in row[3:] if re.match(r"^[\d,.]+", cell)]
        if row[1] != "interpreted" and len(figures) < 5:
            problems.append(f"python-to-rust.html: the {row[1]} row lacks measured figures: {row}")
    check_python_table(driver, problems)
    check_roofline_page(driver, base, problems)
    doctor = (ROOT / "kernel-setup" / "kernel_check.py").read_text()
    failures = set(re.findall(r'check\.fail\("([^"]+)"', doctor))
    driver.get(base + "troubleshooting.html")
    listed = set(
        driver.execute_script("return Array.from(document.querySelectorAll('.check h3')).map(h => h.innerText);")
    )
    if not failures or failures - listed:
        problems.append(f"troubleshooting.html lacks the doctor's checks {sorted(failures - listed)}")
    for name in failures:
        if not driver.execute_script(HAS_ID, kernel_check.anchor(name)):
            problems.append(f"troubleshooting.html has no #{kernel_check.anchor(name)}, where the doctor sends readers")


def check_roofline_page(driver, base, problems):
    """The speed-of-light page: the build machine's bandwidth per level, the same as heat roofline's JSON,
    and both charts."""
    measured = ROOT / "target" / "site-build" / "roofline" / "roofline.json"
    driver.get(base + "speed-of-light.html")
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.heat-roofline tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText));"
    )
    charts = driver.execute_script("return Array.from(document.images).map(i => i.currentSrc.split('/').pop());")
    if sorted(charts) != ["roofline.png", "sweep.png"]:
        problems.append(f"speed-of-light.html: the charts are {charts}, not sweep.png and roofline.png")
    if not measured.exists() or not shown:
        problems.append("speed-of-light.html: no bandwidth table, or no target/site-build/roofline/roofline.json")
        return
    ceilings = json.loads(measured.read_text())
    copy = {
        b["working_set"]: b["gb_per_s"] for b in ceilings["bandwidth"] if b["pattern"] == "copy" and b["threads"] == 1
    }
    for row in shown:
        size = int(row[1].split()[0]) * 1024
        if f"{copy.get(size, -1):.0f}" != row[4]:
            problems.append(
                f"speed-of-light.html: {row[0]} copy on 1 thread shows {row[4]}, the JSON has {copy.get(size)}"
            )
    if len(shown) != len(ceilings["caches"]) + 1:
        problems.append(
            f"speed-of-light.html: {len(shown)} levels shown for {len(ceilings['caches'])} caches and memory"
        )


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


def presented_notebooks(notebooks):
    """The executed copies of the notebooks of the core path, which the site shows as slides."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(notebooks / path.name, as_version=4)
        if is_presented(notebook):
            yield path.stem, notebook


def check_slides(driver, base, notebooks, screenshots, problems):
    """Every presented notebook has a deck; no slide is taller than 720 px; the notes are there."""
    decks = 0
    for stem, notebook in presented_notebooks(notebooks):
        decks += 1
        core = [cell for cell in notebook.cells if is_core(cell)]
        notes = sum(cell.metadata.get("slideshow", {}).get("slide_type") == "notes" for cell in core)
        driver.set_window_size(*SLIDE_SIZE)
        driver.get(f"{base}slides/{stem}.html")
        wait_for_equations(driver)
        ready = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const until = Date.now() + 30000;"
            "const wait = () => (window.Reveal && Reveal.isReady()) ? done(true)"
            "    : Date.now() > until ? done(false) : setTimeout(wait, 50);"
            "wait();"
        )
        if not ready:
            problems.append(f"slides/{stem}.html: reveal.js did not start within 30 s")
            continue
        width, height = driver.execute_script("const c = Reveal.getConfig(); return [c.width, c.height];")
        if (width, height) != SLIDE_SIZE:
            problems.append(f"slides/{stem}.html: slides of {width} x {height}, not {SLIDE_SIZE}")
        slides = driver.execute_script(SLIDE_HEIGHTS)
        if not slides:
            problems.append(f"slides/{stem}.html has no slides")
        for h, v, content, words in slides:
            if content > height:
                problems.append(f"slides/{stem}.html#/{h}/{v}: {content} px tall (more than {height}): {words!r}")
        shown = driver.execute_script("return document.querySelectorAll('aside.notes').length;")
        if shown != notes or notes == 0:
            problems.append(f"slides/{stem}.html: {shown} speaker notes shown, {notes} cells of notes in its core")
        tallest = max(slides, key=lambda slide: slide[2], default=None)
        if tallest:
            driver.execute_script("Reveal.slide(arguments[0], arguments[1]);", tallest[0], tallest[1])
            driver.save_screenshot(str(screenshots / f"slides-{stem}-tallest.png"))
        tallest_px = tallest[2] if tallest else 0
        print(f"slides/{stem}.html: {len(slides)} slides, {notes} speaker notes, tallest {tallest_px} px")
    if decks == 0:
        problems.append("no notebook is marked as presented (metadata heat_accel.presented): no slides to check")


def fragment_exists(driver, page, fragment, cache):
    key = (page, fragment)
    if key not in cache:
        driver.get(page)
        cache[key] = driver.execute_script(HAS_ID, urllib.parse.unquote(fragment))
    return cache[key]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "target" / "site")
    parser.add_argument(
        "--notebooks",
        type=pathlib.Path,
        default=ROOT / "target" / "notebooks",
        help="the executed notebooks the site was built from",
    )
    parser.add_argument("--screenshots", type=pathlib.Path, default=ROOT / "target" / "site-check")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        raise SystemExit(f"site_check: no site in {args.site}; build it with bash docs/build-site.sh")
    server, base = serve(args.site)
    driver = browser()
    problems, outside, visited, loaded, fragments, images = [], set(), [], set(), [], 0
    try:
        queue = [base + "index.html"]
        while queue:
            url = queue.pop(0)
            if url in visited:
                continue
            visited.append(url)
            links, shown = check_page(driver, url, problems)
            images += shown
            if links is None:
                continue
            loaded.add(url)
            page = url[len(base) :]
            if page.startswith("api/"):
                # rustdoc's own pages link to every item and source file: its index loading is
                # what the site promises; `cargo doc -D warnings` already checked its links.
                continue
            if page.startswith("notebooks/"):
                expected = pictures_in(args.notebooks / (page[len("notebooks/") : -len(".html")] + ".ipynb"))
                if shown != expected:
                    problems.append(f"{page} shows {shown} images; its notebook has {expected} pictures")
            for link in links:
                target, _, fragment = link.partition("#")
                if not target.startswith(base):
                    if not link.startswith(("mailto:",)):
                        outside.add(link)
                    continue
                if target.endswith("/"):
                    target += "index.html"
                # reveal.js's own links (#/3/1) name a slide, not an element.
                if fragment and not fragment.startswith("/"):
                    fragments.append((url, target, fragment))
                if target not in visited and target not in queue:
                    queue.append(target)
        cache = {}
        for page, target, fragment in fragments:
            if target in loaded and not fragment_exists(driver, target, fragment, cache):
                problems.append(f"{page}: a link to {target}#{fragment}, but there is no #{fragment} there")
        check_generated_pages(driver, base, problems)
        reached = {url[len(base) :] for url in visited}
        for promised in PROMISED:
            if promised not in reached:
                problems.append(f"{promised} is not linked from the site (or is missing)")
        args.screenshots.mkdir(parents=True, exist_ok=True)
        check_slides(driver, base, args.notebooks, args.screenshots, problems)
        driver.set_window_size(1280, 1000)
        driver.get(base + HEAT_FLOW)
        wait_for_equations(driver)
        height = min(driver.execute_script("return document.body.scrollHeight;"), 2400)
        driver.set_window_size(1280, height)
        shot = args.screenshots / "heat-flow.png"
        driver.save_screenshot(str(shot))
        print(f"screenshot of the heat-flow page: {shot}")
    finally:
        driver.quit()
        server.shutdown()
    print(f"{len(visited)} pages opened in Chromium, {images} images displayed")
    for link in sorted(outside):
        print(f"  leaves the site (not followed, no network here): {link}")
    for problem in problems:
        print(f"FAIL  {problem}")
    print("site check passed" if not problems else f"site check: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
