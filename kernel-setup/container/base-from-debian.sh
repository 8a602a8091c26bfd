#!/usr/bin/env bash
# Builds a local stand-in for the image's default base, docker.io/library/rust:1.95-bookworm,
# for machines that reach no container registry (our CI's): Debian bookworm from Debian's own
# packages (debootstrap), with this machine's Rust toolchain laid out as the rust image lays it
# out (RUSTUP_HOME=/usr/local/rustup, CARGO_HOME=/usr/local/cargo, cargo's bin on PATH).
#
#   bash kernel-setup/container/base-from-debian.sh [IMAGE]   default localhost/heat-accel-base:bookworm
#   HEAT_BASE_WITH_EVCXR=1 ...   also copies this machine's evcxr_jupyter, and cargo's record of
#                                installing it, so that the image's set-up finds it installed
#                                instead of building it again (6 minutes on 2 cores; CI does this)
#   HEAT_BASE_REBUILD=1 ...      builds it again even if an image made by the same recipe exists
# Needs root (debootstrap), podman, debootstrap and rustup. About a minute and a half.
#
# An image built by the same recipe (this script, the toolchain, evcxr, the machine's own
# certificates) less than a week ago is kept: a base built again gets a new id, and podman's
# cache of the image's layers above it (the Python packages, the Debian ones) would go with it.
set -euo pipefail
image="${1:-localhost/heat-accel-base:bookworm}"
[ "$(id -u)" -eq 0 ] || { echo "base-from-debian.sh: debootstrap needs root (sudo bash $0)" >&2; exit 1; }
for tool in podman debootstrap rustup; do
    command -v "$tool" >/dev/null || { echo "base-from-debian.sh: $tool is missing (bash kernel-setup/debian-packages.sh --with-container)" >&2; exit 1; }
done
# Our CI machines need these podman settings (why: containers.conf).
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}"
toolchain="$(rustup show active-toolchain | cut -d' ' -f1)"
toolchain_dir="$(rustc --print sysroot)"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"

recipe="$(
    {
        cat "$0"
        echo "$toolchain"
        rustc -vV
        [ "${HEAT_BASE_WITH_EVCXR:-}" = 1 ] && cat "$cargo_home/bin/evcxr_jupyter"
        cat /usr/local/share/ca-certificates/*.crt 2>/dev/null
    } | sha256sum | cut -c1-16
)"
if [ "${HEAT_BASE_REBUILD:-}" != 1 ]; then
    kept="$(podman image inspect "$image" --format '{{ index .Labels "heat-accel.recipe" }} {{ .Created.Unix }}' 2>/dev/null || true)"
    if [ "${kept% *}" = "$recipe" ] && [ $(($(date +%s) - ${kept#* })) -lt $((7 * 24 * 3600)) ]; then
        echo "kept: $image, built by this recipe ($recipe) less than a week ago (HEAT_BASE_REBUILD=1 builds it again)"
        exit 0
    fi
fi

rootfs="$(mktemp -d "${TMPDIR:-/tmp}/heat-accel-base.XXXXXX")"
trap 'rm -rf "$rootfs"' EXIT

# What the rust image has beyond a minimal Debian and the kernel needs: a C toolchain to link,
# certificates for crates.io, git for cargo.
echo "debootstrap: Debian bookworm (minbase) into $rootfs"
debootstrap --variant=minbase --include=ca-certificates,gcc,libc6-dev,git \
    bookworm "$rootfs" http://deb.debian.org/debian >"$rootfs.log" 2>&1 ||
    { tail -20 "$rootfs.log" >&2; echo "base-from-debian.sh: debootstrap failed (log above)" >&2; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# The certificates this machine trusts beyond Debian's (a proxy's, an institution's), so that
# pip, cargo and apt reach their registries from the image as they do from the machine.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    echo "trusting this machine's own certificates: $(cd /usr/local/share/ca-certificates && echo *.crt)"
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
fi

echo "copying toolchain $toolchain from $toolchain_dir (without its offline docs)"
mkdir -p "$rootfs/usr/local/rustup/toolchains/$toolchain" "$rootfs/usr/local/cargo/bin"
tar -C "$toolchain_dir" --exclude=./share/doc -cf - . | tar -C "$rootfs/usr/local/rustup/toolchains/$toolchain" -xf -
printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" > "$rootfs/usr/local/rustup/settings.toml"
cp "$(command -v rustup)" "$rootfs/usr/local/cargo/bin/rustup"
for proxy in cargo rustc rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
    ln -s rustup "$rootfs/usr/local/cargo/bin/$proxy"
done
if [ "${HEAT_BASE_WITH_EVCXR:-}" = 1 ]; then
    echo "copying $cargo_home/bin/evcxr_jupyter and cargo's record of it"
    cp "$cargo_home/bin/evcxr_jupyter" "$rootfs/usr/local/cargo/bin/"
    cp "$cargo_home/.crates.toml" "$cargo_home/.crates2.json" "$rootfs/usr/local/cargo/"
fi

echo "podman import as $image"
tar -C "$rootfs" -cf - . | podman import \
    --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
    --change 'ENV CARGO_HOME=/usr/local/cargo' \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["bash"]' \
    --change "LABEL heat-accel.recipe=$recipe" - "$image" >/dev/null
podman run --rm "$image" cargo --version
