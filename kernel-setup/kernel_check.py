"""The tutorial's doctor: starts the "Rust (heatlib)" kernel over the Jupyter protocol and checks it.

    python kernel_check.py                 every check (what `bash kernel-setup/setup.sh --doctor` runs)
    python kernel_check.py --warm          only build heatlib once in the kernel, to fill evcxr's cache
    python kernel_check.py --json F        also write the figures to F

The checks: Jupyter installed; the kernel registered; it starts; heatlib loads; a
heatmap shows inline; the typed stage runs in the kernel at the speed of the release
build (`heat bench`; past 2x the kernel is building unoptimised code); OpenCL devices
are found; JupyterLab's kernel pool hands over a kernel started ahead. Each failure
says how to fix it, and the exit status is non-zero.

It times a fresh kernel's first heatmap both ways, part by part: started cold (what
nbclient, a console or a pool that is off gets) and taken from the kernel pool (what a
learner gets in JupyterLab: kernel-pool/heat_kernel_pool.py).
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import pathlib
import re
import struct
import subprocess
import sys
import threading
import time

from jupyter_client import AsyncKernelManager, BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import start_new_kernel

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The kernel's typed stage should run within KERNEL_SPEED_AIM of `heat bench`'s (release build); the
# doctor fails only past KERNEL_SPEED_BOUND. What it guards against is a kernel building unoptimised
# code (about 45x slower); between the two lies what a shared or noisy machine gives (1.26x twice in
# a row on a 2-core CI machine whose heat bench was steady), which it reports without failing.
KERNEL_SPEED_AIM = 1.2
KERNEL_SPEED_BOUND = 2.0


class CellFailed(Exception):
    pass


def execute(client, code, timeout):
    """Runs one cell; returns (seconds, outputs as MIME bundles, stdout text)."""
    start = time.perf_counter()
    msg_id = client.execute(code)
    bundles, text, error = [], "", None
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "execute_result"):
            bundles.append(content["data"])
        elif kind == "stream":
            text += content["text"]
        elif kind == "error":
            error = "\n".join([content.get("ename", ""), content.get("evalue", "")] + content.get("traceback", []))
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    if error or reply["content"]["status"] != "ok":
        raise CellFailed(f"cell failed:\n{code}\n---\n{error or reply['content']}")
    return time.perf_counter() - start, bundles, text


def png_size(data):
    if not data.startswith(PNG_SIGNATURE):
        raise CellFailed("image/png output is not a PNG")
    return struct.unpack(">II", data[16:24])


FIRST_HEATMAP = """\
let problem = heatlib::Problem::small();
let field = heatlib::Stage::Typed.solve(&problem, &heatlib::RunOptions::final_field())?.final_field;
heatlib::display::Heatmap::new(field.view()).title("kernel check").limits(0.0, 100.0)"""


ROOT = pathlib.Path(__file__).resolve().parent.parent
SETUP = "bash kernel-setup/setup.sh --setup-only"

SPEED_CELL = """\
let mut speed = heatlib::Comparison::new(&heatlib::Problem::large(), &heatlib::RunOptions::final_field(), 5)?;
let typed_median = speed.add_stage(heatlib::Stage::Typed)?.timing.median();
println!("typed median {:e}", typed_median);"""

OPENCL_CELL = """\
match heatlib::opencl::devices() {
    Ok(devices) => for d in &devices { println!("device {}: {} ({:?}, fp64 {})", d.index, d.name, d.kind, d.fp64) },
    Err(error) => println!("no device: {error}"),
}"""


class Check:
    """One of the doctor's checks: what it looks at, what a failure usually means, and the fix."""

    def __init__(self, looks_at, failure, cause, fix):
        self.looks_at, self.failure, self.cause, self.fix = looks_at, failure, cause, fix


