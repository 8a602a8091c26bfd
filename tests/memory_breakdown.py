"""Where a learner's memory goes: the processes of a kernel, or of a learner's whole server, by part.

The load tests (load_test.py, hub_load.py) sample these with the totals. The parts, each the
resident memory (RSS) of its processes; a shared library counts in every process that maps it, so
the parts add up to a little more than the container's own figure (anonymous and shared memory):
- server: JupyterLab's server (jupyterhub-singleuser under a Hub) and anything else not a kernel's;
- kernel: evcxr's main process, the kernel proper, with the rust-analyzer built into it;
- variables: evcxr's runtime child, which runs the cells and holds the learner's variables;
- compiler: cargo, rustc and the linker while a cell builds;
- python: the Python processes the Python comparison starts;
- warm kernel: every process of a kernel started ahead by the pool (the learner's kernel is the one
  that has worked most: its cells' builds count in its CPU time; the pool's only started).

Processes are found as a tree (`children_of`, `tree`): a kernel's, or a server's with its kernels
(tests/lab_server.py finds the kernels a server started the same way).
"""

import os
import pathlib
import statistics
from typing import NamedTuple

PARTS = ("server", "kernel", "variables", "compiler", "python", "warm kernel")
EVCXR = "evcxr_jupyter"
# What cargo runs to build a cell: rustc, and the linker through the C compiler's driver.
COMPILERS = {"cargo", "rustc", "cc", "gcc", "collect2", "ld", "ld.bfd", "ld.gold", "ld.lld", "rust-lld"}
PAGE = os.sysconf("SC_PAGE_SIZE")


def children_of():
    """{parent pid: [child pids]} for every process on the machine, from /proc."""
    children = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name is in parentheses and may hold spaces: split after the last ')'.
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def tree(pid, children):
    """`pid` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class Process(NamedTuple):
    parent: int
    command: str
    cpu: int  # clock ticks, its own and its ended children's (cargo, for a kernel)
    resident: int  # bytes
    kernel: bool  # started as a kernel: evcxr with a connection file


def processes(pids):
    """{pid: Process} for those of `pids` still running."""
    table = {}
    for pid in pids:
        folder = pathlib.Path("/proc") / str(pid)
        try:
            # The command is in parentheses and may hold spaces: split after the last ')'.
            command, fields = (folder / "stat").read_text().rsplit(")", 1)
            command, fields = command.split("(", 1)[1], fields.split()
            resident = int((folder / "statm").read_text().split()[1]) * PAGE
            # evcxr's main process is the one started with the kernel's connection file; evcxr also
            # runs as its runtime child and as the wrapper through which cargo calls rustc.
            kernel = command == EVCXR and b"--control_file" in (folder / "cmdline").read_bytes().split(b"\0")
            cpu = sum(int(ticks) for ticks in fields[11:15])  # utime, stime, cutime, cstime
            table[pid] = Process(int(fields[1]), command, cpu, resident, kernel)
        except (OSError, IndexError, ValueError):
            continue
    return table


def resident(table):
    """Bytes resident, the processes of a table of `processes` together."""
    return sum(row.resident for row in table.values())


def by_part(table):
    """{part: bytes} for a table of `processes`."""
    kernels = [(row.cpu, pid) for pid, row in table.items() if is_kernel(pid, table)]
    learners = max(kernels)[1] if kernels else None
    parts = dict.fromkeys(PARTS, 0)
    for pid, row in table.items():
        parts[part_of(pid, table, learners)] += row.resident
    return parts


def is_kernel(pid, table):
    """evcxr's main process (its runtime child may inherit its arguments: its parent is an evcxr)."""
    parent = table.get(table[pid].parent)
    return table[pid].kernel and (parent is None or parent.command != EVCXR)


def part_of(pid, table, learners):
    lineage, current = [], pid
    while current in table and not is_kernel(current, table):
        lineage.append(table[current].command)
        current = table[current].parent
    if current not in table:
        return "server"
    if current != learners:
        return "warm kernel"
    if not lineage:
        return "kernel"
    if COMPILERS.intersection(lineage):
        return "compiler"
    if any(command.startswith("python") for command in lineage):
        return "python"
    return "variables"


class Breakdown:
    """The parts at the moment the total peaked, and each part's own highest, over a run."""

    def __init__(self):
        self.peak_total, self.at_peak = 0, dict.fromkeys(PARTS, 0)
        self.highest = dict.fromkeys(PARTS, 0)

    def sample(self, total, table):
        """`total`: what the load test counts as the learner's now; `table`: their `processes`."""
        parts = by_part(table)
        for part, size in parts.items():
            self.highest[part] = max(self.highest[part], size)
        if total >= self.peak_total:
            self.peak_total, self.at_peak = total, parts

    def record(self, result):
        """Puts the figures, in MB, into a learner's `result`."""
        result["parts_at_peak_mb"] = in_mb(self.at_peak)
        result["parts_highest_mb"] = in_mb(self.highest)


class Together:
    """The class as the machine sees it: the most its learners held at one moment (each learner
    measured as the load test measures one), and the least memory the machine had available
    (MemAvailable) meanwhile."""

    def __init__(self):
        self.peak, self.least_available = 0, None

    def sample(self, held):
        self.peak = max(self.peak, held)
        with open("/proc/meminfo") as meminfo:
            kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:"))
        available = kib * 1024
        self.least_available = min(available, self.least_available or available)

    def figures(self):
        least = self.least_available or 0
        return {"together_peak_mb": round(self.peak / 1e6), "least_available_mb": round(least / 1e6)}


def parts_mb(table):
    """{part: MB} of a table of `processes`."""
    return in_mb(by_part(table))


def in_mb(parts):
    return {part: round(size / 1e6) for part, size in parts.items()}


def summary(results, key):
    """One line: each part's median over the learners that have `key`, in MB."""
    rows = [r[key] for r in results if key in r]
    if not rows:
        return "-"
    return ", ".join(f"{part} {statistics.median(row[part] for row in rows):.0f}" for part in PARTS)
