"""Timing the Python versions the way heatlib times its stages.

The method, the same as `heat bench`: the storage is allocated and
initialised outside the clock (`setup`), one untimed warm-up run (for a JIT,
the first call: reported as `first_run_s`), then `repeat` timed runs,
reported as median, fastest and slowest; after the last run the final field
is compared with heatlib's reference, read from a .npy file.
"""

import statistics
import time
from dataclasses import dataclass

import numpy as np

from .implementations import Unavailable, implementation
from .limits import check_repeat, check_threads

# Above this many cell updates pure Python runs only when named (minutes otherwise), as in heat bench.
PURE_PYTHON_LIMIT = 10_000_000


def max_abs_diff(a, b):
    """Largest |a - b|; infinite when the shapes differ, NaN when either has a NaN."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@dataclass
class Timed:
    """One version's timings: every timed run, the warm-up, the set-up, and the last final field."""

    runs: list
    first_run_s: float
    setups: list
    final: object
    cell_updates: int

    @property
    def median(self):
        return statistics.median(self.runs)

    @property
    def mcells_per_s(self):
        """Million cell updates per second, at the median."""
        return self.cell_updates / self.median / 1e6

    def __repr__(self):
        return (
            f"{self.median * 1e3:.2f} ms median of {len(self.runs)} ({min(self.runs) * 1e3:.2f} - "
            f"{max(self.runs) * 1e3:.2f} ms), {self.mcells_per_s:.0f} M cell updates/s; "
            f"first run {self.first_run_s:.3f} s"
        )


def time_run(run, problem, history=False, repeat=5, prepare=None, say=print):
    """Times `run(T, nt, gamma)` (it returns the final field) with heat bench's method.

    `prepare` turns the freshly allocated storage into what `run` takes (pure
    Python's lists, JAX's device array); it runs outside the clock, as the
    allocation does. `repeat` is bounded as heatlib bounds it (1 to 1000): a
    mistyped count would otherwise run for ever.
    """
    check_repeat(repeat)
    prepare = prepare or (lambda T: T)

    def setup():
        start = time.perf_counter()
        data = prepare(problem.storage(history))
        return data, time.perf_counter() - start

    start = time.perf_counter()
    data, _ = setup()
    final = run(data, problem.nt, problem.gamma)
    first_run_s = time.perf_counter() - start
    if first_run_s * repeat > 5:
        say(f"  {repeat} runs of about {first_run_s:.1f} s each...")
    runs, setups = [], []
    for _ in range(repeat):
        # The last run's array goes before the next is made (the final field may be a view of it):
        # two at once would need twice the memory the check in `storage` allowed for.
        data = final = None
        data, setup_s = setup()
        start = time.perf_counter()
        final = run(data, problem.nt, problem.gamma)
        runs.append(time.perf_counter() - start)
        setups.append(setup_s)
    return Timed(runs, first_run_s, setups, final, problem.cell_updates())


def measure(name, problem, history, repeat, reference=None, threads=None, say=print):
    """Times one version; returns a row with heat bench's JSON keys. Raises Unavailable."""
    version = implementation(name, threads)
    solver = version.load(history)
    timed = time_run(solver.run, problem, history, repeat, solver.prepare, say)
    runs = timed.runs
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
        "median_s": timed.median,
        "min_s": min(runs),
        "max_s": max(runs),
        "mean_s": statistics.fmean(runs),
        "std_s": statistics.stdev(runs) if len(runs) > 1 else 0.0,
        "runs_s": runs,
        "setup_median_s": statistics.median(timed.setups),
        "cell_updates": timed.cell_updates,
        "mcells_per_s": timed.mcells_per_s,
        "baseline": None,
        "speed_up": None,
        "max_abs_diff": None if reference is None else max_abs_diff(timed.final, reference),
        "first_run_s": timed.first_run_s,
        "device": solver.device,
    }


def bench(problem, history, repeat, names, reference=None, threads=None, say=print):
    """Times each version in `names`; returns (rows, left_out), left_out as [name, reason] pairs.

    A version that cannot run on this machine is left out with its reason.
    Every knob is checked before the first version runs.
    """
    check_repeat(repeat)
    check_threads(threads)
    problem.check_memory(history)
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
