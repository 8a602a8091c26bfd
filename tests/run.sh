#!/usr/bin/env bash
# The project's test command (README, and CI through .ci/run): formatting, lints, every test.
# On a fresh machine it installs what it needs as it goes; run it again and it skips what is there.
#
#   bash tests/run.sh           everything (what CI runs; as root or with sudo, which podman needs)
#   bash tests/run.sh --quick   the Rust side and the linters, in a few minutes; needs only the Rust
#                               toolchain and python3 (installs Debian packages and ruff itself)
# What each step covers: docs/setup-and-tests.md.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
    "") ;;
    --quick) quick=true ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "tests/run.sh: unknown option '$1' (the only option is --quick)" >&2; exit 2 ;;
esac

started=$SECONDS
# Each heading says when it began, so a slow CI run shows which part took the time.
say() { printf '\n==> %s  [at %d s]\n' "$*" "$((SECONDS - started))"; }

if ! command -v cargo >/dev/null; then
    echo "tests/run.sh: cargo is not installed. Install the Rust toolchain (https://rustup.rs) and run this again." >&2
    exit 1
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "installing the $component component"
        rustup component add "$component"
    fi
done

# The opencl stage needs the OpenCL loader to link and an OpenCL driver to run;
# PoCL runs OpenCL on the CPU, so every machine can test it. Chromium opens the docs site.
say "Debian packages"
if $quick; then
    bash kernel-setup/debian-packages.sh --with-lint
else
    bash kernel-setup/debian-packages.sh --with-lint --with-browser
fi
say "OpenCL devices (clinfo -l)"
clinfo -l

say "cargo fmt --check"
cargo fmt --all --check

# ruff, pinned with hashes (tests/requirements-lint.lock), in a folder of its own: the Python
# linter and formatter (settings in ruff.toml); shellcheck (Debian's) on every shell script.
say "ruff check, ruff format --check, shellcheck"
lint=target/lint-tools
if ! "$lint/bin/ruff" --version 2>/dev/null | grep -qx "ruff $(sed -n 's/^ruff==\([^ ]*\).*/\1/p' tests/requirements-lint.lock)"; then
    rm -rf "$lint"
    python3 -m venv "$lint"
    "$lint/bin/pip" install -q --disable-pip-version-check --require-hashes -r tests/requirements-lint.lock
fi
"$lint/bin/ruff" check .
"$lint/bin/ruff" format --check .
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
shellcheck "${scripts[@]}"

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# Checked, lints included, with its tests' code; not run: the tests are the ones run with the
# features below minus the gated ones, and building them optimised once more takes 4 minutes.
say "heatlib with no optional feature (no pictures, no OpenCL): clippy on the library and its tests"
cargo clippy -p heatlib --no-default-features --all-targets -- -D warnings

say "cargo test --workspace (pictures and the opencl stage included)"
cargo test --workspace

say "the API reference: cargo doc, every public item documented, no broken link"
RUSTDOCFLAGS="-D warnings" cargo doc -p heatlib --features opencl --no-deps

if $quick; then
    say "quick checks passed in $((SECONDS - started)) s (bash tests/run.sh runs everything)"
    exit 0
fi

say "the Rust Jupyter kernel: set up (installs evcxr_jupyter the first time, ~6 min), then checked"
bash kernel-setup/setup.sh --setup-only
.venv/bin/python kernel-setup/kernel_check.py --kernel rust-heatlib --json target/kernel-check.json

say "the Python tests (pytest tests -m 'not browser and not container'; what they cover: docs/setup-and-tests.md)"
.venv/bin/python -m pytest tests -m "not browser and not container"

say "the webinar's core path alone (the cells tagged core of 01-04), timed: does the plan fit its 60 minutes?"
.venv/bin/python tests/core_path.py --json target/core-path.json

say "the docs site and the slides, built from that notebook run"
bash docs/build-site.sh

# Notebooks 01 (with Restart Kernel and Run All) and 03 in the browser; tests/test_notebooks.py has
# run all of them through the kernel with every output checked, so 02 and 04 add only minutes.
# With no OpenCL driver, as on many learners' laptops (test_notebooks.py ran them with PoCL's).
# (-k names the notebooks with .ipynb: the site's slide decks, named without it, all stay.)
say "in headless Chromium (pytest -m browser): the docs site and its slides; the README's first command (as this user, root in CI), then notebooks 01 and 03 through JupyterLab, with no OpenCL driver"
.venv/bin/python -m pytest tests -m "browser and not container" --without-opencl \
    -k "not 02-vectorization.ipynb and not 04-gpu-opencl.ipynb"

# debootstrap and podman need root: CI is root; a developer is asked for sudo.
say "with podman (pytest -m container): the image built, then run (its JupyterLab, the doctor inside, its memory limit); a class on the one-machine JupyterHub on it (two learners log in, run notebook 01, stay apart, lose nothing)"
if [ "$(id -u)" -eq 0 ]; then
    .venv/bin/python -m pytest tests -m container
else
    sudo .venv/bin/python -m pytest tests -m container
fi

say "all checks passed in $((SECONDS - started)) s"
