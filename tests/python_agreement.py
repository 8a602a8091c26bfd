"""Every Python version (heatpy) computes heatlib's reference to 1e-12, checked through .npy files.

heatlib writes its reference (`heat reference`), heatpy runs each version on
the same plate and compares (`python -m heatpy check --require-all`: a
version whose tool is missing fails here instead of being skipped). Plates:
the webinar's, one with four different edges, a warm interior and gamma = 0.2,
and one larger than the webinar's with an odd size; each with two levels
taking turns and with the full history.

    .venv/bin/python tests/python_agreement.py
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAT = REPO / "target" / "release" / "heat"
# The rows' keys are defined once, by heatlib's BenchRow; `heat bench --schema` publishes them here.
SCHEMA = REPO / "docs" / "bench-row.schema.json"

PLATES = {
    "the webinar's small problem": [],
    "four different edges, warm interior, gamma = 0.2": [
        "--nx",
        "37",
        "--nt",
        "300",
        "--gamma",
        "0.2",
        "--top",
        "100",
        "--bottom",
        "10",
        "--left",
        "75",
        "--right",
        "30",
        "--initial",
        "20",
    ],
    "larger than the webinar's, odd size, negative edge": [
        "--nx",
        "257",
        "--nt",
        "150",
        "--gamma",
        "0.24",
        "--top",
        "80",
        "--bottom",
        "-40",
        "--left",
        "5",
        "--right",
        "55",
        "--initial",
        "12.5",
    ],
}


def schema_errors(rows, what, expect_refusal=False):
    """The problems of `rows` against the published bench-row schema (or, with
    `expect_refusal`, a problem if the schema accepts them: the check can fail)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{what}: {error.message} at {list(error.absolute_path)}" for error in validator.iter_errors(rows)]
    if expect_refusal:
        return [] if errors else [f"{what}: accepted by the schema"]
    return errors


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


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "heat-cli"], cwd=REPO, check=True)
    failures = []
    # Like for like: every pair does the same arithmetic (and the check can fail).
    stages = json.loads(subprocess.run([HEAT, "stages", "--json"], capture_output=True, check=True).stdout)
    versions = json.loads(
        subprocess.run(
            [sys.executable, "-m", "heatpy", "list"], cwd=REPO / "python", capture_output=True, check=True
        ).stdout
    )
    failures += pairing_errors(stages, versions)
    paired = [version for version in versions if version["rust_counterpart"]]
    if len(paired) < 7 or not pairing_errors(
        stages, [{**paired[2], "skips_zero_centre": not paired[2]["skips_zero_centre"]}]
    ):
        failures.append(f"the pairing check does not see a mismatch (paired: {[v['name'] for v in paired]})")
    print(f"like for like: {len(paired)} Python versions, each doing its Rust counterpart's arithmetic", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for label, plate in PLATES.items():
            for history in ("final", "full"):
                reference = Path(folder) / "reference.npy"
                subprocess.run([HEAT, "reference", *plate, "--out", reference], check=True, stdout=subprocess.DEVNULL)
                print(f"\n{label}, {history} history:", flush=True)
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "heatpy",
                        "check",
                        "--require-all",
                        "--history",
                        history,
                        "--reference",
                        reference,
                        *plate,
                    ],
                    cwd=REPO / "python",
                )
                if done.returncode != 0:
                    failures.append(f"{label}, {history} history")
        # heatpy's own rows, as `python -m heatpy bench --json` writes them, fit the same schema.
        heatpy_json = Path(folder) / "heatpy.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "heatpy",
                "bench",
                "--versions",
                "numpy,numba",
                "--repeat",
                "1",
                "--nx",
                "30",
                "--nt",
                "40",
                "--json",
                heatpy_json,
            ],
            cwd=REPO / "python",
            check=True,
            stdout=subprocess.DEVNULL,
        )
        failures += schema_errors(json.loads(heatpy_json.read_text())["rows"], "python -m heatpy bench --json")
        failures += schema_errors(
            [{**json.loads(heatpy_json.read_text())["rows"][0], "speed": 1}],
            "a row with an unknown key",
            expect_refusal=True,
        )
        # The check itself can fail: a reference off by 1e-9 in one node is refused.
        import numpy as np

        reference = Path(folder) / "reference.npy"
        subprocess.run([HEAT, "reference", "--out", reference], check=True, stdout=subprocess.DEVNULL)
        field = np.load(reference)
        field[25, 25] += 1e-9
        np.save(reference, field)
        done = subprocess.run(
            [sys.executable, "-m", "heatpy", "check", "--versions", "numpy", "--reference", reference],
            cwd=REPO / "python",
            capture_output=True,
            text=True,
        )
        if done.returncode != 1 or "DISAGREES" not in done.stdout:
            failures.append(f"a reference off by 1e-9 was not refused ({done.stdout.strip()})")
        # One command, both languages: heat bench --with-python, its JSON read back.
        bench = Path(folder) / "bench.json"
        subprocess.run(
            [
                HEAT,
                "bench",
                "--size",
                "40:200",
                "--stages",
                "typed,vectorized,parallel",
                "--repeat",
                "2",
                "--with-python",
                "--json",
                bench,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows = json.loads(bench.read_text())
        failures += schema_errors(rows, "heat bench --with-python --json")
        python = {row["stage"]: row for row in rows if row["language"] == "python"}
        print(f"\nheat bench --with-python: {len(rows) - len(python)} Rust rows, Python rows {sorted(python)}")
        expected = {
            "python_loops",
            "cython_checked",
            "cython",
            "numba",
            "numpy",
            "scipy_convolve",
            "numba_parallel",
            "numba_every_term",
            "jax",
        }
        if set(python) != expected:
            failures.append(f"heat bench --with-python ran {sorted(python)}, not {sorted(expected)}")
        for name, row in python.items():
            paired = row["rust_counterpart"] in ("typed", "vectorized", "parallel")
            if not row["max_abs_diff"] <= 1e-12 * 100 or paired != (row["rust_over_python"] is not None):
                failures.append(f"heat bench --with-python, {name}: {row}")
    if failures:
        sys.exit("python_agreement: disagreement or missing tool in: " + "; ".join(failures))
    print("\nevery Python version agrees with heatlib's reference on every plate")


if __name__ == "__main__":
    main()
