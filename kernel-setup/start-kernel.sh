#!/usr/bin/env bash
# Starts the "Rust (heatlib)" kernel; its kernel.json runs this with the connection file.
#   HEAT_EVCXR         the evcxr_jupyter to run
#   EVCXR_CONFIG_DIR   where init.evcxr.in is; this kernel's init.evcxr is written from it
#   HEAT_KERNEL_CACHE  "shared" for set-up's warming kernel (online, writes the shared cache)
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

if [ ! -r "$EVCXR_CONFIG_DIR/init.evcxr.in" ]; then
    echo "start-kernel.sh: no $EVCXR_CONFIG_DIR/init.evcxr.in;" \
        "register the kernel again: bash kernel-setup/setup.sh --setup-only" >&2
    exit 1
fi

# Not inside the repository (cargo would take a crate there for a stray workspace member),
# and not under /root: evcxr failed to load cells built there ("dlopen failed"), measured.
# Not in XDG_RUNTIME_DIR either: a kernel's crate is about 160 MB, and /run/user is a small tmpfs.
# The per-user folder's name ends in random letters: with a fixed name, another user could make
# it first and stop this user's kernels. This user's later kernels find it again, to reclaim the
# folders of ended kernels: a heat-accel-kernel-UID.* that is a real folder of this user's, open
# to nobody else. Any other (someone's decoy, a link) is passed over.
uid="$(id -u)"
own_folders() {
    local folder
    for folder in "${TMPDIR:-/tmp}/heat-accel-kernel-$uid".*; do
        # One lstat: a link reads as "symbolic link", never as the folder it points to.
        if [ "$(stat -c '%F %u %a' "$folder" 2>/dev/null)" = "directory $uid 700" ]; then
            echo "$folder"
        fi
    done
}
mapfile -t own < <(own_folders)
if [ ${#own[@]} -eq 0 ]; then
    # Kernels that start together the first time may each make one (8 at once made up to 8):
    # each takes the first listed, and ended kernels are reclaimed from all (below). None is
    # removed: a kernel that listed it first may be starting in it.
    made="$(mktemp -d "${TMPDIR:-/tmp}/heat-accel-kernel-$uid.XXXXXXXXXX")"
    mapfile -t own < <(own_folders)
    [ ${#own[@]} -gt 0 ] || own=("$made")
fi
work="${own[0]}"
mkdir -p "$work/.cargo"
printf '[profile.dev.package.heatlib]\nincremental = false\n' > "$work/.cargo/config.toml"

# Kernels resolve and fetch nothing once set-up has warmed the cache (`:offline 1`: cargo
# takes the versions it already has); set-up's warming kernel runs with HEAT_KERNEL_CACHE=shared,
# online, and writes the shared cache itself.
offline=1
[ "${HEAT_KERNEL_CACHE:-}" = shared ] && offline=0
digest="$(cd "$heatlib" && find Cargo.toml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)"

# One folder per kernel, named by its process id (exec keeps this one); a start that fails
# before the exec removes it, so that nothing half-made is left. evcxr reads its settings from
# EVCXR_CONFIG_DIR/init.evcxr: a folder of this kernel's own, so that kernels starting together
# never read each other's half-written file.
kernel="$work/kernel-$$"
trap 'rm -rf "$kernel"' EXIT
mkdir -p "$kernel/config"
sed -e "s/@HEATLIB_SOURCE@/${digest:0:16}/" -e "s/@OFFLINE@/$offline/" "$EVCXR_CONFIG_DIR/init.evcxr.in" \
    > "$kernel/config/init.evcxr"

# A kernel that was killed leaves its folder behind, its crate included (about 160 MB), so
# folders of kernels gone are removed, after what they added to the build cache joins the
# shared one (cache_overlay.py).
# Each is first renamed to a name of this kernel's own: of two kernels starting together,
# only one takes it, and no kernel reads a folder another is removing.
ended=()
for place in "${own[@]}"; do
    for folder in "$place"/kernel-* "$place"/ended-*; do
        owner="${folder#"$place"/*-}"
        owner="${owner%%-*}"
        if [ -d "$folder" ] && ! kill -0 "$owner" 2>/dev/null; then
            mine="$work/ended-$$-${#ended[@]}"
            mv "$folder" "$mine" 2>/dev/null && ended+=("$mine")
        fi
    done
done
shared_cache="${XDG_CACHE_HOME:-$HOME/.cache}/evcxr"
if [ "$offline" = 1 ]; then
    # Each kernel reads the shared build cache through its own overlay, so that kernels
    # started together cannot break each other's builds (why: cache_overlay.py).
    python3 "$(dirname "$0")/cache_overlay.py" "$shared_cache" "$kernel/cache/evcxr" \
        "${digest:0:16}" "${ended[@]/%//cache/evcxr}"
    export XDG_CACHE_HOME="$kernel/cache"
fi
# An ended kernel's folder holds some 18,000 files: removing them took 1.4-9 s of the start,
# so it happens in the background, at low priority, once their cache entries are handed over.
if [ ${#ended[@]} -gt 0 ]; then
    nohup nice -n 19 rm -rf "${ended[@]}" >/dev/null 2>&1 &
fi
export EVCXR_CONFIG_DIR="$kernel/config"
export TMPDIR="$kernel"
trap - EXIT
exec "$HEAT_EVCXR" --control_file "$1"
