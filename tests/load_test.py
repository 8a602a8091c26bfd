"""How many learners a machine holds: N kernels run notebook 03 at once, as N learners would.

    .venv/bin/python tests/load_test.py [--learners 1,2,4,8] [--notebook notebooks/03-heat-flow.ipynb]
                                        [--json target/load-test.json] [--limit 1800]
    sudo .venv/bin/python tests/load_test.py --hub [...]    the same through the one-machine Hub
                                                            (tests/hub_load.py says what it measures)
    sudo .venv/bin/python tests/load_test.py --hub --runaway [...]   beside a server whose cores
                                                            a runaway cell keeps busy

For each N, N "Rust (heatlib)" kernels start at the same moment, each runs every code cell of
the notebook in order, over the Jupyter protocol and on loopback only (no browser: what
the server and the kernels cost, not the page). Recorded per learner:
- kernel ready: from the start request to the kernel answering;
- first heatmap: to the first picture the notebook shows;
- notebook done: to the last cell's reply;
- memory: the kernel's processes together (evcxr, its worker that holds the variables, the
  cargo and rustc it runs, the Python processes of the Python side), sampled every 0.2 s: the
  peak while it compiles its first cells (up to the first heatmap), the peak over the whole
  notebook, and its size when idle at the end; and by part (memory_breakdown.py: the kernel, its
  variables, the compiler, Python) at the peak, each part's highest, and at rest;
- failures: a kernel that died or a cell that failed (must be 0), apart from
- refusals: a cell that heatlib refused because the machine had too little memory left for it,
  with its message (what a learner sees when the machine is too small: the cell fails, the
  kernel and its variables live).
Each N is bounded by --limit seconds; a learner past it counts as a failure. This is a
benchmark, run by hand on a quiet machine (docs/instructor-guide.md has the figures), not a test
that tests/run.sh runs.
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import threading
import time

from jupyter_client.manager import start_new_kernel
from kernel_check import execute
from memory_breakdown import Breakdown, Together, children_of, parts_mb, processes, resident, summary, tree

ROOT = pathlib.Path(__file__).resolve().parent.parent

KERNEL = "rust-heatlib"
PAGE = os.sysconf("SC_PAGE_SIZE")


def code_cells(notebook):
    cells = json.loads(pathlib.Path(notebook).read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


class Learner:
    def __init__(self, cells, limit):
        self.cells, self.limit = cells, limit
        self.result = {}
        self.pid = None
        self.phase = "starting"  # starting -> compiling -> running -> idle
        self.peak = {"compiling": 0, "running": 0}
        self.breakdown = Breakdown()

    def sample(self, children):
        """Bytes the kernel's processes hold now (0 before it starts and once it is done)."""
        if self.pid is None or self.phase not in self.peak:
            return 0
        table = processes(tree(self.pid, children))
        rss = resident(table)
        self.peak[self.phase] = max(self.peak[self.phase], rss)
        self.breakdown.sample(rss, table)
        return rss

    def run(self, start):
        manager = client = None
        try:
            manager, client = start_new_kernel(kernel_name=KERNEL, startup_timeout=self.limit)
            self.pid = manager.provisioner.process.pid
            self.phase = "compiling"
            self.result["ready_s"] = time.perf_counter() - start
            for code in self.cells:
                left = self.limit - (time.perf_counter() - start)
                if left <= 0:
                    raise TimeoutError(f"not done within {self.limit} s")
                _, bundles, _ = execute(client, code, left)
                if "first_heatmap_s" not in self.result and any("image/png" in b for b in bundles):
                    self.result["first_heatmap_s"] = time.perf_counter() - start
                    self.phase = "running"
            self.result["done_s"] = time.perf_counter() - start
            self.phase = "idle"
            time.sleep(1.0)
            table = processes(tree(self.pid, children_of()))
            self.result["idle_mb"] = resident(table) / 1e6
            self.result["parts_idle_mb"] = parts_mb(table)
        except Exception as error:  # a kernel that died, a cell that failed, the time limit
            said = f"{type(error).__name__}: {str(error)[-300:]}"
            self.result["refused" if " is available; " in str(error) else "failed"] = said
        finally:
            self.phase = "stopped"
            self.result["compiling_peak_mb"] = self.peak["compiling"] / 1e6
            self.result["peak_mb"] = max(self.peak.values()) / 1e6
            self.breakdown.record(self.result)
            if client is not None:
                client.stop_channels()
            if manager is not None:
                manager.shutdown_kernel(now=True)


def learners_at_once(count, cells, limit):
    """Each learner's results, and the class's together (memory_breakdown.Together)."""
    learners = [Learner(cells, limit) for _ in range(count)]
    together = Together()
    start = time.perf_counter()
    threads = [threading.Thread(target=learner.run, args=(start,)) for learner in learners]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        children = children_of()
        together.sample(sum(learner.sample(children) for learner in learners))
        time.sleep(0.2)
    return [learner.result for learner in learners], together.figures()