# The docs site's troubleshooting page is generated from this table (docs/book/prepare.py).
CHECKS = {
    "Jupyter": Check(
        "JupyterLab can be imported by the tutorial's Python (`.venv`).",
        "JupyterLab is not installed in this Python",
        "The set-up did not finish, or the doctor was run with another Python.",
        SETUP,
    ),
    "kernel registered": Check(
        'Jupyter knows a kernel named `rust-heatlib` ("Rust (heatlib)").',
        "no kernel named 'rust-heatlib'",
        "The kernelspec was never written, or `.venv` was re-created after it was.",
        SETUP,
    ),
    "kernel starts": Check(
        "The kernel process starts and answers, with `init.evcxr` applied and heatlib built.",
        "the kernel died or did not answer in time",
        "`evcxr_jupyter` is missing from `~/.cargo/bin`, or the first build of heatlib outran the timeout "
        "(a cold build takes about a minute on 2 cores), or the machine ran out of memory while compiling, "
        "or `kernel-setup/start-kernel.sh` could not make its private folder in TMPDIR (it says so).",
        f"{SETUP}; then look at the kernel's output in JupyterLab",
    ),
    "kernel pool": Check(
        "A kernel started ahead, as JupyterLab keeps one, is handed over when a notebook asks for a kernel, "
        "and draws a heatmap.",
        "the kernel pool is not installed / handed over a new kernel instead of the warm one",
        "`heat_kernel_pool` is missing from `.venv` (set-up did not finish), or the kernelspec is not "
        "marked for the pool (`metadata.heat_accel.pooled`: registered by an older set-up).",
        SETUP,
    ),
    "heatlib loads": Check(
        "A first cell that uses heatlib compiles and runs.",
        "cell failed: heatlib::Stage::ALL.len() ... (a compiler error)",
        "`init.evcxr` points at a heatlib that does not build, for example after the repository moved.",
        f"{SETUP} (it rewrites init.evcxr with the repository's path)",
    ),
    "heatmap inline": Check(
        "A heatmap cell shows a 520 x 440 PNG inline.",
        "outputs were [['text/plain']] (text where a picture should be)",
        "heatlib was built without its `display` feature, or an old kernelspec is in use.",
        "rebuild the kernel set-up: " + SETUP,
    ),
    "kernel speed": Check(
        "The typed stage on the large problem runs near its speed under `heat bench` (release build): "
        "within 20% on a quiet machine; the doctor fails past 2x.",
        "typed, large problem: ... ms in the kernel, ... ms under heat bench (N x slower)",
        "The kernel builds debug code: evcxr's default is `:opt 0`, and even `:opt 2` keeps debug assertions "
        "and overflow checks on, about 45x slower on the stencil loop.",
        "the kernel is not building optimised code: check the :build_env lines of init.evcxr "
        "(re-register with " + SETUP + ")",
    ),
    "OpenCL": Check(
        "heatlib finds at least one OpenCL device (PoCL on the CPU counts).",
        "no device: no OpenCL platform found ...",
        "No OpenCL driver (ICD) is installed, or the container cannot see the GPU.",
        "install PoCL for the CPU (bash kernel-setup/debian-packages.sh) "
        "or your GPU's OpenCL driver; `clinfo -l` should list a device",
    ),
    "kernel cells": Check(
        "The doctor's own cells run without an error.",
        "cell failed: ... (the cell and the kernel's error follow)",
        "A heatlib built from a changed checkout, or a kernel that ran out of memory.",
        SETUP,
    ),
}


def anchor(name):
    """The check's anchor on the site's troubleshooting page."""
    return name.lower().replace(" ", "-")


class Doctor:
    def __init__(self):
        self.failures = 0

    def ok(self, name, detail):
        print(f"ok    {name}: {detail}", flush=True)

    def fail(self, name, detail):
        self.failures += 1
        print(
            f"FAIL  {name}: {detail}\n      fix: {CHECKS[name].fix}\n"
            f"      more: docs/troubleshooting.md, or docs/troubleshooting.html#{anchor(name)} on the docs site",
            flush=True,
        )


