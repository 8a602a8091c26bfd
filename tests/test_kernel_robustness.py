"""The "Rust (heatlib)" kernel under what learners do to it (after set-up).

1. A learner's variables survive bad requests: after `let keep_me = 42;`, a cell asking for a
   plate too big for the machine, one with temperatures that would overflow, one that runs out
   of its time budget and one whose own step panics on one band of rows each print heatlib's
   message (in time: a band left waiting for a panicked one used to hang the kernel for good),
   and `keep_me` is still 42 (an abort or a panic would have lost it).
2. Kernels started together all live: `--together` kernels start at the same moment (a learner
   opening two notebooks at once, a demo machine), `--rounds` times, and every one shows its
   first heatmap. Before each kernel read evcxr's build cache through its own overlay, 2 of 4
   such starts died.
"""

import statistics
import threading
import time

import pytest
from kernel_check import FIRST_HEATMAP, execute

pytestmark = [pytest.mark.setup, pytest.mark.kernel]
# A kernel's first cell builds heatlib on a cold cache: minutes on 2 cores.
CELL_TIMEOUT_S = 600

BAD_REQUESTS = {
    "a plate too big for memory": (
        "Stage::Typed.solve(&Problem::small().with_size(60000, 10), &RunOptions::final_field())?;",
        "a run of 60000 x 60000 nodes and 10 levels needs",
    ),
    "temperatures that would overflow": (
        "Stage::Typed.solve(&Problem::small().with_initial(1e308).with_boundary("
        "Boundary { top: 1e308, bottom: 0.0, left: 0.0, right: 0.0 }), &RunOptions::final_field())?;",
        "top temperature = 1e308 is too large",
    ),
    "a run beyond its time budget": (
        "Stage::Interpreted.solve(&Problem::large(), "
        "&RunOptions::final_field().with_time_budget(std::time::Duration::from_millis(200)))?;",
        "stopped after the time budget of 0.2 s",
    ),
    # notebook 3's rows-on-threads cell, lab exercise 5
    "a step of one's own that panics on one band of rows": (
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
}


def said_by(client, code):
    """Runs a cell and returns all it printed: evcxr prints a cell's `?` error on stderr,
    and forwards the worker's output on its own, sometimes just after the cell reports idle."""
    msg_id = client.execute(code)
    text, idle_at = "", None
    while idle_at is None or time.perf_counter() - idle_at < 1.0:
        try:
            msg = client.get_iopub_msg(timeout=1.0 if idle_at else CELL_TIMEOUT_S)
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


class TestALearnersKernel:
    """One kernel, as a learner keeps theirs: the bad requests in turn, then their variable.
    Shut down before the kernels below start together."""

    @pytest.fixture(scope="class")
    @classmethod  # a class-scoped fixture: once for the class, not per test instance
    def learners_kernel(cls, rust_kernels):
        with rust_kernels() as client:
            execute(client, "let keep_me = 42;\nuse heatlib::*;", CELL_TIMEOUT_S)
            yield {"client": client, "sent": set()}

    @pytest.mark.parametrize("request_name", BAD_REQUESTS)
    def test_a_bad_request_gets_heatlibs_message(self, learners_kernel, request_name):
        code, expected = BAD_REQUESTS[request_name]
        learners_kernel["sent"].add(request_name)
        said = said_by(learners_kernel["client"], code)
        assert expected in said, f"expected '{expected}', got: {said[:400]!r}"

    def test_the_learners_variable_survives_them_all(self, learners_kernel):
        assert learners_kernel["sent"] == set(BAD_REQUESTS), "run it after the bad requests, not alone"
        _, bundles, text = execute(learners_kernel["client"], "keep_me", CELL_TIMEOUT_S)
        text += "".join(b.get("text/plain", "") for b in bundles)
        assert text.strip() == "42", f"keep_me is gone after the bad requests: {text!r}"


def first_heatmap(rust_kernels, results, index):
    """Starts a kernel, shows the first heatmap, and records the times or the failure."""
    start = time.perf_counter()
    try:
        with rust_kernels() as client:
            ready = time.perf_counter() - start
            _, bundles, _ = execute(client, FIRST_HEATMAP, CELL_TIMEOUT_S)
            if not any("image/png" in b for b in bundles):
                raise AssertionError(f"no picture; outputs were {[list(b) for b in bundles]}")
            results[index] = {"ready_s": ready, "first_heatmap_s": time.perf_counter() - start}
    except Exception as error:  # a kernel that died, or a cell that failed
        results[index] = {"failed": f"{type(error).__name__}: {error}"}


def pytest_generate_tests(metafunc):
    if "start_round" in metafunc.fixturenames:
        metafunc.parametrize("start_round", range(1, metafunc.config.getoption("--rounds") + 1))


def test_kernels_started_together_all_show_their_heatmap(request, capsys, rust_kernels, start_round):
    count = request.config.getoption("--together")
    results = [None] * count
    threads = [threading.Thread(target=first_heatmap, args=(rust_kernels, results, k)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shown = [r for r in results if "failed" not in r]
    if shown:
        with capsys.disabled():  # the figures, for a slow CI run to be read
            print(
                "\n  "
                f"round {start_round}: {len(shown)} of {count} kernels showed their first heatmap; median ready "
                f"{statistics.median(r['ready_s'] for r in shown):.1f} s, first heatmap "
                f"{statistics.median(r['first_heatmap_s'] for r in shown):.1f} s "
                f"(slowest {max(r['first_heatmap_s'] for r in shown):.1f} s)"
            )
    assert len(shown) == count, [r["failed"] for r in results if "failed" in r]
