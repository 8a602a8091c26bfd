"""Headless Chromium for the tests, and JupyterLab driven in it as a learner drives it.

Used by tests/test_site.py (the docs site), tests/test_lab_in_browser.py (the README's command,
then notebooks in JupyterLab) and tests/test_hub_class.py (notebook 01 through the Hub).

- `start_chromium()`: Debian's chromium and chromedriver, headless, kept off the network;
- `status`, `reachable`, `page_of`: a URL's HTTP status, whether it answers 200, its text;
- `wait_for(what, test, seconds)`: polls `test` until it returns something true, else a
  TimeoutError that says what never happened;
- `run_notebook(driver, base, token, name, shots)`: opens a notebook in JupyterLab, Run > Run All
  Cells (and with `restart`, Kernel > Restart Kernel and Run All Cells), and returns what a
  learner would call wrong: error outputs, pictures not displayed, tables missing; a run that
  never ended is reported with the page's state (`page_state`).
Needs Debian's chromium and chromium-driver (bash kernel-setup/debian-packages.sh --with-browser).
"""

import pathlib
import re
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# What a notebook must show, at least: pictures, and HTML tables of these classes.
EXPECTED = {
    "01-compiled-interpreted-jit.ipynb": (1, []),
    "02-vectorization.ipynb": (1, []),
    "03-heat-flow.ipynb": (5, ["heat-comparison", "heat-side-by-side"]),
    "04-gpu-opencl.ipynb": (1, []),
}
BENIGN_STDERR = re.compile(r"^(The type of the variable \w+ was redefined, so was lost\.\s*)+$")
OUTPUTS = """
return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output'))
  .map(o => [o.getAttribute('data-mime-type') || '', o.innerText]);
"""
PROMPTS = """
return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt'))
  .map(p => p.innerText.trim());
"""
RUN_ALL = "li.lm-Menu-item[data-command='runmenu:run-all']"
RESTART_RUN_ALL = "li.lm-Menu-item[data-command='runmenu:restart-and-run-all']"
IMAGES = """
return Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img'))
  .map(i => [i.complete, i.naturalWidth]);
"""


KERNEL_STATUS = """
const indicator = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator')
  || document.querySelector('.jp-Notebook-ExecutionIndicator');
return indicator ? indicator.getAttribute('data-status') : null;
"""


