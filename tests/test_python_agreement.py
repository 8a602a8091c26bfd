"""Every Python version (heatpy) computes heatlib's reference to 1e-12, checked through .npy files.

heatlib writes its reference (`heat reference`), heatpy runs each version on the same plate and
compares (`python -m heatpy check --require-all`: a version whose tool is missing fails here
instead of being skipped). Plates: the webinar's, one with four different edges, a warm interior
and gamma = 0.2, and one larger than the webinar's with an odd size; each with two levels taking
turns and with the full history. Also: each Python version paired with a Rust stage does that
stage's arithmetic, and the rows both languages write fit the one published bench-row schema.
"""

import json
import subprocess
import sys

import jsonschema
import numpy as np
import pytest

pytestmark = pytest.mark.setup

PLATES = {
    "the webinar's small problem": [],
    "four different edges, warm interior, gamma = 0.2": "--nx 37 --nt 300 --gamma 0.2 "
    "--top 100 --bottom 10 --left 75 --right 30 --initial 20".split(),
    "larger than the webinar's, odd size, negative edge": "--nx 257 --nt 150 --gamma 0.24 "
    "--top 80 --bottom -40 --left 5 --right 55 --initial 12.5".split(),
}
# The Python versions `heat bench --with-python` must time beside the Rust stages.
PYTHON_VERSIONS = {
    "python_loops",
    "cython_checked",
    "cython",
    "numba",
    "numpy",
    "scipy_convolve",
    "numba_parallel",
    "numba_wavefront",
    "numba_wavefront_parallel",
    "numba_every_term",
    "jax",
}


def heatpy(root, *arguments, **options):
    """`python -m heatpy ARGUMENTS` with this Python (the .venv's, where set-up installed heatpy)."""
    return subprocess.run([sys.executable, "-m", "heatpy", *map(str, arguments)], cwd=root / "python", **options)


@pytest.fixture(scope="module")
def row_schema(root):
    """The rows' keys are defined once, by heatlib's BenchRow; `heat bench --schema` publishes them here."""
    return jsonschema.Draft202012Validator(json.loads((root / "docs" / "bench-row.schema.json").read_text()))


def schema_errors(validator, rows):
    return [f"{error.message} at {list(error.absolute_path)}" for error in validator.iter_errors(rows)]


def pairing_errors(stages, versions):
    """Each Python version paired with a Rust stage must do the same arithmetic: here, both skip
    the centre term at gamma = 1/4 (as the webinar's loops did), or neither does."""
    skips = {stage["name"]: stage["skips_zero_centre"] for stage in stages}
    return [
        f"{version['name']} (skips the zero centre term: {version['skips_zero_centre']}) is paired with "
        f"{version['rust_counterpart']} (skips it: {skips[version['rust_counterpart']]})"
        for version in versions
        if version["rust_counterpart"] in skips and skips[version["rust_counterpart"]] != version["skips_zero_centre"]
    ]


@pytest.fixture(scope="module")
def stages_and_versions(root, heat):
    stages = json.loads(subprocess.run([heat, "stages", "--json"], capture_output=True, check=True).stdout)
    versions = json.loads(heatpy(root, "list", capture_output=True, check=True).stdout)
    return stages, versions


def test_each_pair_does_the_same_arithmetic(stages_and_versions):
    assert not pairing_errors(*stages_and_versions)


def test_the_pairing_check_sees_a_mismatch(stages_and_versions):
    stages, versions = stages_and_versions
    paired = [version for version in versions if version["rust_counterpart"]]
    assert len(paired) >= 7, f"only {[v['name'] for v in paired]} are paired with a Rust stage"
    flipped = {**paired[2], "skips_zero_centre": not paired[2]["skips_zero_centre"]}
    assert pairing_errors(stages, [flipped])


@pytest.mark.parametrize("history", ["final", "full"])
@pytest.mark.parametrize("plate", PLATES)
def test_every_python_version_agrees_with_the_reference(root, heat, tmp_path, plate, history):
    reference = tmp_path / "reference.npy"
    subprocess.run([heat, "reference", *PLATES[plate], "--out", reference], check=True, stdout=subprocess.DEVNULL)
    done = heatpy(root, "check", "--require-all", "--history", history, "--reference", reference, *PLATES[plate])
    assert done.returncode == 0, f"a version disagrees or its tool is missing ({plate}, {history} history)"


def test_a_reference_off_by_1e_9_in_one_node_is_refused(root, heat, tmp_path):
    reference = tmp_path / "reference.npy"
    subprocess.run([heat, "reference", "--out", reference], check=True, stdout=subprocess.DEVNULL)
    field = np.load(reference)
    field[25, 25] += 1e-9
    np.save(reference, field)
    done = heatpy(root, "check", "--versions", "numpy", "--reference", reference, capture_output=True, text=True)
    assert done.returncode == 1 and "DISAGREES" in done.stdout, done.stdout


def test_heatpys_rows_fit_the_schema_and_an_unknown_key_does_not(root, tmp_path, row_schema):
    written = tmp_path / "heatpy.json"
    heatpy(
        root,
        *"bench --versions numpy,numba --repeat 1 --nx 30 --nt 40 --json".split(),
        written,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rows = json.loads(written.read_text())["rows"]
    assert not schema_errors(row_schema, rows)
    assert schema_errors(row_schema, [{**rows[0], "speed": 1}]), "a row with an unknown key was accepted"


def test_heat_bench_with_python_times_both_languages(heat, tmp_path, row_schema):
    """One command, both languages: `heat bench --with-python`, its JSON read back."""
    written = tmp_path / "bench.json"
    subprocess.run(
        [heat, *"bench --size 40:200 --stages typed,vectorized,parallel_rows --repeat 2 --with-python --json".split()]
        + [written],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rows = json.loads(written.read_text())
    assert not schema_errors(row_schema, rows)
    python = {row["stage"]: row for row in rows if row["language"] == "python"}
    assert set(python) == PYTHON_VERSIONS
    for name, row in python.items():
        paired = row["rust_counterpart"] in ("typed", "vectorized", "parallel_rows")
        assert row["max_abs_diff"] <= 1e-12 * 100, f"{name}: {row}"
        assert paired == (row["rust_over_python"] is not None), f"{name}: {row}"
