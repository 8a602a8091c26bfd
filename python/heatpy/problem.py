"""The plate, as heatlib's `Problem` describes it, and the array every version fills.

The update rule, for every interior node (i, j), from level k - 1 to level k:

    T[k, i, j] = gamma * (T[k-1, i+1, j] + T[k-1, i-1, j] + T[k-1, i, j+1] + T[k-1, i, j-1])
                 + (1 - 4 gamma) * T[k-1, i, j]

Row 0 is the bottom edge, row nx - 1 the top edge (the webinar's layout); the
corners belong to the bottom and top rows.
"""

import math
from dataclasses import dataclass

import numpy as np

from . import limits

# heatlib's names for the temperatures, in its order, as its messages say them.
TEMPERATURES = {
    "top": "top temperature",
    "bottom": "bottom temperature",
    "left": "left temperature",
    "right": "right temperature",
    "initial": "initial temperature",
}


@dataclass(frozen=True)
class Problem:
    """A square plate: nodes per side, time levels (the first one included), gamma, edges."""

    nx: int = 50
    nt: int = 1000
    gamma: float = 0.25
    top: float = 100.0
    bottom: float = 0.0
    left: float = 0.0
    right: float = 0.0
    initial: float = 0.0

    @staticmethod
    def small():
        """The webinar's hands-on problem: 50 x 50 nodes, 1000 levels, gamma = 1/4, top at 100."""
        return Problem()

    @staticmethod
    def large():
        """The webinar's large problem: 200 x 200 nodes, 4000 levels (the full history is 1.28 GB)."""
        return Problem(nx=200, nt=4000)

    def cell_updates(self):
        """Interior nodes times steps: (nt - 1) (nx - 2)^2."""
        return (self.nt - 1) * (self.nx - 2) ** 2

    def validate(self):
        """Refuses a plate no version can solve, saying what to change (heatlib's checks and words)."""
        if self.nx < 3:
            raise ValueError(f"nx = {self.nx}: a plate needs at least 3 nodes per side (one interior node)")
        if self.nt < 1:
            raise ValueError(f"nt = {self.nt}: there is at least the initial time level")
        for field, name in TEMPERATURES.items():
            check_temperature(name, getattr(self, field))
        if not math.isfinite(self.gamma):
            raise ValueError(f"invalid gamma = {self.gamma}: must be a finite number, 0 or greater")
        if not 0 <= self.gamma <= limits.LARGEST_GAMMA:
            raise ValueError(f"gamma = {self.gamma}: the explicit scheme is stable only for 0 <= gamma <= 1/4")

    def levels(self, history):
        """The time levels a run keeps: all nt with `history`, else two taking turns."""
        return self.nt if history else min(self.nt, 2)

    def check_memory(self, history):
        """Refuses, before anything is allocated, a run whose array this process cannot take.

        The bytes are counted with Python's integers, which neither overflow nor
        allocate: `--nx 10**30` is a message, not a MemoryError. The words are
        heatlib's: the full history first (its own advice), then the array itself.
        """
        self.validate()
        available = limits.available_memory()
        if history:
            limits.check_history_fits(self.nt, self.nx, available)
        limits.check_fits_in(
            f"a run of {self.nx} x {self.nx} nodes and {self.nt} levels",
            limits.fields_bytes(self.levels(history), self.nx),
            "use fewer nodes nx (memory grows with nx^2), or keep fewer levels",
            available,
        )

    def storage(self, history):
        """The array a run fills, allocated and initialised before the clock starts.

        With `history` every level is kept, shape (nt, nx, nx), as the webinar's
        array; without it two levels take turns, shape (2, nx, nx): level k is
        written into `T[k % 2]`. Every level starts with the edges set, so a run
        writes only interior nodes. A run that cannot fit is refused before the
        array is made (`check_memory`): on a shared server the kernel would
        otherwise kill the process, with no message.
        """
        self.check_memory(history)
        field = np.full((self.levels(history), self.nx, self.nx), self.initial, dtype=np.float64)
        set_edges(field, self)
        return field


def set_edges(field, problem):
    """Sets the four edges of every level in `field` (..., nx, nx), bottom and top rows last."""
    field[..., :, 0] = problem.left
    field[..., :, -1] = problem.right
    field[..., 0, :] = problem.bottom
    field[..., -1, :] = problem.top


def check_temperature(name, value):
    """Refuses a temperature that is not finite, or so large that the update overflows (heatlib's words)."""
    if not math.isfinite(value):
        raise ValueError(f"invalid {name} = {value}: temperatures must be finite numbers")
    if abs(value) > limits.LARGEST_TEMPERATURE:
        raise ValueError(
            f"{name} = {scientific(value)} is too large: the update adds four neighbours, which overflows f64 "
            f"for magnitudes above {scientific(limits.LARGEST_TEMPERATURE, 1)}; use temperatures in a physical "
            "range (kelvin or degrees: below 1e6 keeps every digit meaningful)"
        )


def scientific(value, decimals=None):
    """`value` as Rust's `{:e}` writes it (`1e308`, `2.5e-7`: the fewest digits that read back the
    same), or with `decimals` digits after the point as `{:.1e}` does; heatlib's messages use them."""
    if decimals is None:
        decimals = next(d for d in range(17) if float(f"{value:.{d}e}") == value)
    mantissa, exponent = f"{value:.{decimals}e}".split("e")
    return f"{mantissa}e{int(exponent)}"
