"""The README's first command, then notebooks 01-04 run through JupyterLab in headless Chromium.

    .venv/bin/python tests/lab_in_browser.py [--port 18888] [--screenshots target/lab-check]
        [--without-opencl] [NOTEBOOK ...]

What a learner does, checked:
- `bash kernel-setup/setup.sh --port PORT` (the README's command; set-up is already done, so it
  skips to JupyterLab, as root too) prints a link with a token; the lab page loads with it, and
  the server refuses a request without it (HTTP 403). The token is in no process's command
  line (which any user can read through ps), JupyterLab's nor its kernels', nor in a kernel's
  environment.
- Chromium opens each notebook from that link, chooses Run > Run All Cells, and waits until every
  code cell has an execution count. Then: no error output (the only text on stderr allowed is
  evcxr's note that a redefined variable was dropped), every picture displayed (complete,
  natural width > 0, at least as many as the notebook's test run showed), the comparison
  tables present where the notebook has them, no news or update prompt on the page.
  The first notebook is then run again through Kernel > Restart Kernel and Run All Cells (the
  kernel pool hands over the new kernel), and checked the same way.
  A screenshot of each goes to target/lab-check/.
- With --without-opencl, on a machine with no OpenCL driver (OCL_ICD_VENDORS pointing at an
  empty folder, as on a laptop without one): the same, and notebook 03 says that it left the
  opencl stage out instead of failing.
- The server stops cleanly on SIGINT (Ctrl-C), as the README says, and no kernel it started
  is left running.
Needs Debian's chromium and chromium-driver (bash kernel-setup/debian-packages.sh --with-browser).
"""

import argparse
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from lab_server import stop_with_ctrl_c
from script_outcome import report
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from site_check import browser, status

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ["01-compiled-interpreted-jit.ipynb", "02-vectorization.ipynb", "03-heat-flow.ipynb", "04-gpu-opencl.ipynb"]
# What a notebook must show, at least: pictures, and HTML tables of these classes.
EXPECTED = {
    "01-compiled-interpreted-jit.ipynb": (1, []),
    "02-vectorization.ipynb": (1, []),
    "03-heat-flow.ipynb": (5, ["heat-comparison", "heat-side-by-side"]),
    "04-gpu-opencl.ipynb": (1, []),
}
# What notebook 03 prints for a stage this machine cannot run.
LEFT_OUT = "opencl is left out on this machine"
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


def wait_for_link(process, port, log):
    """The link the README's command prints, with its token; (link, token)."""
    deadline = time.monotonic() + 600
    pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)")
    while time.monotonic() < deadline:
        found = pattern.search(pathlib.Path(log.name).read_text(errors="replace"))
        if found:
            return found[0], found[1]
        if process.poll() is not None:
            raise SystemExit(
                f"lab_in_browser: setup.sh stopped (exit {process.returncode}) before printing the link; "
                f"its output is in {log.name}"
            )
        time.sleep(1)
    raise SystemExit(f"lab_in_browser: no link after 10 minutes; see {log.name}")


def reachable(url):
    try:
        return status(url) == 200
    except OSError:
        return False


def page_of(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode(errors="replace")


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


def command_lines_holding(secret):
    """Every process whose command line, readable by any user of the machine, holds `secret`."""
    found = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if any(secret.encode() in word for word in words):
            found.append(f"{cmdline.parent.name}: {b' '.join(words)[:120].decode(errors='replace')}")
    return found


def kernels_holding(secret):
    """Every kernel process (evcxr, ipykernel) whose environment holds `secret`."""
    found = []
    for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
        try:
            command = (environ.parent / "cmdline").read_bytes()
            if b"evcxr_jupyter" not in command and b"ipykernel" not in command:
                continue
            if secret.encode() in environ.read_bytes():
                found.append(f"{environ.parent.name}: {command.replace(bytes(1), b' ')[:100].decode(errors='replace')}")
        except OSError:  # ended while we looked, or another user's
            continue
    return found


def wait_for(what, test, seconds, step=1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"{what}: still not so after {seconds} s")


def run_all(driver, base, token, name, shots, restart=False, must_say=None):
    """Opens `name`, runs all cells through the Run menu (then, with `restart`, once more after
    restarting the kernel), returns what a learner would call wrong; `must_say` is a text some
    output must hold."""
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
    for mime, text in outputs:
        if mime == "application/vnd.jupyter.stderr" and not BENIGN_STDERR.match(text):
            problems.append(f"{name}: an error or warning output: {text[:200]!r}")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS)
    parser.add_argument("--port", type=int, default=18888)
    parser.add_argument("--screenshots", type=pathlib.Path, default=ROOT / "target" / "lab-check")
    parser.add_argument("--without-opencl", action="store_true", help="as on a machine with no OpenCL driver")
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    problems = []
    environment = dict(os.environ)
    no_drivers = tempfile.TemporaryDirectory()
    if args.without_opencl:
        # The OpenCL loader finds its drivers through this folder: an empty one, no platform.
        environment["OCL_ICD_VENDORS"] = no_drivers.name
    # JupyterLab autosaves the notebooks it runs, outputs included; the committed ones stay without.
    committed = {path: path.read_bytes() for path in (ROOT / "notebooks").glob("*.ipynb")}
    with open(args.screenshots / "setup-sh.log", "w") as log:
        # Ctrl-C as in a terminal: a shell that starts this test in the background (`cmd &`)
        # makes it and its children ignore SIGINT, and JupyterLab would then never see it.
        process = subprocess.Popen(
            ["bash", "kernel-setup/setup.sh", "--port", str(args.port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            link, token = wait_for_link(process, args.port, log)
            print(f"setup.sh printed {link.replace(token, '<token>')}", flush=True)
            # setup.sh prints the link just before JupyterLab starts listening.
            try:
                wait_for("JupyterLab answering", lambda: reachable(link), 120)
            except TimeoutError as error:
                raise SystemExit(f"lab_in_browser: {error}; see {log.name}") from error
            if status(link) != 200 or "jupyter-config-data" not in page_of(link):
                problems.append(f"the lab page with the token answered {status(link)}, not the lab")
            if status(f"{base}/api/contents") != 403:
                problems.append(f"a request without the token answered {status(f'{base}/api/contents')}, not 403")
            if os.geteuid() == 0 and "running JupyterLab as root" not in pathlib.Path(log.name).read_text():
                problems.append("as root, setup.sh did not warn that JupyterLab runs as root")
            problems += [f"the token is in a command line: {p}" for p in command_lines_holding(token)]
            driver = browser()
            try:
                for number, name in enumerate(args.notebooks):
                    try:
                        must_say = LEFT_OUT if args.without_opencl and name.startswith("03-") else None
                        problems += run_all(
                            driver, base, token, name, args.screenshots, restart=number == 0, must_say=must_say
                        )
                    except TimeoutError as error:
                        driver.save_screenshot(str(args.screenshots / (pathlib.Path(name).stem + "-timeout.png")))
                        problems.append(str(error))
            finally:
                driver.quit()
            # Kernels have started by now (the pool's too): none of them holds it either, on its
            # command line or in its environment (which learners' code and build scripts read).
            problems += [f"the token is in a command line: {p}" for p in command_lines_holding(token)]
            problems += [f"the token is in a kernel's environment: {p}" for p in kernels_holding(token)]
        finally:
            problems += stop_with_ctrl_c(process)
    for path, text in committed.items():
        if path.read_bytes() != text:
            path.write_bytes(text)
    no_drivers.cleanup()
    return report("lab_in_browser", problems, ok=f"ok, screenshots in {args.screenshots}")


if __name__ == "__main__":
    sys.exit(main())
