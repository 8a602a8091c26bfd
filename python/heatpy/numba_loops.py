"""Numba: the same triple loop, compiled just in time. Rust counterparts: `typed` and `parallel_rows`.

The idea: `@njit` compiles the function for the argument types of its first
call (the first call pays for the compiler; later ones run machine code).
`parallel=True` with `prange` hands the rows of each step to threads, with a
wait for all of them before the next step, as heatlib's `parallel_rows` does.
`run_parallel` is `run` with those two changes only, on purpose: the
difference in their timings is what the threads bring.

Like the webinar's own loops and heatlib's `typed`, `run` and `run_parallel`
skip the centre term when its weight, 1 - 4 gamma, is exactly 0 (the
webinar's gamma = 1/4), row by row as `typed` does: a pair that compares
them computes the same arithmetic on both sides. `run_every_term` computes
the centre term at every gamma: set beside `run`, it measures that shortcut alone.
"""

import numba
from numba import njit, prange


@njit(cache=False)
def run(T, nt, gamma):
    """Marches levels 1 .. nt - 1 into T[k % len(T)]. Returns the last level's index."""
    levels, n = T.shape[0], T.shape[1]
    centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        current = T[(k - 1) % levels]
        new = T[k % levels]
        for i in range(1, n - 1):
            if centre == 0.0:
                for j in range(1, n - 1):
                    new[i, j] = gamma * (current[i + 1, j] + current[i - 1, j] + current[i, j + 1] + current[i, j - 1])
            else:
                for j in range(1, n - 1):
                    new[i, j] = (
                        gamma * (current[i + 1, j] + current[i - 1, j] + current[i, j + 1] + current[i, j - 1])
                        + centre * current[i, j]
                    )
    return (nt - 1) % levels


@njit(cache=False)
def run_every_term(T, nt, gamma):
    """As `run`, the centre term computed even when its weight is 0. Returns the last level's index."""
    levels, n = T.shape[0], T.shape[1]
    centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        current = T[(k - 1) % levels]
        new = T[k % levels]
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                new[i, j] = (
                    gamma * (current[i + 1, j] + current[i - 1, j] + current[i, j + 1] + current[i, j - 1])
                    + centre * current[i, j]
                )
    return (nt - 1) % levels


@njit(parallel=True, cache=False)
def run_parallel(T, nt, gamma):
    """As `run`, the rows of each step shared among Numba's threads. Returns the last level's index."""
    levels, n = T.shape[0], T.shape[1]
    centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        current = T[(k - 1) % levels]
        new = T[k % levels]
        for i in prange(1, n - 1):
            if centre == 0.0:
                for j in range(1, n - 1):
                    new[i, j] = gamma * (current[i + 1, j] + current[i - 1, j] + current[i, j + 1] + current[i, j - 1])
            else:
                for j in range(1, n - 1):
                    new[i, j] = (
                        gamma * (current[i + 1, j] + current[i - 1, j] + current[i, j + 1] + current[i, j - 1])
                        + centre * current[i, j]
                    )
    return (nt - 1) % levels


def threads():
    """The threads `run_parallel` uses (NUMBA_NUM_THREADS, else one per core)."""
    return numba.get_num_threads()


def set_threads(count):
    """Uses `count` threads in `run_parallel`, at most as many as Numba started."""
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
