"""Timing the Python versions the way heatlib times its stages.

The method, the same as `heat bench`: the storage is allocated and
initialised outside the clock (`setup`), one untimed warm-up run (for a JIT,
the first call: reported as `first_run_s`), then `repeat` timed runs,
reported as median, fastest and slowest; after the last run the final field
is compared with heatlib's reference, read from a .npy file.
"""

import statistics
import time

import numpy as np

from .implementations import Unavailable, implementation

# Above this many cell updates pure Python runs only when named (minutes otherwise), as in heat bench.
PURE_PYTHON_LIMIT = 10_000_000


def max_abs_diff(a, b):
    """Largest |a - b|; infinite when the shapes differ, NaN when either has a NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def measure(name, problem, history, repeat, reference=None, threads=None, say=print):
    """Times one version; returns a row with heat bench's JSON keys. Raises Unavailable."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    version = implementation(name, threads)
    solver = version.load(history)

    def setup():
        start = time.perf_counter()
        data = solver.prepare(problem.storage(history))
        return data, time.perf_counter() - start

    start = time.perf_counter()
    data, _ = setup()
    final = solver.run(data, problem.nt, problem.gamma)
    first_run_s = time.perf_counter() - start
    if first_run_s * repeat > 5:
        say(f"  {name}: {repeat} runs of about {first_run_s:.1f} s each...")
    runs, setups = [], []
    for _ in range(repeat):
        data, setup_s = setup()
        start = time.perf_counter()
        final = solver.run(data, problem.nt, problem.gamma)
        runs.append(time.perf_counter() - start)
        setups.append(setup_s)
    median = statistics.median(runs)
    return {
        "stage": version.name,
        "language": "python",
        "python_analog": version.tool,
        "rust_counterpart": version.counterpart,
        "idea": version.idea,
        "nx": problem.nx,
        "nt": problem.nt,
        "gamma": problem.gamma,
        "history": "full" if history else "final",
        "threads": solver.threads,
        "repeat": repeat,
        "median_s": median,
        "min_s": min(runs),
        "max_s": max(runs),
        "mean_s": statistics.fmean(runs),
        "std_s": statistics.stdev(runs) if len(runs) > 1 else 0.0,
        "runs_s": runs,
        "setup_median_s": statistics.median(setups),
        "cell_updates": problem.cell_updates(),
        "mcells_per_s": problem.cell_updates() / median / 1e6,
        "baseline": None,
        "speed_up": None,
        "max_abs_diff": None if reference is None else max_abs_diff(final, reference),
        "first_run_s": first_run_s,
        "build_s": solver.build_s,
        "device": solver.device,
    }


def bench(problem, history, repeat, names, reference=None, threads=None, say=print):
    """Times each version in `names`; returns (rows, left_out), left_out as [name, reason] pairs.

    A version that cannot run on this machine is left out with its reason.
    """
    rows, left_out = [], []
    for name in names:
        say(f"timing {name} on nx = {problem.nx}, nt = {problem.nt} ({repeat} runs after a warm-up)...")
        try:
            rows.append(measure(name, problem, history, repeat, reference, threads, say))
        except Unavailable as why:
            left_out.append([name, str(why)])
            say(f"  {name} left out: {why}")
    return rows, left_out


def default_names(problem, all_names):
    """Every version, without pure Python above PURE_PYTHON_LIMIT cell updates; and the note saying so."""
    if problem.cell_updates() > PURE_PYTHON_LIMIT:
        why = f"{problem.cell_updates()} cell updates would take minutes; name it in --versions to run it"
        return [n for n in all_names if n != "python_loops"], [["python_loops", why]]
    return list(all_names), []
