"""python -m heatpy: time the Python versions, check them against heatlib's reference.

    python -m heatpy list
    python -m heatpy bench --nx 200 --nt 4000 --history full --reference ref.npy --json python.json
    python -m heatpy check --reference ref.npy --nx 37 --nt 300 --gamma 0.2 --top 100 --left 75

`heat bench --with-python` runs `bench` for you, beside the Rust stages.

Every knob is checked before any work, with heatlib's bounds and words
(heatpy/limits.py), and every file goes through heatpy/files.py: a refusal is
one line, `heatpy: ...`, with exit status 2, never a traceback, a hang or a
process the kernel kills for its memory.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import bench as timing
from .files import check_destination, load_reference, read_bounded, write_whole
from .implementations import IMPLEMENTATIONS, implementation, implementations
from .limits import check_numba_threads, check_repeat, check_threads
from .problem import Problem
from .unavailable import Unavailable

# The most a child's --json (a few rows of timings) can sensibly hold.
CHILD_JSON_LIMIT = 16 << 20


def problem_arguments(parser):
    defaults = Problem.small()
    parser.add_argument("--nx", type=int, default=defaults.nx, help="nodes per side (default 50)")
    parser.add_argument(
        "--nt", type=int, default=defaults.nt, help="time levels, the initial one included (default 1000)"
    )
    parser.add_argument(
        "--gamma", type=float, default=defaults.gamma, help="alpha dt / dx^2, at most 1/4 (default 0.25)"
    )
    for edge in ("top", "bottom", "left", "right", "initial"):
        parser.add_argument(
            f"--{edge}",
            type=float,
            default=getattr(defaults, edge),
            help=f"temperature of the {edge} edge" if edge != "initial" else "initial temperature of the interior",
        )
    parser.add_argument(
        "--history",
        choices=["final", "full"],
        default="final",
        help="keep every level (full) or two levels taking turns (final, the default)",
    )
    parser.add_argument("--versions", help=f"comma-separated, from: {', '.join(IMPLEMENTATIONS)} (default: all)")
    parser.add_argument(
        "--threads",
        type=int,
        help="threads for numba_parallel and numba_wavefront_parallel, at most 16 per core (default: one per core)",
    )


def problem_of(args):
    """The plate the arguments describe, refused (before anything is allocated) if it cannot be run here."""
    problem = Problem(args.nx, args.nt, args.gamma, args.top, args.bottom, args.left, args.right, args.initial)
    problem.check_memory(args.history == "full")
    return problem


def check_knobs(args):
    """Bounds every knob of `bench` and `check` where it enters, before any work: a mistyped count
    (--repeat 18446744073709551616, --threads 100000) is one line, not a run that never ends."""
    check_threads(args.threads)
    check_numba_threads()  # what numba_parallel uses when --threads is not given
    if getattr(args, "repeat", None) is not None:
        check_repeat(args.repeat)
    if getattr(args, "json", None):
        check_destination(args.json)  # a link planted in /tmp, or a folder, is refused now, not after the timing
    tolerance = getattr(args, "tolerance", None)
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"invalid tolerance = {tolerance}: must be a finite number, 0 or greater")
    return problem_of(args)


def chosen(args):
    if not args.versions:
        return None
    names = [name.strip() for name in args.versions.split(",")]
    for name in names:
        implementation(name)  # refuses an unknown name, listing the known ones
    return names


def bench_command(args):
    problem = check_knobs(args)
    names, left_out = (chosen(args), []) if chosen(args) else timing.default_names(problem, IMPLEMENTATIONS)
    reference = load_reference(args.reference, problem.nx) if args.reference else None

    def say(text):
        print(text, file=sys.stderr)

    if len(names) == 1:
        rows, unavailable = timing.bench(
            problem, args.history == "full", args.repeat, names, reference, args.threads, say
        )
    else:
        rows, unavailable = each_in_its_own_process(args, names)
    for row in rows:
        print(
            f"{row['stage']:<16} {row['median_s'] * 1e3:10.2f} ms  "
            f"({row['min_s'] * 1e3:.2f} - {row['max_s'] * 1e3:.2f})"
            f"  {row['mcells_per_s']:8.0f} M cell updates/s  first run {row['first_run_s']:.3f} s"
            + ("" if row["max_abs_diff"] is None else f"  max |diff| {row['max_abs_diff']:.1e}")
        )
    for name, why in left_out + unavailable:
        print(f"({name} not run: {why})")
    if args.json:
        document = json.dumps({"rows": rows, "left_out": left_out + unavailable}, indent=2) + "\n"
        write_whole(args.json, document.encode())
        say(f"wrote {args.json}")
    return 0


def each_in_its_own_process(args, names):
    """Times each version in a fresh Python process, as `heat bench` times each size fresh.

    One process for all would let one tool's leftovers slow the next: measured
    here, JAX on the large plate took 0.31 s first in a process and 0.97 s after
    NumPy or Numba had run in it.

    Each child is `python -m heatpy bench` again, so it checks what this
    process checked; its one-line message, if any, goes to the same stderr.
    """
    rows, left_out = [], []
    shared = [
        f"--{name}={getattr(args, name)}"
        for name in ("nx", "nt", "gamma", "top", "bottom", "left", "right", "initial", "history", "repeat")
    ]
    shared += [f"--threads={args.threads}"] if args.threads else []
    shared += [f"--reference={args.reference}"] if args.reference else []
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            out = Path(folder) / f"{name}.json"
            done = subprocess.run(
                [sys.executable, "-m", "heatpy", "bench", *shared, f"--versions={name}", f"--json={out}"],
                stdout=subprocess.DEVNULL,
            )
            if done.returncode != 0 or not out.exists():
                left_out.append(
                    [name, f"its process stopped with exit status {done.returncode} (its message is above)"]
                )
                continue
            document = json.loads(read_bounded(out, CHILD_JSON_LIMIT, "the timings a heatpy bench wrote"))
            rows += document["rows"]
            left_out += document["left_out"]
    return rows, left_out


def check_command(args):
    """Every version once against the reference; exit status 1 on any disagreement."""
    problem = check_knobs(args)
    reference = load_reference(args.reference, problem.nx)
    tolerance = args.tolerance * max(1.0, float(np.max(np.abs(reference))))
    failed = False
    for version in implementations(args.threads):
        if chosen(args) and version.name not in chosen(args):
            continue
        try:
            solver = version.load(args.history == "full")
        except Unavailable as why:
            print(f"{version.name:<16} not available: {why}")
            failed |= args.require_all
            continue
        difference = difference_from(solver, problem, args.history == "full", reference)
        agrees = difference <= tolerance
        failed |= not agrees
        print(
            f"{version.name:<16} max |diff| = {difference:.2e}  "
            + ("agrees" if agrees else f"DISAGREES (tolerance {tolerance:.1e})")
        )
    return 1 if failed else 0


def difference_from(solver, problem, history, reference):
    """Runs `solver` once; its largest |diff| from the reference. Its array goes on return, before the next
    version's is made (two at once would need twice the memory that `storage` checked)."""
    final = solver.run(solver.prepare(problem.storage(history)), problem.nt, problem.gamma)
    return timing.max_abs_diff(final, reference)