def start_chromium(window=(1280, 1000)):
    """A headless Chromium (the caller quits it), its pages given 60 s to load."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not pathlib.Path(path).exists():
            raise RuntimeError(f"{path} is missing; install it: bash kernel-setup/debian-packages.sh --with-browser")
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
        f"--window-size={window[0]},{window[1]}",
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


def reachable(url):
    try:
        return status(url) == 200
    except OSError:
        return False


def page_of(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode(errors="replace")


def wait_for(what, test, seconds, step=1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what}: still not so after {seconds} s")


def click_visible(driver, selector):
    """Clicks, as a mouse would, the first element matching `selector` that is shown; False if none is."""
    for element in driver.find_elements(By.CSS_SELECTOR, selector):
        if element.is_displayed():
            element.click()
            return True
    return False


def run_all_cells(driver, name):
    """Run > Run All Cells, on the kernel the notebook started."""
    driver.find_element(By.XPATH, "//li[contains(@class,'lm-MenuBar-item')][.//div[normalize-space()='Run']]").click()
    wait_for(f"{name}: Run All Cells in the Run menu", lambda: click_visible(driver, RUN_ALL), 30)


def restart_and_run_all(driver, name):
    """Kernel > Restart Kernel and Run All Cells..., confirmed: what a learner does to start over.
    JupyterLab takes a kernel from the pool for it. Returns the seconds until every cell has run."""
    before = driver.execute_script(PROMPTS)
    driver.find_element(
        By.XPATH, "//li[contains(@class,'lm-MenuBar-item')][.//div[normalize-space()='Kernel']]"
    ).click()
    wait_for(
        f"{name}: Restart Kernel and Run All Cells in the Kernel menu",
        lambda: click_visible(driver, RESTART_RUN_ALL),
        30,
    )
    wait_for(f"{name}: the restart's confirmation", lambda: click_visible(driver, ".jp-Dialog .jp-mod-accept"), 30)
    started = time.perf_counter()
    # JupyterLab marks every cell [*] (queued) at once, then numbers each as it runs.
    wait_for(
        f"{name}: the cells queued after the restart",
        lambda: driver.execute_script(PROMPTS) != before and "[*]:" in driver.execute_script(PROMPTS),
        60,
        step=0.1,
    )
    wait_for(f"{name}: every cell run after the restart", lambda: every_prompt_numbered(driver), 600, step=1)
    return time.perf_counter() - started


def errors_in(outputs):
    """The error outputs among `outputs` (OUTPUTS' [mime, text] pairs), each its first 300
    characters (evcxr's redefinition note left out)."""
    return [
        text[:300]
        for mime, text in outputs
        if mime == "application/vnd.jupyter.stderr" and not BENIGN_STDERR.match(text)
    ]


def page_state(driver):
    """What the page showed, in words for a failure message: the cells run, queued and not run,
    the kernel's status, the error outputs, any dialog shown and the last output. Never raises: it is called when
    something already went wrong."""
    try:
        prompts = driver.execute_script(PROMPTS)
        numbered = [p for p in prompts if re.fullmatch(r"\[\d+\]:", p)]
        queued = prompts.count("[*]:")
        first_unrun = next((i for i, p in enumerate(prompts) if p == "[ ]:"), None)
        outputs = driver.execute_script(OUTPUTS)
        lines = [
            f"code cells: {len(prompts)}, run {len(numbered)}, queued or running {queued}, "
            f"first not run: {'none' if first_unrun is None else f'code cell {first_unrun + 1}'}; "
            f"kernel status: {driver.execute_script(KERNEL_STATUS)}"
        ]
        lines += [f"error output: {text!r}" for text in errors_in(outputs)]
        # A dialog over the page: "Kernel Restarting" (the kernel died), "Select Kernel", ...
        dialogs = [d.text for d in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog") if d.is_displayed()]
        lines += [f"dialog: {text[:300]!r}" for text in dialogs]
        if outputs:
            lines.append(f"last output ({outputs[-1][0] or 'text'}): {outputs[-1][1][-300:]!r}")
        return "\n".join(lines)
    except Exception as error:  # noqa: BLE001 - a description of the page must not hide the failure
        return f"(the page's state could not be read: {error})"


def every_prompt_numbered(driver):
    prompts = driver.execute_script(PROMPTS)
    return prompts if prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts) else None


def choose_rust_kernel(driver, name):
    """Answers JupyterLab's "Select Kernel" dialog with the notebook's own kernel, if it shows.

    Seen once in CI: JupyterLab asked for the first notebook opened right after the server
    started, before it had the kernel list, offering Python 3 first. A learner may see it too;
    the troubleshooting page says to pick "Rust (heatlib)". Returns whether it showed."""
    for dialog in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog"):
        if dialog.is_displayed() and "Select Kernel" in dialog.text:
            Select(dialog.find_element(By.TAG_NAME, "select")).select_by_visible_text("Rust (heatlib)")
            dialog.find_element(By.CSS_SELECTOR, ".jp-Dialog-button.jp-mod-accept").click()
            print(f"{name}: JupyterLab asked which kernel to start; chose Rust (heatlib)", flush=True)
            return True
    return False


def run_notebook(driver, base, token, name, shots, restart=False, must_say=None):
    """Opens notebook `name` of the JupyterLab at `base` (its `token`; "" behind a Hub's login),
    runs all its cells through the Run menu (then, with `restart`, once more after restarting the
    kernel), and returns what a learner would call wrong; `must_say` is a text some output must
    hold. A screenshot goes to `shots`/STEM.png, or STEM-timeout.png when something never came."""
    try:
        return checked_run(driver, base, token, name, shots, restart, must_say)
    except TimeoutError as error:
        shots.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(shots / (pathlib.Path(name).stem + "-timeout.png")))
        return [f"{error}\n{page_state(driver)}"]


def checked_run(driver, base, token, name, shots, restart, must_say):
    problems = []
    started = time.perf_counter()
    # ?reset: a clean workspace, so no tab of an earlier visit opens beside it.
    driver.get(f"{base}/lab/tree/{name}?reset&token={token}")
    wait_for(f"{name}: the notebook's cells", lambda: driver.execute_script(PROMPTS), 120)
    wait_for(
        f"{name}: the kernel",
        lambda: (
            driver.find_elements(
                By.XPATH, "//*[contains(@class,'jp-Notebook-ExecutionIndicator') and @data-status='idle']"
            )
            or "Idle" in driver.find_element(By.TAG_NAME, "body").text
        ),
        180,
    )
    opened = time.perf_counter() - started
    time.sleep(2)
    choose_rust_kernel(driver, name)
    run_all_cells(driver, name)

    asked = [time.monotonic()]

    def every_cell_run():
        if choose_rust_kernel(driver, name):
            run_all_cells(driver, name)
            asked[0] = time.monotonic()
        # A click on Run All that JupyterLab, still loading, did not take (seen once under a Hub):
        # 30 s on, and no cell queued or run, ask again.
        elif time.monotonic() - asked[0] > 30 and all(p == "[ ]:" for p in driver.execute_script(PROMPTS)):
            print(f"{name}: Run All Cells started nothing in 30 s; asking again", flush=True)
            run_all_cells(driver, name)
            asked[0] = time.monotonic()
        return every_prompt_numbered(driver)

    prompts = wait_for(f"{name}: every cell run", every_cell_run, 600, step=2)
    seconds = time.perf_counter() - started
    if restart:
        # A learner reads the results before starting over; meanwhile the pool's next kernel starts.
        time.sleep(20)
        rerun = restart_and_run_all(driver, name)
        print(f"{name}: Restart Kernel and Run All Cells: every cell run again after {rerun:.0f} s", flush=True)
    pictures = [image for image in driver.execute_script(IMAGES) if image[0] and image[1] > 0]
    outputs = driver.execute_script(OUTPUTS)
    problems += [f"{name}: an error or warning output: {text!r}" for text in errors_in(outputs)]
    least, tables = EXPECTED.get(pathlib.Path(name).name, (1, []))  # a Hub's copy is in a folder
    if len(pictures) < least:
        problems.append(f"{name}: {len(pictures)} pictures displayed, expected at least {least}")
    for table in tables:
        if not driver.find_elements(By.CSS_SELECTOR, f".jp-NotebookPanel:not(.lm-mod-hidden) .{table} table"):
            problems.append(f"{name}: no .{table} table shown")
    if must_say and not any(must_say in text for _, text in outputs):
        problems.append(f"{name}: no output says {must_say!r}")
    page = driver.find_element(By.TAG_NAME, "body").text
    if "official Jupyter news" in page or "check for updates" in page.lower():
        problems.append(f"{name}: a news or update prompt shows on the page")
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / (pathlib.Path(name).stem + ".png")))
    print(
        f"{name}: page ready {opened:.1f} s after opening, all {len(prompts)} code cells run after {seconds:.0f} s, "
        f"{len(pictures)} pictures, {len(outputs)} outputs",
        flush=True,
    )
    # Close it and shut its kernel down, so the next notebook does not share the machine with it.
    driver.execute_script(
        "return fetch(arguments[0] + '/api/sessions?token=' + arguments[1])"
        ".then(r => r.json()).then(s => Promise.all((Array.isArray(s) ? s : []).map(x => fetch(arguments[0] + "
        "'/api/sessions/' + x.id + '?token=' + arguments[1], {method: 'DELETE'}))))",
        base,
        token,
    )
    return problems
