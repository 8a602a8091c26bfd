"""heatpy's wavefront versions (Numba, several steps per pass) give `numba_loops.run`'s bits exactly.

On plates from one interior node to 200 x 200, few and many levels, the webinar's gamma = 1/4 (the
centre term skipped) and gamma = 0.2 with four different edges: every number of steps per pass, from
one to more than the run has, and one to three bands (more bands than cores is fine: each band is a
loop of the prange). Each function is compiled once, on the first plate.
"""

import numpy as np
import pytest
from heatpy import numba_loops, numba_wavefront
from heatpy.implementations import IMPLEMENTATIONS, implementation
from heatpy.problem import Problem

pytestmark = pytest.mark.setup

EDGES = {"top": 100.0, "bottom": 10.0, "left": 75.0, "right": 30.0, "initial": 20.0}
PLATES = [
    Problem(nx=5, nt=30),
    Problem(nx=3, nt=7),
    Problem(nx=4, nt=2),
    Problem(nx=64, nt=90, gamma=0.2, **EDGES),
    Problem(nx=161, nt=41, **EDGES),
    Problem(nx=37, nt=1, gamma=0.2, **EDGES),
    Problem(nx=200, nt=400),
    Problem(nx=50, nt=1000, gamma=0.2, **EDGES),
]
STEPS = [1, 2, 3, 4, 7, 16, 100]
BANDS = [1, 2, 3]


def plate_id(problem):
    return f"{problem.nx}x{problem.nx},nt={problem.nt},gamma={problem.gamma}"


def typed(problem, history=False):
    """numba_loops.run's final field: the bits every wavefront must give."""
    T = problem.storage(history)
    return T[numba_loops.run(T, problem.nt, problem.gamma)].copy()


@pytest.mark.parametrize("problem", PLATES, ids=plate_id)
def test_every_steps_per_pass_and_band_count_gives_typeds_bits(problem):
    expected = typed(problem)
    differences = {}
    for steps in STEPS:
        T = problem.storage(False)
        final = T[numba_wavefront.run(T, problem.nt, problem.gamma, steps)]
        differences[steps, "run"] = float(np.max(np.abs(final - expected)))
        for bands in BANDS:
            T = problem.storage(False)
            final = T[numba_wavefront.run_parallel(T, problem.nt, problem.gamma, steps, bands)]
            differences[steps, bands] = float(np.max(np.abs(final - expected)))
    assert not {key: diff for key, diff in differences.items() if diff != 0.0}


@pytest.mark.parametrize("name", ["numba_wavefront", "numba_wavefront_parallel"])
@pytest.mark.parametrize("history", [False, True])
def test_the_versions_give_typeds_bits_with_either_storage(name, history):
    # With the full history the versions fall back to numba_loops.run, as the Rust stages do.
    for problem in (PLATES[3], Problem(nx=363, nt=20, gamma=0.2, **EDGES), Problem(nx=6, nt=1)):
        solver = implementation(name).load(history)
        final = solver.run(solver.prepare(problem.storage(history)), problem.nt, problem.gamma)
        assert np.array_equal(final, typed(problem, history)), (name, history, plate_id(problem))


def test_steps_per_pass_is_heatlibs():
    # Both fields within 1 MiB: 24 KiB for four rows a step; larger: 512 KiB; between 1 and 16.
    sizes = {3: 16, 50: 15, 200: 3, 256: 3, 362: 16, 1000: 16, 2000: 8, 4096: 4, 16384: 1, 10**6: 1}
    assert {n: numba_wavefront.steps_per_pass(n) for n in sizes} == sizes


def test_the_wavefronts_come_in_heatlibs_stage_order():
    order = ["numba_parallel", "numba_wavefront", "numba_wavefront_parallel", "jax"]
    assert [name for name in IMPLEMENTATIONS if name in order] == order
    assert implementation("numba_wavefront").counterpart == "wavefront"
    assert implementation("numba_wavefront_parallel").counterpart == "wavefront_parallel"
