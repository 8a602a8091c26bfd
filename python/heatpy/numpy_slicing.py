"""NumPy whole-array slicing: vectorization. Rust counterpart: `vectorized`.

The idea: one Python statement per time step, the loops over cells run in
NumPy's compiled code. Each operator makes a temporary array of the whole
interior (about five per step), written to memory and read back: that, not
the interpreter, is what limits it.

The webinar's version updated all levels at once from shifted corners and
without gamma, so it computed something else. This one is the stencil: the
four neighbours are the interior shifted down, up, right and left by one.
"""


def run(T, nt, gamma):
    """Marches levels 1 .. nt - 1; level k is written into T[k % len(T)]. Returns the last level."""
    levels = len(T)
    centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        current = T[(k - 1) % levels]
        T[k % levels, 1:-1, 1:-1] = (
            gamma * (current[2:, 1:-1] + current[:-2, 1:-1] + current[1:-1, 2:] + current[1:-1, :-2])
            + centre * current[1:-1, 1:-1]
        )
    return T[(nt - 1) % levels]
