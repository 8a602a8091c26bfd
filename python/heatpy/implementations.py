"""The Python versions by name, each loaded only when asked for.

A version whose tool is missing on this machine (no C compiler for Cython, JAX
not installed) raises `Unavailable` with the reason when loaded; the others
are unaffected.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .unavailable import Unavailable


@dataclass
class Solver:
    """A version ready to run: `prepare` turns the storage into its data (outside the
    clock), `run(data, nt, gamma)` marches and returns the final field."""

    prepare: Callable
    run: Callable
    threads: int = 1
    device: dict = field(default=None)


@dataclass(frozen=True)
class Implementation:
    name: str
    tool: str
    # The heatlib stage of the same idea and the same arithmetic (None: no library stage).
    counterpart: str | None
    idea: str
    load: Callable[[bool], Solver]
    # Whether the update skips the centre term when its weight 1 - 4 gamma is 0 (gamma = 1/4),
    # as the webinar's loops did; a pair with its Rust counterpart agrees on it (heat stages --json).
    skips_zero_centre: bool = False


def _module(name, package_hint):
    try:
        return importlib.import_module(f"heatpy.{name}")
    except ImportError as error:
        raise Unavailable(
            f"{package_hint} is not installed ({error}); run bash kernel-setup/setup.sh --setup-only"
        ) from error


def _same(T):
    return T


def _at_index(run):
    # Versions that return the index of the last level in T hand back that level.
    def final(T, nt, gamma):
        return T[run(T, nt, gamma)]

    return final


def _pure(history):
    module = _module("pure", "Python")
    return Solver(module.prepare, lambda T, nt, gamma: np.array(module.run(T, nt, gamma)))


def _numpy(history):
    return Solver(_same, _module("numpy_slicing", "NumPy").run)


def _scipy(history):
    return Solver(_same, _module("scipy_convolve", "SciPy").run)


def _cython(checked):
    def load(history):
        try:
            from . import cython_loops
        except ImportError as error:
            raise Unavailable(
                f"heatpy's Cython module is not built ({error}): it is compiled when heatpy is installed, "
                "which needs Cython, a C compiler and Python's headers (python3-dev); "
                "run bash kernel-setup/setup.sh --setup-only and read its warning"
            ) from error
        return Solver(_same, _at_index(cython_loops.run_checked if checked else cython_loops.run))

    return load


def _numba(history):
    return Solver(_same, _at_index(_module("numba_loops", "Numba").run))


def _numba_every_term(history):
    return Solver(_same, _at_index(_module("numba_loops", "Numba").run_every_term))


def _numba_parallel(threads):
    def load(history):
        module = _module("numba_loops", "Numba")
        if threads:
            module.set_threads(threads)
        return Solver(_same, _at_index(module.run_parallel), threads=module.threads())

    return load


def _numba_wavefront(threads=None, parallel=False, steps=None):
    # `steps` per pass instead of the number heatlib's steps_per_pass picks (for tests and the stretch exercise).
    def load(history):
        module = _module("numba_wavefront", "Numba")
        if history:
            # Every level must reach memory anyway: as the Rust stage, typed's one step per pass.
            return Solver(_same, _at_index(_module("numba_loops", "Numba").run), threads=1)
        if parallel and threads:
            module.set_threads(threads)
        bands = module.threads() if parallel else 1

        def run(T, nt, gamma):
            k = steps or module.steps_per_pass(T.shape[1])
            index = module.run_parallel(T, nt, gamma, k, bands) if parallel else module.run(T, nt, gamma, k)
            return T[index]

        return Solver(_same, run, threads=bands)

    return load


def _jax(history):
    module = _module("jax_cpu", "JAX")
    if history:

        def run(data, nt, gamma):
            return np.asarray(module.run_history(data, nt, gamma))[-1]
    else:

        def run(data, nt, gamma):
            return np.asarray(module.run(data, nt, gamma))

    # XLA decides its own threads; the row says so rather than guess.
    return Solver(module.prepare, run, threads=None, device={"name": module.device()})


def implementations(threads=None):
    """Every version, in the order of heatlib's stages; `threads` for Numba's parallel loops."""
    return [
        Implementation(
            "python_loops",
            "pure Python loops",
            "interpreted",
            "an interpreter pays for every operation at run time",
            _pure,
        ),
        Implementation(
            "cython_checked",
            "Cython, typed memoryviews, checks on",
            "typed_checked",
            "static types remove the interpreter; bounds checks remain",
            _cython(True),
        ),
        Implementation(
            "cython",
            "Cython, boundscheck(False), wraparound(False)",
            "typed",
            "no checks in the inner loop: the C compiler vectorises it",
            _cython(False),
            skips_zero_centre=True,
        ),
        Implementation(
            "numba",
            "Numba @njit",
            "typed",
            "compiled just in time for the argument types of the first call",
            _numba,
            skips_zero_centre=True,
        ),
        Implementation(
            "numba_every_term",
            "Numba @njit, the centre term at every gamma",
            None,
            "the webinar's shortcut measured alone: at gamma = 1/4 the centre's weight is 0 (Rust: notebook 3)",
            _numba_every_term,
        ),
        Implementation(
            "numpy",
            "NumPy whole-array slicing",
            "vectorized",
            "whole-array operations, one pass over memory per operator",
            _numpy,
        ),
        Implementation(
            "scipy_convolve",
            "scipy.signal.convolve2d",
            "convolve",
            "a general compiled routine, called once per step",
            _scipy,
        ),
        Implementation(
            "numba_parallel",
            "Numba parallel=True with prange",
            "parallel_rows",
            "the rows of each step shared among threads",
            _numba_parallel(threads),
            skips_zero_centre=True,
        ),
        Implementation(
            "numba_wavefront",
            "Numba @njit, several steps per pass",
            "wavefront",
            "several time steps per pass, while the rows are in cache",
            _numba_wavefront(),
            skips_zero_centre=True,
        ),
        Implementation(
            "numba_wavefront_parallel",
            "Numba prange over bands, several steps per pass",
            "wavefront_parallel",
            "a wavefront per thread, each on its own band of rows",
            _numba_wavefront(threads, parallel=True),
            skips_zero_centre=True,
        ),
        Implementation(
            "jax",
            "JAX jit on the CPU",
            "opencl",
            "whole-array code compiled at run time by XLA for a device",
            _jax,
            skips_zero_centre=True,
        ),
    ]


IMPLEMENTATIONS = [implementation.name for implementation in implementations()]


def implementation(name, threads=None):
    """The version called `name` (see IMPLEMENTATIONS)."""
    for candidate in implementations(threads):
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown Python version '{name}': choose from {', '.join(IMPLEMENTATIONS)}")
