# cython: language_level=3
"""Cython: the triple loop with static types. Rust counterparts: `typed_checked` and `typed`.

The idea: declare the types and the loop compiles to C; no interpreter is
left in the inner loop. `run_checked` keeps Cython's bounds and wrap-around
checks (as Rust's `field[[i, j]]` keeps its bounds checks); `run` turns them
off, as the webinar did, so the C compiler can vectorise the inner loop.
`run` also skips the centre term when its weight, 1 - 4 gamma, is exactly
0 (the webinar's gamma = 1/4), row by row, as the webinar's own loops and
heatlib's `typed` do; `run_checked`, like `typed_checked`, computes it at
every gamma. Each pair with its Rust counterpart computes the same arithmetic.
Compiled with the machine's C compiler when heatpy is installed (python/setup.py).
"""

cimport cython


@cython.boundscheck(True)
@cython.wraparound(True)
def run_checked(double[:, :, ::1] T, Py_ssize_t nt, double gamma):
    """Marches levels 1 .. nt - 1 into T[k % len(T)], every index checked. Returns the last level's index."""
    cdef Py_ssize_t levels = T.shape[0], n = T.shape[1]
    cdef Py_ssize_t k, i, j, now, before
    cdef double centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        before = (k - 1) % levels
        now = k % levels
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                T[now, i, j] = gamma * (T[before, i + 1, j] + T[before, i - 1, j]
                                        + T[before, i, j + 1] + T[before, i, j - 1]) \
                               + centre * T[before, i, j]
    return (nt - 1) % levels


@cython.boundscheck(False)
@cython.wraparound(False)
def run(double[:, :, ::1] T, Py_ssize_t nt, double gamma):
    """Marches levels 1 .. nt - 1 into T[k % len(T)], no checks. Returns the last level's index."""
    cdef Py_ssize_t levels = T.shape[0], n = T.shape[1]
    cdef Py_ssize_t k, i, j, now, before
    cdef double centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        before = (k - 1) % levels
        now = k % levels
        for i in range(1, n - 1):
            if centre == 0.0:
                for j in range(1, n - 1):
                    T[now, i, j] = gamma * (T[before, i + 1, j] + T[before, i - 1, j]
                                            + T[before, i, j + 1] + T[before, i, j - 1])
            else:
                for j in range(1, n - 1):
                    T[now, i, j] = gamma * (T[before, i + 1, j] + T[before, i - 1, j]
                                            + T[before, i, j + 1] + T[before, i, j - 1]) \
                                   + centre * T[before, i, j]
    return (nt - 1) % levels
