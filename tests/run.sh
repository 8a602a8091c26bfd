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

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo test --workspace"
cargo test --workspace

say "all checks passed"