def list_command(args):
    rows = [
        {
            "name": v.name,
            "tool": v.tool,
            "rust_counterpart": v.counterpart,
            "idea": v.idea,
            "skips_zero_centre": v.skips_zero_centre,
        }
        for v in implementations()
    ]
    print(json.dumps(rows, indent=2))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m heatpy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="time the versions with warm-up and repeats")
    problem_arguments(bench)
    bench.add_argument(
        "--repeat", type=int, default=5, help="timed runs per version, after one warm-up: 1 to 1000 (default 5)"
    )
    bench.add_argument("--reference", help="heatlib's reference final field (.npy) to compare each result with")
    bench.add_argument("--json", help="also write the rows, with heat bench's keys, to this file")
    bench.set_defaults(run=bench_command)
    check = commands.add_parser("check", help="compare every version with heatlib's reference")
    problem_arguments(check)
    check.add_argument("--reference", required=True, help="the reference final field (.npy), from heat reference")
    check.add_argument(
        "--tolerance", type=float, default=1e-12, help="largest |diff| allowed, times max(1, largest |temperature|)"
    )
    check.add_argument("--require-all", action="store_true", help="a version that cannot run is a failure")
    check.set_defaults(run=check_command)
    commands.add_parser("list", help="the versions, their tools and Rust counterparts, as JSON").set_defaults(
        run=list_command
    )
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, Unavailable, OSError) as error:
        # A request refused (ValueError) is the asker's to change: 2, as argparse's own refusals.
        print(f"heatpy: {error}", file=sys.stderr)
        return 2 if isinstance(error, ValueError) else 1
    except MemoryError as error:
        # Memory another program took after the check said yes: a message, as heatlib's try_filled gives.
        print(
            f"heatpy: out of memory ({error or 'the allocator refused'}): the machine ran short while allocating; "
            "close other notebooks or programs, or ask for less",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
