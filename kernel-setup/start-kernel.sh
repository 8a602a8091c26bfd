#!/usr/bin/env bash
# Starts the "Rust (heatlib)" kernel; its kernel.json runs this with the connection file.
#   HEAT_EVCXR         the evcxr_jupyter to run
#   EVCXR_CONFIG_DIR   where init.evcxr goes, written here from init.evcxr.in
#
# Why a script, not evcxr_jupyter directly: so that a new kernel takes heatlib from evcxr's
# build cache instead of compiling it again (about 11 s of every kernel start otherwise).
# evcxr caches a crate only when cargo builds it without incremental compilation, which
# cargo turns on for path dependencies such as heatlib; the .cargo/config.toml written here,
# above the folder where evcxr makes its crate (TMPDIR), turns it off for heatlib alone.
# evcxr's cache knows a crate by its rustc arguments, not its source, so the arguments carry
# a digest of heatlib's source: change heatlib and the kernel builds the new one.
set -euo pipefail
heatlib="$(cd "$(dirname "$0")/../heatlib" && pwd)"
: "${HEAT_EVCXR:?kernel.json sets HEAT_EVCXR; register the kernel again: bash kernel-setup/setup.sh --setup-only}"
: "${EVCXR_CONFIG_DIR:?kernel.json sets EVCXR_CONFIG_DIR; register the kernel again: bash kernel-setup/setup.sh --setup-only}"

# Not inside the repository (cargo would take a crate there for a stray workspace member),
# and not under /root: evcxr failed to load cells built there ("dlopen failed"), measured.
work="${TMPDIR:-/tmp}/heat-accel-kernel-$(id -u)"
mkdir -p -m 700 "$work"
if [ "$(stat -c %u "$work")" != "$(id -u)" ]; then
    echo "start-kernel.sh: $work belongs to another user; remove it, or set TMPDIR to a folder of yours" >&2
    exit 1
fi
mkdir -p "$work/.cargo"
printf '[profile.dev.package.heatlib]\nincremental = false\n' > "$work/.cargo/config.toml"

digest="$(cd "$heatlib" && find Cargo.toml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)"
init="$EVCXR_CONFIG_DIR/init.evcxr"
sed "s/@HEATLIB_SOURCE@/${digest:0:16}/" "$init.in" > "$init.$$"
mv "$init.$$" "$init"

# One folder per kernel, named by its process id (exec keeps this one): a kernel that was
# killed leaves its crate behind (about 160 MB), so folders of kernels gone are removed.
for folder in "$work"/kernel-*; do
    if [ -d "$folder" ] && ! kill -0 "${folder##*-}" 2>/dev/null; then
        rm -rf "$folder"
    fi
done
mkdir -p "$work/kernel-$$"
export TMPDIR="$work/kernel-$$"
exec "$HEAT_EVCXR" --control_file "$1"
