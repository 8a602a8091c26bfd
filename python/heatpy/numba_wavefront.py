"""Numba: several time steps in one pass down the plate. Rust counterparts: `wavefront` and `wavefront_parallel`.

The idea: a row of level t + 1 needs only three rows of level t, so one pass
down the plate can carry k steps at once, step s one row behind step s - 1 (a
wavefront). Only level t is read from memory and level t + k written to it;
the k - 1 levels in between live in small rings of four rows each, which stay
in cache. `steps_per_pass` picks k as heatlib does; `run` and `run_parallel`
take it as an argument (the lab's stretch exercise turns that knob).
`run_parallel` cuts the interior rows into one band per thread, each band
with its own wavefront and ring: at step s a band also recomputes the k - s
rows on either side of its own, so that it never waits for a neighbour within
a pass (the bands meet once per pass, not once per step).

Each cell is computed by `numba_loops.run`'s update, the centre term skipped
when its weight 1 - 4 gamma is exactly 0, and each level from the same rows of
the level before: the same bits as `run`. `run` and `run_parallel` keep only
the final field, in two fields taking turns (`T` of shape (2, n, n)); with the
full history every level must reach memory anyway, so there, as the Rust stage
does, the loaders in implementations.py fall back to `numba_loops.run`, one
step per pass.
"""

import numpy as np
from numba import njit, prange

from .numba_loops import set_threads, threads  # noqa: F401 (the threads `run_parallel`'s bands follow)

# heatlib's constants (stages/wavefront.rs), for the same steps per pass.
# Bytes the rows in flight may take when the plate is larger than the caches: half of a 1 MB L2.
WINDOW_IN_L2 = 512 << 10
# Bytes the rows in flight may take when both fields already fit in L2: then only L1 is faster.
WINDOW_IN_L1 = 24 << 10
# Two fields up to this size stay in L2 from one step to the next.
FIELDS_IN_L2 = 1 << 20
# More steps per pass gain little once memory traffic is a small share.
MOST_STEPS_PER_PASS = 16
# Rows of each level in between that a pass keeps: the three the next step reads, and the one being written.
RING_ROWS = 4


