#!/usr/bin/env bash
# Registers the "Rust (heatlib)" Jupyter kernel inside the virtual environment:
#   <venv>/share/jupyter/kernels/<name>/kernel.json   runs kernel-setup/start-kernel.sh, which runs evcxr_jupyter;
#                                                     a plain kernelspec that any Jupyter client can start;
#                                                     its mark (metadata.heat_accel.pooled) lets the project's
#                                                     own JupyterLab hand over a warm one (kernel-pool/)
#   <venv>/evcxr-config/<name>/init.evcxr.in          what evcxr runs before the first cell (start-kernel.sh
#                                                     fills in the digest of heatlib's source)
# Usage: register-kernel.sh EVCXR_JUPYTER VENV NAME
set -euo pipefail
evcxr="$1" venv="$2" name="$3"
repo="$(cd "$(dirname "$0")/.." && pwd)"
config="$venv/evcxr-config/$name"
spec="$venv/share/jupyter/kernels/$name"
mkdir -p "$config" "$spec"

# The versions of ndarray and rayon that heatlib itself uses, read from the workspace's
# Cargo.toml, so that a cell's arrays are heatlib's arrays.
workspace_version() {
    sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "$repo/Cargo.toml"
}
ndarray_version="$(workspace_version ndarray)"
rayon_version="$(workspace_version rayon)"
if [ -z "$ndarray_version" ] || [ -z "$rayon_version" ]; then
    echo "register-kernel.sh: cannot read the ndarray and rayon versions from $repo/Cargo.toml" >&2
    exit 1
fi

# evcxr builds each cell as a debug-profile crate. These settings make that
# build as fast as `cargo --release` (measured: a stencil loop ran 45x slower
# with evcxr's defaults) and keep compiled dependencies in a cache between kernels.
# RUSTFLAGS keeps evcxr's own -Cprefer-dynamic and adds the CPU's instructions,
# as the workspace's .cargo/config.toml does for `cargo build`. An image built on one
# machine and run on others sets HEAT_TARGET_CPU (e.g. x86-64-v3): the build cache it
# ships must not hold instructions that the machines running it lack.
# The --cfg names the heatlib source the cache's entries were built from (start-kernel.sh).
# -Aunused: evcxr keeps every earlier cell's functions in each new cell's crate, and when a cell
# fails to compile it shows all their warnings too; a blank exercise (`todo!()`) has unused
# parameters, so without this a learner's one compile error would come with a dozen others.
# ndarray and rayon are direct dependencies too (the versions heatlib uses), so
# that cells can name their types and evcxr can keep arrays between cells.
# kernel_warm_up: evcxr asks its built-in rust-analyzer for the type of every variable a cell
# stores, and the first time it loads the types of std and every dependency: 4-5 s, measured.
# Storing one variable here pays that while the kernel starts, which JupyterLab does when the
# notebook opens, while the learner reads; the learner's first cell then takes under a second.
# :timing makes the kernel print, in grey under every cell, how long the cell took, compiling
# included: the notebooks' lesson on compilation is visible everywhere, and since it is set
# here, no cell toggles it (the command toggles; running such a cell twice would turn it off).
cat > "$config/init.evcxr.in" <<INIT
:offline @OFFLINE@
:timing
:opt 2
:build_env CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false
:build_env CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false
:build_env CARGO_PROFILE_DEV_OPT_LEVEL=3
:build_env RUSTFLAGS=-Cprefer-dynamic -Ctarget-cpu=${HEAT_TARGET_CPU:-native} -Aunused --cfg heatlib_source="@HEATLIB_SOURCE@"
:cache 4096
:dep heatlib = { path = "$repo/heatlib", features = ["opencl"] }
:dep ndarray = "$ndarray_version"
:dep rayon = "$rayon_version"
use heatlib::Show;
let kernel_warm_up = heatlib::Problem::small().nx;
INIT

cat > "$spec/kernel.json" <<SPEC
{
  "argv": ["bash", "$repo/kernel-setup/start-kernel.sh", "{connection_file}"],
  "display_name": "Rust (heatlib)",
  "language": "rust",
  "interrupt_mode": "message",
  "env": {"EVCXR_CONFIG_DIR": "$config", "HEAT_EVCXR": "$evcxr"},
  "metadata": {"heat_accel": {"pooled": true}}
}
SPEC
echo "kernel '$name' registered in $spec (evcxr settings in $config/init.evcxr.in)"
