#!/usr/bin/env bash
# Installs the Debian packages heat-accel needs, skipping those already installed.
# pocl-opencl-icd: OpenCL on the CPU; ocl-icd-opencl-dev: the OpenCL loader to link against;
# clinfo: to check which OpenCL devices exist. Versions are those of the machine's Debian release.
#   bash kernel-setup/debian-packages.sh                  what the kernel and heatlib need
#   bash kernel-setup/debian-packages.sh --with-browser   also chromium and chromium-driver, for the
#                                                         browser tests (pytest -m browser)
#   bash kernel-setup/debian-packages.sh --with-container also podman, runc and debootstrap, to build and
#                                                         run the image (pytest -m container)
#   bash kernel-setup/debian-packages.sh --with-hub       also podman, runc, Node.js and npm, for the one-machine
#                                                         JupyterHub (kernel-setup/hub/hub.sh)
#   bash kernel-setup/debian-packages.sh --with-lint      also shellcheck, which tests/run.sh runs on the scripts,
#                                                         and python3-venv, for the pinned ruff it installs
set -euo pipefail
packages=(pocl-opencl-icd ocl-icd-opencl-dev clinfo)
for option in "$@"; do
    case "$option" in
        --with-browser) packages+=(chromium chromium-driver) ;;
        --with-container) packages+=(podman runc debootstrap) ;;
        --with-lint) packages+=(shellcheck python3-venv) ;;
        # Node.js and npm from Debian, unless the machine has them already (from elsewhere, e.g.
        # NodeSource, whose nodejs package conflicts with Debian's npm).
        --with-hub) packages+=(podman runc); command -v npm >/dev/null || packages+=(nodejs npm) ;;
        *) echo "debian-packages.sh: unknown option '$option' (try --with-browser, --with-container, --with-hub, --with-lint)" >&2; exit 2 ;;
    esac
done
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "already installed: ${packages[*]}"
    exit 0
fi
command -v apt-get >/dev/null || { echo "please install: ${missing[*]} (no apt-get on this machine)" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "please install ${missing[*]} as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