def spread(results, key):
    values = [r[key] for r in results if key in r]
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


LOOSE_COLUMNS = [
    ("kernel ready s", "ready_s"),
    ("first heatmap s", "first_heatmap_s"),
    ("notebook done s", "done_s"),
    ("peak MB compiling", "compiling_peak_mb"),
    ("peak MB", "peak_mb"),
    ("idle MB", "idle_mb"),
]
HUB_COLUMNS = [
    ("login to server ready s", "login_to_server_s"),
    ("server ready to kernel ready s", "server_to_kernel_s"),
    ("first heatmap s", "first_heatmap_s"),
    ("notebook done s", "done_s"),
    ("server peak MB", "peak_mb"),
    ("server idle MB", "idle_mb"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", default="1,2,4,8", help="the N to try, comma-separated")
    parser.add_argument("--notebook", default=str(ROOT / "notebooks" / "03-heat-flow.ipynb"))
    parser.add_argument("--json", help="where the figures go (default target/load-test.json, -hub.json)")
    parser.add_argument("--limit", type=float, default=1800, help="seconds each N may take")
    parser.add_argument("--hub", action="store_true", help="through the one-machine Hub (tests/hub_load.py)")
    parser.add_argument("--image", default="localhost/heat-accel:test", help="with --hub: the learners' image")
    parser.add_argument("--port", type=int, default=18000, help="with --hub: the Hub's port")
    parser.add_argument(
        "--no-kernel-pool", action="store_true", help="with --hub: servers without a kernel started ahead"
    )
    parser.add_argument(
        "--runaway", action="store_true", help="with --hub: beside one more server that keeps its cores busy"
    )
    args = parser.parse_args()
    try:
        counts = [int(n) for n in args.learners.split(",")]
    except ValueError:
        raise SystemExit(f"load_test: --learners takes numbers separated by commas, not {args.learners!r}") from None
    if (args.runaway or args.no_kernel_pool) and not args.hub:
        raise SystemExit("load_test: --runaway and --no-kernel-pool go with --hub (they are the Hub's servers)")
    if args.hub and os.geteuid() != 0:
        raise SystemExit("load_test: --hub needs root, for podman: sudo .venv/bin/python tests/load_test.py --hub")
    cells = code_cells(args.notebook)
    machine = f"{platform.node()}, {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30:.0f} GiB"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    machine += f", {cpu}"
    print(f"{pathlib.Path(args.notebook).name}: {len(cells)} code cells; {machine}; {time.strftime('%Y-%m-%d %H:%M')}")
    columns = HUB_COLUMNS if args.hub else LOOSE_COLUMNS
    header = "| learners | " + " | ".join(title for title, _ in columns) + " | failures | refused for memory |"
    rows, report = [header, "|" + "---|" * (len(columns) + 3)], []

    def measure(count, results, together):
        failed = [r["failed"] for r in results if "failed" in r]
        report.append({"learners": count, "results": results, **together})
        figures = " | ".join(spread(results, key) for _, key in columns)
        rows.append(f"| {count} | {figures} | {len(failed)} | {sum('refused' in r for r in results)} |")
        print(rows[-1], flush=True)
        if args.hub:
            warm = sum(r.get("warm", False) for r in results)
            reconnects = sum(r.get("reconnects", 0) for r in results)
            print(f"  warm kernel from the pool: {warm} of {len(results)}; websocket reconnects: {reconnects}")
        for key, when in (("parts_at_peak_mb", "at the peak"), ("parts_highest_mb", "each part's highest")):
            print(f"  MB {when}: {summary(results, key)}")
        print(f"  MB at rest at the end: {summary(results, 'parts_idle_mb')}")
        print(
            f"  the class together: {together['together_peak_mb']} MB at its peak; "
            f"the machine's memory available, at the least: {together['least_available_mb']} MB",
            flush=True,
        )
        for result in results:
            for outcome in ("failed", "refused"):
                if outcome in result:
                    print(f"  {outcome}: {result[outcome]}", flush=True)

    if args.hub:
        from hub_load import through_the_hub

        log = ROOT / "target" / "load-test-hub.log"
        through_the_hub(
            counts,
            pathlib.Path(args.notebook).name,
            cells,
            args.limit,
            args.image,
            args.port,
            log,
            measure,
            runaway=args.runaway,
            hub_options=["--no-kernel-pool"] if args.no_kernel_pool else [],
        )
    else:
        for count in counts:
            measure(count, *learners_at_once(count, cells, args.limit))
    print("\nmedian (min-max) over the learners of each row\n" + "\n".join(rows))
    out = pathlib.Path(args.json or ROOT / "target" / ("load-test-hub.json" if args.hub else "load-test.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine,
                "notebook": args.notebook,
                "hub": args.hub,
                "kernel_pool": args.hub and not args.no_kernel_pool,
                "date": time.strftime("%Y-%m-%d"),
                "runs": report,
            },
            indent=1,
        )
    )
    return 1 if any("failed" in r for run in report for r in run["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
