"""The load tests' split of a learner's memory (memory_breakdown.py): each process counts in its part.

A learner's server as it looks while a cell builds and the Python comparison runs, with the pool's
next kernel started ahead: evcxr appears four times (two kernels, a runtime child, cargo's rustc
wrapper), and only the kernels' main processes count as kernels.
"""

import os

import pytest
from memory_breakdown import PARTS, Process, by_part, processes

pytestmark = pytest.mark.quick

MB = 1_000_000


def server():
    """{pid: Process}: JupyterLab's server, the learner's kernel (which built cells) and the pool's."""
    rows = {
        1: ("catatonit", 0, 1, False),
        10: ("jupyterhub-sing", 1, 130, False),
        # The learner's kernel: bash start-kernel.sh execs evcxr with the connection file.
        20: ("evcxr_jupyter", 10, 900, True),
        21: ("evcxr_jupyter", 20, 600, False),  # its runtime child, the variables
        22: ("python3", 21, 260, False),  # the Python comparison
        23: ("cargo", 20, 40, False),
        24: ("evcxr_jupyter", 23, 5, False),  # cargo's rustc wrapper: evcxr again
        25: ("rustc", 24, 280, False),
        26: ("cc", 25, 10, False),
        # The pool's kernel, which has only started, and its child.
        30: ("evcxr_jupyter", 10, 850, True),
        31: ("evcxr_jupyter", 30, 15, False),
    }
    cpu = {20: 5000, 30: 1500}
    return {
        pid: Process(parent, command, cpu.get(pid, 10), mb * MB, kernel)
        for pid, (command, parent, mb, kernel) in rows.items()
    }


def test_each_process_counts_in_its_part():
    parts = by_part(server())
    assert {part: size // MB for part, size in parts.items()} == {
        "server": 1 + 130,
        "kernel": 900,
        "variables": 600,
        "compiler": 40 + 5 + 280 + 10,
        "python": 260,
        "warm kernel": 850 + 15,
    }


def test_the_learners_kernel_is_the_one_that_worked_most():
    table = server()
    # The same processes, the pool's kernel now the busier: the two kernels' parts swap.
    table[30] = table[30]._replace(cpu=9000)
    parts = by_part(table)
    assert parts["kernel"] == 850 * MB and parts["variables"] == 15 * MB
    assert parts["warm kernel"] == (900 + 600 + 260 + 40 + 5 + 280 + 10) * MB


def test_without_a_kernel_everything_is_the_server():
    table = {pid: row for pid, row in server().items() if pid < 20}
    assert by_part(table) == {**dict.fromkeys(PARTS, 0), "server": 131 * MB}


def test_the_machine_s_own_processes_are_read():
    table = processes([os.getpid(), 999_999_999])  # this process, and one that is not there
    assert list(table) == [os.getpid()]
    assert table[os.getpid()].resident > 0 and not table[os.getpid()].kernel
