#!/usr/bin/env bash
# Takes a fresh Debian/Ubuntu machine to a running heat-accel tutorial:
#   Debian packages (OpenCL on the CPU through PoCL), a Python virtual environment
#   with pinned Jupyter packages and the webinar's Python tools, evcxr_jupyter (pinned), a "Rust (heatlib)" kernel
#   set up to build heatlib at full speed, a warmed build cache, then JupyterLab.
#
#   bash kernel-setup/setup.sh                 set up (skipping what is done) and start JupyterLab
#   bash kernel-setup/setup.sh --setup-only    set up only
#   bash kernel-setup/setup.sh --port 8899     JupyterLab on another port (default 8888)
#   bash kernel-setup/setup.sh --doctor        check an installed set-up (exit status 1 if not well)
#
# Safe to run again: each step checks first and skips what is already in place.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
EVCXR_VERSION=0.22.0
KERNEL_NAME=rust-heatlib
PYTHON_KERNEL_NAME=heat-python
venv="$repo/.venv"
say() { printf '\n==> %s\n' "$*"; }
fail() { echo "setup.sh: $*" >&2; exit 1; }

setup_only=false
port=8888
while [ $# -gt 0 ]; do
    case "$1" in
        --setup-only) setup_only=true ;;
        --doctor)
            [ -x "$venv/bin/python" ] || fail "not set up yet: run bash kernel-setup/setup.sh --setup-only"
            exec "$venv/bin/python" "$repo/kernel-setup/kernel_check.py" ;;
        --port) port="${2:?--port needs a number}"; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done

say "checking the Rust toolchain"
command -v cargo >/dev/null || fail "cargo is not installed: install Rust with your package manager or from https://rustup.rs, then run this again"
cargo --version
# The repository pins its Rust (rust-toolchain.toml); the kernel builds outside it, with the default.
pinned="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$repo/rust-toolchain.toml")"
default_rustc="$( (cd / && rustc --version) 2>/dev/null || true)"
case "$default_rustc" in
    "rustc $pinned "*) ;;
    *) echo "warning: the default Rust is '$default_rustc', the repository's is $pinned (rust-toolchain.toml):" \
            "the kernel builds heatlib with the default; 'rustup default $pinned' makes them the same" >&2 ;;
esac

say "Debian packages: OpenCL loader and PoCL (OpenCL on the CPU), clinfo"
bash "$repo/kernel-setup/debian-packages.sh"

say "Python environment in .venv (pinned Jupyter packages)"
command -v python3 >/dev/null || fail "python3 is not installed (apt-get install python3 python3-venv)"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || fail "could not create $venv (on Debian: apt-get install python3-venv)"
fi
# Every package from the locks, each file checked against its hash (kernel-setup/lock-python.sh).
pip_locked() { "$venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$1"; }
pip_locked "$repo/kernel-setup/requirements.lock"
# The tests' own tools (pytest, Pillow): an instructor's rehearsal run of the notebooks
# (tests/test_notebooks.py) and the other Python tests (tests/pytest.ini) work right after set-up.
pip_locked "$repo/tests/requirements-test.lock"
# The kernel pool: JupyterLab keeps a kernel started ahead, so a notebook opens on a ready
# kernel (kernel-setup/kernel-pool/heat_kernel_pool.py says why and how).
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    "$repo/kernel-setup/kernel-pool"
# The doctor and its kernel helpers (kernel_check.py), importable by the tests and the docs build.
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    -e "$repo/kernel-setup"
mkdir -p "$venv/etc/jupyter/jupyter_server_config.d"
echo '{"ServerApp": {"jpserver_extensions": {"heat_kernel_pool": true}}}' \
    > "$venv/etc/jupyter/jupyter_server_config.d/heat_kernel_pool.json"

say "the webinar's Python tools in .venv (pinned NumPy, SciPy, Cython, Numba; JAX if it installs here)"
pip_locked "$repo/python/requirements.lock"
pip_locked "$repo/python/requirements-jax.lock" ||
    echo "warning: JAX did not install on this machine; its row is left out of the Python comparison, everything else works"
# heatpy (the Python versions), installed editable from the checkout (python/pyproject.toml),
# with the setuptools and Cython .venv already has: installing it compiles its Cython module.
# (Set-ups before 2026-12 put python/ on the path with a .pth file instead: it goes.)
# The module is built afresh every time (a few seconds): setuptools would keep one built with
# other flags (HEAT_TARGET_CPU) or from an older cython_loops.pyx, or a previous one after a failure.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
rm -rf "$site/heat-accel.pth" "$repo/target/heatpy-cython" "$repo/python/build" "$repo"/python/heatpy/cython_loops*.so
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
        -e "$repo/python"; then
    echo "warning: heatpy's Cython module could not be built (the message above says why);" \
         "heatpy is installed without it, and the Cython rows are left out"
    HEATPY_NO_CYTHON=1 "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
        --no-deps -e "$repo/python"
fi

say "evcxr_jupyter $EVCXR_VERSION (the Rust kernel)"
# evcxr_jupyter has no --version; cargo's own record of what it installed tells. (Read whole
# first: grep -q stops at its match, and under pipefail a writer cut off by that reads as a failure.)
evcxr="${CARGO_HOME:-$HOME/.cargo}/bin/evcxr_jupyter"
if [ -x "$evcxr" ] && grep -q "^evcxr_jupyter v$EVCXR_VERSION:" <<<"$(cargo install --list)"; then
    echo "already installed: $evcxr (v$EVCXR_VERSION)"
else
    echo "building it with cargo install --locked (about 6 minutes on 2 cores)..."
    cargo install --locked --force evcxr_jupyter --version "$EVCXR_VERSION"
fi
grep -q '^rust-src' <<<"$(rustup component list --installed 2>/dev/null)" || {
    echo "adding rust-src (evcxr uses it for completions)"
    rustup component add rust-src || echo "(rust-src could not be added; completions will be poorer, the kernel still works)"
}

say "registering the kernel 'Rust (heatlib)'"
bash "$repo/kernel-setup/register-kernel.sh" "$evcxr" "$venv" "$KERNEL_NAME"

# Notebook 3b names this kernel: .venv's own Python, with NumPy, SciPy, Numba and heatpy, so that
# any Jupyter pointed at .venv's kernels (JUPYTER_PATH) runs it with them, not a Python of its own.
say "registering the kernel 'Python (heat-accel)' (this Python, with the webinar's tools)"
"$venv/bin/python" -m ipykernel install --prefix "$venv" --name "$PYTHON_KERNEL_NAME" \
    --display-name "Python (heat-accel)" > /dev/null
echo "kernel '$PYTHON_KERNEL_NAME' registered in $venv/share/jupyter/kernels/$PYTHON_KERNEL_NAME"

say "warming the build cache (the first heatlib build takes about a minute, once)"
"$venv/bin/python" "$repo/kernel-setup/kernel_check.py" --kernel "$KERNEL_NAME" --warm

say "JupyterLab settings for the tutorial (no news or update prompts on first open)"
settings="$venv/share/jupyter/lab/settings"
mkdir -p "$settings"
cp "$repo/kernel-setup/lab-overrides.json" "$settings/overrides.json"

if $setup_only; then
    say "set up. Start the tutorial with: bash kernel-setup/setup.sh (or --port N)"
    exit 0
fi
exec bash "$repo/kernel-setup/start-lab.sh" --port "$port"
