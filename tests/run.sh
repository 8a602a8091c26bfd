#!/usr/bin/env bash
# The project's test command (README, and CI through .ci/run): formatting, lints, every test.
# On a fresh machine it first installs what it needs; run it again and it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

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
# PoCL runs OpenCL on the CPU, so every machine can test it.
debian_packages=(pocl-opencl-icd ocl-icd-opencl-dev clinfo)
missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
        echo "tests/run.sh: please install ${missing[*]} (apt-get install ${missing[*]}); this needs root." >&2
        exit 1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
say "OpenCL devices (clinfo -l)"
clinfo -l

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

say "heatlib without the opencl feature: clippy and tests"
cargo clippy -p heatlib --all-targets -- -D warnings
cargo test -p heatlib

say "cargo test --workspace (with the opencl stage)"
cargo test --workspace

say "all checks passed"
