"""heatpy: the webinar's Python versions of the heat-flow solver, done right, measured like heatlib.

One module per tool, each with the idea it teaches and its Rust counterpart:

| module | tool | heatlib stage |
|---|---|---|
| `pure` | pure Python loops over lists | `interpreted` |
| `cython_loops` | Cython, typed memoryviews, checks on / off | `typed_checked` / `typed` |
| `numba_loops` | Numba `@njit`, and `parallel=True` with `prange` | `typed` / `parallel` |
| `numpy_slicing` | NumPy whole-array slicing | `vectorized` |
| `scipy_convolve` | `scipy.signal.convolve2d`, once per step | `convolve` |
| `jax_cpu` | JAX `jit` on the CPU | `opencl` |

Every version fills the same array: `Problem.storage(history)` allocates it
before the clock starts, with every level's edges set, shape (nt, nx, nx) for
the full history or (2, nx, nx) for two levels taking turns (level k goes
into `T[k % len(T)]`). `heatpy.bench` times them with heatlib's method
(warm-up, repeats, median and spread) and writes `heat bench`'s JSON keys;
`python -m heatpy --help` lists the commands.
"""

from .implementations import IMPLEMENTATIONS, Unavailable, implementation
from .problem import Problem, set_edges

__all__ = ["IMPLEMENTATIONS", "Problem", "Unavailable", "implementation", "set_edges"]
