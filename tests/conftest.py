"""Fixtures and options shared by the Python tests (pytest.ini says how to run them).

Fixtures: `root` (the repository), `heat` (the `heat` command, built in release once per run),
`rust_kernels` (`with rust_kernels() as client:` starts a "Rust (heatlib)" kernel and shuts it
down after), `chromium` (a headless Chromium per test module, tests/browser.py), `image` (the
tutorial's image, built with podman once per run, tests/podman_image.py).
Options: `--together`, `--rounds` (kernels started at once, and how often:
test_kernel_robustness.py), `--chart` (the Zero to JupyterHub chart's folder, by default
../shared/z2jh-chart where it is: test_hub_values.py),
`--without-opencl` (JupyterLab as on a machine with no OpenCL driver: test_lab_in_browser.py),
`--base` (the image to build the tutorial's on).
"""

import contextlib
import pathlib

import pytest
from heat_cli import heat_command
from jupyter_client.manager import start_new_kernel

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The chart's schema and defaults (appVersion 5.5.0), handed to the project as test data beside it.
SHARED_CHART = ROOT.parent / "shared" / "z2jh-chart"
KERNEL = "rust-heatlib"
# A kernel's start and its first cell build heatlib on a cold cache: minutes on 2 cores.
KERNEL_TIMEOUT_S = 600


def pytest_addoption(parser):
    parser.addoption("--together", type=int, default=4, help="kernels started at the same moment (default 4)")
    parser.addoption("--rounds", type=int, default=2, help="how often they are started together (default 2)")
    parser.addoption(
        "--chart",
        type=pathlib.Path,
        default=SHARED_CHART if (SHARED_CHART / "values.schema.yaml").is_file() else None,
        help="the Zero to JupyterHub chart's folder (values.yaml, values.schema.yaml) to validate the settings "
        "with (default: ../shared/z2jh-chart beside the checkout, where it is)",
    )
    parser.addoption(
        "--without-opencl",
        action="store_true",
        help="run JupyterLab as on a machine with no OpenCL driver (test_lab_in_browser.py)",
    )
    parser.addoption(
        "--base",
        help="the image to build the tutorial's image on (default: one built here from Debian's packages)",
    )


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def heat():
    return heat_command()


@contextlib.contextmanager
def started_rust_kernel():
    """The client of a fresh "Rust (heatlib)" kernel that has answered kernel_info; the kernel
    is shut down on leaving."""
    manager, client = start_new_kernel(kernel_name=KERNEL, startup_timeout=KERNEL_TIMEOUT_S)
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture(scope="session")
def rust_kernels():
    return started_rust_kernel


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium, shared by the tests of one module, quit after them."""
    from browser import start_chromium  # Selenium: only for the tests that open a browser

    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def image(request):
    """The tutorial's image (tests/podman_image.py), built once per run: its name."""
    from podman_image import build_image

    try:
        return build_image(request.config.getoption("--base"))
    except PermissionError as error:
        pytest.fail(str(error))
