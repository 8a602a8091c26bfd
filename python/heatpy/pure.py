"""Pure Python loops: the webinar's starting point. Rust counterpart: `interpreted`.

The idea: the interpreter pays for every operation. Each `T[k][i][j]` is a
name lookup, a bounds check and a boxed float; each `+` dispatches on the
types of its operands at run time. The data are Python lists (what a pure
Python program holds); converting from and to NumPy happens outside the clock.
"""


def prepare(T):
    """The levels as nested lists: the data pure Python works on."""
    return T.tolist()


def run(T, nt, gamma):
    """Marches levels 1 .. nt - 1; level k is written into T[k % len(T)]. Returns the last level."""
    levels = len(T)
    n = len(T[0])
    centre = 1.0 - 4.0 * gamma
    for k in range(1, nt):
        current = T[(k - 1) % levels]
        new = T[k % levels]
        for i in range(1, n - 1):
            below, row, above, out = current[i - 1], current[i], current[i + 1], new[i]
            for j in range(1, n - 1):
                out[j] = gamma * (above[j] + below[j] + row[j + 1] + row[j - 1]) + centre * row[j]
    return T[(nt - 1) % levels]
