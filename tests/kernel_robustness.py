"""The "Rust (heatlib)" kernel under what learners do to it.

    python tests/kernel_robustness.py [--together 4] [--rounds 5] [--json FILE]

1. Kernels started together all live: `--together` kernels start at the same
   moment (a learner opening two notebooks at once, a demo machine), `--rounds`
   times, and every one must show its first heatmap. Before each kernel read
   evcxr's build cache through its own overlay, 2 of 4 such starts died.
2. A learner's variables survive bad requests: after `let keep_me = 42;`, a cell
   asking for a plate too big for the machine, one with temperatures that would
   overflow, one that runs out of its time budget and one whose own step panics on
   one band of rows each print heatlib's message (in time: a band left waiting
   for a panicked one used to hang the kernel for good), and `keep_me` is still 42
   (an abort or a panic would have lost it).

Run after set-up (bash kernel-setup/setup.sh --setup-only); tests/run.sh runs it.
"""

import argparse
import json
import pathlib
import statistics
import sys
import threading
import time

from jupyter_client.manager import start_new_kernel
from kernel_check import FIRST_HEATMAP, CellFailed, execute

ROOT = pathlib.Path(__file__).resolve().parent.parent

KERNEL = "rust-heatlib"
TIMEOUT = 600


def first_heatmap(results, index):
    """Starts a kernel, shows the first heatmap, and records the times or the failure."""
    start = time.perf_counter()
    manager = client = None
    try:
        manager, client = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)
        ready = time.perf_counter() - start
        _, bundles, _ = execute(client, FIRST_HEATMAP, TIMEOUT)
        pngs = [b["image/png"] for b in bundles if "image/png" in b]
        if not pngs:
            raise CellFailed(f"no picture; outputs were {[list(b) for b in bundles]}")
        results[index] = {"ready_s": ready, "first_heatmap_s": time.perf_counter() - start}
    except Exception as error:  # a kernel that died, or a cell that failed
        results[index] = {"failed": f"{type(error).__name__}: {error}"}
    finally:
        if client is not None:
            client.stop_channels()
        if manager is not None:
            manager.shutdown_kernel(now=True)


def together(count, rounds):
    report = []
    for round_number in range(1, rounds + 1):
        results = [None] * count
        threads = [threading.Thread(target=first_heatmap, args=(results, k)) for k in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report.append(results)
        shown = [r for r in results if "failed" not in r]
        line = f"round {round_number}: {len(shown)} of {count} kernels showed their first heatmap"
        if shown:
            line += (
                f"; ready {min(r['ready_s'] for r in shown):.1f}-{max(r['ready_s'] for r in shown):.1f} s,"
                f" first heatmap {min(r['first_heatmap_s'] for r in shown):.1f}-"
                f"{max(r['first_heatmap_s'] for r in shown):.1f} s"
            )
        print(line, flush=True)
        for result in results:
            if "failed" in result:
                print(f"  a kernel failed: {result['failed']}", flush=True)
    return report


BAD_REQUESTS = [
    (
        "a plate too big for memory",
        "Stage::Typed.solve(&Problem::small().with_size(60000, 10), &RunOptions::final_field())?;",
        "a run of 60000 x 60000 nodes and 10 levels needs",
    ),
    (
        "temperatures that would overflow",
        "Stage::Typed.solve(&Problem::small().with_initial(1e308).with_boundary("
        "Boundary { top: 1e308, bottom: 0.0, left: 0.0, right: 0.0 }), &RunOptions::final_field())?;",
        "top temperature = 1e308 is too large",
    ),
    (
        "a run beyond its time budget",
        "Stage::Interpreted.solve(&Problem::large(), "
        "&RunOptions::final_field().with_time_budget(std::time::Duration::from_millis(200)))?;",
        "stopped after the time budget of 0.2 s",
    ),
    (
        "a step of one's own that panics on one band of rows (notebook 3's rows-on-threads cell, lab exercise 5)",
        "{\n"
        "    let mut table = Comparison::new(&Problem::small(), &RunOptions::final_field().with_threads(2), 3)?;\n"
        "    let calls = std::sync::atomic::AtomicUsize::new(0);\n"
        "    let my_step = |c: ndarray::ArrayView2<f64>, mut n: ndarray::ArrayViewMut2<f64>, g: f64| {\n"
        '        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2 { panic!("my index is off"); }\n'
        "        n.assign(&c); let _ = g;\n"
        "    };\n"
        '    table.add_step_in_bands("mine", &my_step)?;\n'
        "}",
        "the step panicked on rows",
    ),
]


def said_by(client, code):
    """Runs a cell and returns all it printed: evcxr prints a cell's `?` error on stderr,
    and forwards the worker's output on its own, sometimes just after the cell reports idle."""
    msg_id = client.execute(code)
    text, idle_at = "", None
    while idle_at is None or time.perf_counter() - idle_at < 1.0:
        try:
            msg = client.get_iopub_msg(timeout=1.0 if idle_at else TIMEOUT)
        except Exception:  # no message within the wait: nothing more is coming
            break
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            text += content["text"]
        elif kind == "error":
            text += "\n".join([content.get("ename", ""), content.get("evalue", "")])
        elif kind == "status" and content["execution_state"] == "idle":
            idle_at = time.perf_counter()
    return text


def variables_survive():
    manager, client = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT)
    failures = 0
    try:
        execute(client, "let keep_me = 42;\nuse heatlib::*;", TIMEOUT)
        for name, code, expected in BAD_REQUESTS:
            said = said_by(client, code)
            if expected in said:
                print(f"ok   {name}: {said.strip().splitlines()[-1][:150]}")
            else:
                print(f"FAIL {name}: expected '{expected}', got: {said[:400]!r}")
                failures += 1
        _, bundles, text = execute(client, "keep_me", TIMEOUT)
        text += "".join(b.get("text/plain", "") for b in bundles)
        if text.strip() == "42":
            print(f"ok   keep_me is still 42 after all {len(BAD_REQUESTS)}")
        else:
            print(f"FAIL keep_me is gone: {text!r}")
            failures += 1
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--together", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write the times here")
    args = parser.parse_args()
    failures = variables_survive()
    report = together(args.together, args.rounds)
    results = [r for round_results in report for r in round_results]
    shown = [r for r in results if "failed" not in r]
    print(f"{len(shown)} of {len(results)} kernels started {args.together} at a time showed their first heatmap")
    if shown:
        print(
            f"median: ready {statistics.median(r['ready_s'] for r in shown):.1f} s, first heatmap "
            f"{statistics.median(r['first_heatmap_s'] for r in shown):.1f} s"
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"together": args.together, "rounds": report}, indent=1))
    failures += len(results) - len(shown)
    print("all passed" if failures == 0 else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
