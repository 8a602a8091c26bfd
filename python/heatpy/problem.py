"""The plate, as heatlib's `Problem` describes it, and the array every version fills.

The update rule, for every interior node (i, j), from level k - 1 to level k:

    T[k, i, j] = gamma * (T[k-1, i+1, j] + T[k-1, i-1, j] + T[k-1, i, j+1] + T[k-1, i, j-1])
                 + (1 - 4 gamma) * T[k-1, i, j]

Row 0 is the bottom edge, row nx - 1 the top edge (the webinar's layout); the
corners belong to the bottom and top rows.
"""

from dataclasses import dataclass

import numpy as np


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
        """Refuses a plate no version can solve, saying what to change."""
        if self.nx < 3:
            raise ValueError(f"nx = {self.nx}: a plate needs at least 3 nodes per side (one interior node)")
        if self.nt < 1:
            raise ValueError(f"nt = {self.nt}: there is at least the initial time level")
        if not 0 <= self.gamma <= 0.25:
            raise ValueError(f"gamma = {self.gamma}: the explicit scheme is stable only for 0 <= gamma <= 1/4")

    def storage(self, history):
        """The array a run fills, allocated and initialised before the clock starts.

        With `history` every level is kept, shape (nt, nx, nx), as the webinar's
        array; without it two levels take turns, shape (2, nx, nx): level k is
        written into `T[k % 2]`. Every level starts with the edges set, so a run
        writes only interior nodes.
        """
        self.validate()
        levels = self.nt if history else min(self.nt, 2)
        field = np.full((levels, self.nx, self.nx), self.initial, dtype=np.float64)
        set_edges(field, self)
        return field


def set_edges(field, problem):
    """Sets the four edges of every level in `field` (..., nx, nx), bottom and top rows last."""
    field[..., :, 0] = problem.left
    field[..., :, -1] = problem.right
    field[..., 0, :] = problem.bottom
    field[..., -1, :] = problem.top