def steps_per_pass(n):
    """The steps per pass on an n x n plate, as heatlib's `wavefront::steps_per_pass` picks them: as many
    as keep the rows in flight (about four per step) in the cache faster than where the two fields live."""
    row = n * 8
    window = WINDOW_IN_L1 if 2 * row * n <= FIELDS_IN_L2 else WINDOW_IN_L2
    return min(max(window // (RING_ROWS * row), 1), MOST_STEPS_PER_PASS)


@njit(cache=False)
def _update(c, below, row, above, new, out, gamma, centre):
    """Writes the interior of row `out` of `new` from rows `below`, `row` and `above` of `c`: numba_loops.run's
    update, term for term. The rows go by index, not as views: Numba counts references to each view,
    and on a 200-node row that bookkeeping measurably slows the pass."""
    n = c.shape[1]
    if centre == 0.0:
        for j in range(1, n - 1):
            new[out, j] = gamma * (c[above, j] + c[below, j] + c[row, j + 1] + c[row, j - 1])
    else:
        for j in range(1, n - 1):
            new[out, j] = gamma * (c[above, j] + c[below, j] + c[row, j + 1] + c[row, j - 1]) + centre * c[row, j]


@njit(cache=False)
def _held(ring, level, row, edge):
    # Where `ring` holds row `row` of the pass's level in between `level` (1 .. k - 1): slot row % RING_ROWS
    # of that level's rows, or, for the bottom and top edges, their copies after every level's slots.
    if row == 0:
        return ring.shape[0] - 2
    if row == edge:
        return ring.shape[0] - 1
    return (level - 1) * RING_ROWS + row % RING_ROWS


@njit(cache=False)
def _pass(source, destination, ring, own_start, own_end, k, gamma):
    """Advances rows own_start .. own_end - 1 of `source` (level t) by k steps into `destination`
    (level t + k). Step s computes those rows widened by k - s on each side (within the interior),
    so that the last step has every neighbour it needs; the levels in between go through `ring`."""
    edge = source.shape[1] - 1
    centre = 1.0 - 4.0 * gamma
    # Step s works on row p - (s - 1) at position p: one row behind step s - 1,
    # which has just written the row above, the last one step s needs.
    for position in range(max(own_start - (k - 1), 1), own_end + k - 1):
        for s in range(1, k + 1):
            i = position + 1 - s
            if i < max(own_start - (k - s), 1) or i >= min(own_end + (k - s), edge):
                continue
            # Level t is the source's; the levels in between are the ring's. Four calls rather than a
            # field chosen by a variable: that measured slower (Numba counts references to it, row by row).
            if s == 1:
                if s == k:
                    _update(source, i - 1, i, i + 1, destination, i, gamma, centre)
                else:
                    _update(source, i - 1, i, i + 1, ring, _held(ring, s, i, edge), gamma, centre)
            else:
                below = _held(ring, s - 1, i - 1, edge)
                row = _held(ring, s - 1, i, edge)
                above = _held(ring, s - 1, i + 1, edge)
                if s == k:
                    _update(ring, below, row, above, destination, i, gamma, centre)
                else:
                    _update(ring, below, row, above, ring, _held(ring, s, i, edge), gamma, centre)


@njit(cache=False)
def _rings(T, count, steps):
    # One ring per band: RING_ROWS rows for each of the `steps - 1` levels in between, then copies of the
    # bottom and top edges, made once since they never change (heatlib reads them from the source field:
    # the same values; here all three rows a step reads then come from one array). Their edge columns
    # are set once too: every interior row has the same left and right values.
    n = T.shape[1]
    rings = np.zeros((count, (steps - 1) * RING_ROWS + 2, n))
    rings[:, :, 0] = T[0, 1, 0]
    rings[:, :, n - 1] = T[0, 1, n - 1]
    for band in range(count):
        rings[band, -2] = T[0, 0]
        rings[band, -1] = T[0, n - 1]
    return rings


@njit(cache=False)
def run(T, nt, gamma, steps):
    """Marches levels 1 .. nt - 1, `steps` per pass, in the two fields of T (2, n, n), each pass from
    one into the other. Returns the index of the field that holds level nt - 1."""
    if nt < 2:
        return 0
    n = T.shape[1]
    steps = min(max(steps, 1), nt - 1)
    ring = _rings(T, 1, steps)[0]
    current = 0
    level = 0
    while level + 1 < nt:
        k = min(steps, nt - 1 - level)
        _pass(T[current], T[1 - current], ring, 1, n - 1, k, gamma)
        current = 1 - current
        level += k
    return current


@njit(parallel=True, cache=False)
def run_parallel(T, nt, gamma, steps, bands):
    """As `run`, the interior rows cut into `bands` bands (at most one per row), one wavefront each,
    run at once on Numba's threads; the passes follow one another. Returns the index of the field
    that holds level nt - 1."""
    if nt < 2:
        return 0
    n = T.shape[1]
    interior = n - 2
    count = min(max(bands, 1), interior)
    steps = min(max(steps, 1), nt - 1)
    rings = _rings(T, count, steps)
    current = 0
    level = 0
    while level + 1 < nt:
        k = min(steps, nt - 1 - level)
        source = T[current]
        destination = T[1 - current]
        # heatlib's bands_of_rows: band b holds rows 1 + b * interior // count .. 1 + (b + 1) * interior // count.
        for band in prange(count):
            own_start = 1 + band * interior // count
            own_end = 1 + (band + 1) * interior // count
            _pass(source, destination, rings[band], own_start, own_end, k, gamma)
        current = 1 - current
        level += k
    return current