def bench_typed_median():
    """The typed stage's median on the large problem under `heat bench` (release build)."""
    out = ROOT / "target" / "doctor-bench.json"
    environment = dict(os.environ)
    if os.environ.get("HEAT_TARGET_CPU"):
        # The kernel builds for HEAT_TARGET_CPU (an image's portable CPU level), so `heat bench`
        # is built for it too: the same code on both sides, and the image's own build reused.
        environment["RUSTFLAGS"] = f"-Ctarget-cpu={os.environ['HEAT_TARGET_CPU']}"
    subprocess.run(
        [
            "cargo",
            "run",
            "--release",
            "-q",
            "-p",
            "heat-cli",
            "--",
            "bench",
            "--size",
            "large",
            "--stages",
            "typed",
            "--repeat",
            "5",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        env=environment,
    )
    return json.loads(out.read_text())[0]["median_s"]


def doctor(args, report):
    check = Doctor()
    try:
        import jupyterlab

        check.ok("Jupyter", f"JupyterLab {jupyterlab.__version__}")
    except ImportError:
        check.fail("Jupyter", "JupyterLab is not installed in this Python")
    try:
        spec = KernelSpecManager().get_kernel_spec(args.kernel)
        check.ok("kernel registered", f"'{spec.display_name}' runs {spec.env.get('HEAT_EVCXR', spec.argv[0])}")
    except NoSuchKernel:
        check.fail("kernel registered", f"no kernel named '{args.kernel}'")
        return check.failures
    start = time.perf_counter()
    try:
        manager, client = start_new_kernel(kernel_name=args.kernel, startup_timeout=args.timeout)
    except Exception as error:  # the kernel process died or never answered
        check.fail("kernel starts", str(error))
        return check.failures
    report["kernel_ready_s"] = time.perf_counter() - start
    check.ok("kernel starts", f"ready in {report['kernel_ready_s']:.1f} s (init.evcxr and heatlib's build included)")
    try:
        try:
            seconds, _, _ = execute(client, "heatlib::Stage::ALL.len()", args.timeout)
        except CellFailed as failure:
            check.fail("heatlib loads", str(failure))
            return check.failures
        report["first_cell_s"] = seconds
        check.ok("heatlib loads", f"first cell {seconds:.1f} s")
        # The first cell that stores a variable pays once for evcxr's type inference
        # (rust-analyzer loading the crates); timed apart, it shows where the wait goes.
        report["first_stored_variable_s"], _, _ = execute(client, "let first_variable = 1;", args.timeout)
        seconds, bundles, _ = execute(client, FIRST_HEATMAP, args.timeout)
        report["first_heatmap_cell_s"] = seconds
        report["fresh_kernel_to_first_heatmap_s"] = time.perf_counter() - start
        pngs = [base64.b64decode(b["image/png"]) for b in bundles if "image/png" in b]
        if pngs and png_size(pngs[0]) == (520, 440):
            parts = ("kernel_ready_s", "first_cell_s", "first_stored_variable_s")
            between = report["fresh_kernel_to_first_heatmap_s"] - sum(report[part] for part in parts) - seconds
            check.ok(
                "heatmap inline",
                f"520 x 440 PNG in {seconds:.1f} s; fresh kernel to first heatmap "
                f"{report['fresh_kernel_to_first_heatmap_s']:.1f} s = kernel ready "
                f"{report['kernel_ready_s']:.1f} + first cell {report['first_cell_s']:.1f} + first "
                f"stored variable {report['first_stored_variable_s']:.1f} + heatmap cell {seconds:.1f} "
                f"(+ {between:.1f} between cells)",
            )
        else:
            check.fail("heatmap inline", f"outputs were {[list(b) for b in bundles]}")

        def kernel_typed_median():
            _, _, text = execute(client, SPEED_CELL, args.timeout)
            return float(re.search(r"typed median (\S+)", text).group(1))

        kernel_s = kernel_typed_median()
        bench_s = bench_typed_median()
        retried = ""
        if kernel_s / bench_s > KERNEL_SPEED_AIM:
            # Once more, after a pause, before failing: a kernel that has just started can share the
            # cores with work that ends soon (the removal of an ended kernel's folder by
            # start-kernel.sh; evcxr's analyzer), seen as 1.4-1.5x on a first doctor run after
            # set-up. A debug build stays 45x slower however often it is timed.
            time.sleep(15)
            kernel_s = min(kernel_s, kernel_typed_median())
            retried = " (the faster of two timings)"
        report.update(kernel_typed_s=kernel_s, bench_typed_s=bench_s)
        ratio = kernel_s / bench_s
        detail = (
            f"typed, large problem: {kernel_s * 1e3:.1f} ms in the kernel{retried}, "
            f"{bench_s * 1e3:.1f} ms under heat bench"
        )
        if ratio <= KERNEL_SPEED_AIM:
            check.ok("kernel speed", detail)
        elif ratio <= KERNEL_SPEED_BOUND:
            check.ok(
                "kernel speed",
                f"{detail} ({ratio:.2f}x slower: optimised code, but the machine was busy or shared "
                f"while the kernel timed it; an unoptimised build is about 45x slower)",
            )
        else:
            check.fail("kernel speed", f"{detail} ({ratio:.1f}x slower)")
        _, _, text = execute(client, OPENCL_CELL, args.timeout)
        devices = [line for line in text.splitlines() if line.startswith("device ")]
        if devices:
            check.ok("OpenCL", "; ".join(devices))
        else:
            check.fail("OpenCL", text.strip())
    except CellFailed as failure:
        check.fail("kernel cells", str(failure))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    try:
        asyncio.run(first_heatmap_from_pool(args, check, report))
    except CellFailed as failure:
        check.fail("kernel cells", str(failure))
    return check.failures


async def first_heatmap_from_pool(args, check, report):
    """What a learner gets in JupyterLab: a kernel started ahead, handed over, its first heatmap.

    The same provisioner and pool as JupyterLab's (the server extension fills it when the server
    starts), driven here without a server. The learner reads while the pool's kernel starts, so
    that wait is not timed. At hand-over the pool starts the next kernel, paused while the
    heatmap cell runs, as JupyterLab pauses it while any of its kernels is busy."""
    try:
        import heat_kernel_pool
    except ImportError:
        check.fail("kernel pool", "the kernel pool is not installed (no heat_kernel_pool in this Python)")
        return
    pool = heat_kernel_pool.turn_on(1, logging.getLogger("kernel-pool"))
    cell_running = threading.Event()
    pool.busy = cell_running.is_set
    # As the server extension does: the marked kernelspec, given the pool's provisioner.
    spec_manager = KernelSpecManager()
    heat_kernel_pool.attach_to(spec_manager)
    manager = AsyncKernelManager(kernel_name=args.kernel, kernel_spec_manager=spec_manager)
    if not heat_kernel_pool.is_pooled(manager.kernel_spec.metadata):
        check.fail("kernel pool", f"the kernelspec '{args.kernel}' is not marked for the pool")
        return
    key = heat_kernel_pool.pool_key(manager, None)
    pool.refill(key, manager.kernel_spec.argv, heat_kernel_pool.pool_environment(manager.kernel_spec.env))
    warm_pid = pool.warm[key][0].process.pid
    try:
        await asyncio.gather(*pool.tasks)
        start = time.perf_counter()
        await manager.start_kernel()
        report["pool_take_s"] = time.perf_counter() - start
        if manager.provisioner.pid != warm_pid:
            check.fail("kernel pool", "handed over a new kernel instead of the warm one")
            return
        ready_s, cell_s = await asyncio.to_thread(heatmap_in, manager.get_connection_info(), args.timeout, cell_running)
        report.update(
            pool_ready_s=ready_s, pool_heatmap_cell_s=cell_s, pool_first_heatmap_s=time.perf_counter() - start
        )
        check.ok(
            "kernel pool",
            f"kernel started ahead, then its first heatmap {report['pool_first_heatmap_s']:.1f} s "
            f"= hand-over {report['pool_take_s']:.1f} + kernel answering {ready_s:.1f} + heatmap cell "
            f"{cell_s:.1f}",
        )
    finally:
        if manager.has_kernel:
            await manager.shutdown_kernel(now=True)
        pool.stop_all()
        await asyncio.gather(*pool.tasks)


def heatmap_in(connection_info, timeout, cell_running):
    """(seconds until the kernel answers, seconds of the first heatmap cell); `cell_running` is
    set while a cell runs."""
    client = BlockingKernelClient()
    client.load_connection_info(connection_info)
    client.start_channels()
    try:
        start = time.perf_counter()
        client.wait_for_ready(timeout=timeout)
        ready_s = time.perf_counter() - start
        cell_running.set()
        try:
            seconds, bundles, _ = execute(client, FIRST_HEATMAP, timeout)
        finally:
            cell_running.clear()
        if not any("image/png" in bundle for bundle in bundles):
            raise CellFailed(f"the pool's kernel showed no heatmap: outputs were {[list(b) for b in bundles]}")
        return ready_s, seconds
    finally:
        client.stop_channels()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernel", default="rust-heatlib")
    parser.add_argument("--warm", action="store_true", help="only build heatlib once in the kernel")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    report = {}
    if args.warm:
        return warm(args)
    failures = doctor(args, report)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    print("all checks passed" if failures == 0 else f"{failures} check(s) failed", flush=True)
    return 1 if failures else 0


# Measures this machine's ceilings (bandwidth per cache level, arithmetic) once and keeps them.
CEILINGS_CELL = "heatlib::roofline::Ceilings::of_this_machine()?.measured_on"
# Notebook 1 builds one cell as a debug build (what the optimiser is worth): with these settings
# every crate the kernel links is built again, unoptimised, about 70 s on 2 cores if the cache
# lacks them. The learner's kernel must find them built, as it finds the optimised ones.
DEBUG_BUILD_CELL = """\
:build_env CARGO_PROFILE_DEV_OPT_LEVEL=0
:build_env CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=true
let debug_build_warm_up = heatlib::Problem::small().nx;"""


def warm(args):
    # This kernel fills the shared build cache itself, online (see start-kernel.sh).
    os.environ["HEAT_KERNEL_CACHE"] = "shared"
    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name=args.kernel, startup_timeout=args.timeout)
    try:
        print(f"kernel ready in {time.perf_counter() - start:.1f} s", flush=True)
        seconds, _, _ = execute(client, FIRST_HEATMAP, args.timeout)
        print(f"cache warmed: a heatmap cell built in {seconds:.1f} s", flush=True)
        # Notebooks 3 and 4 place the stages on this machine's ceilings: measured
        # here once (and kept), the notebooks do not wait for them.
        seconds, _, _ = execute(client, CEILINGS_CELL, args.timeout)
        print(f"this machine's ceilings measured (or found kept) in {seconds:.1f} s", flush=True)
        seconds, _, _ = execute(client, DEBUG_BUILD_CELL, args.timeout)
        print(f"cache warmed for notebook 1's debug build in {seconds:.1f} s", flush=True)
        return 0
    except CellFailed as failure:
        print(f"warming failed: {failure}", file=sys.stderr)
        return 1
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    sys.exit(main())
