"""The Python lock files agree with their inputs and with each other (kernel-setup/lock-python.sh).

Checked, without the network: a lock names its input in its first line; every pin of an input
(`name==version`) is in its lock at that version; every package of every lock has at least one
sha256 hash (pip --require-hashes installs nothing else); a package in several locks has the
same version in each, for the same environment markers.
"""

import re

import pytest

pytestmark = pytest.mark.quick

INPUTS = [
    "kernel-setup/requirements.txt",
    "python/requirements.txt",
    "python/requirements-jax.txt",
    "docs/requirements.txt",
    "kernel-setup/container/requirements-hub.txt",
    "tests/requirements-lint.txt",
    "tests/requirements-runner.txt",
    "tests/requirements-test.txt",
    "kernel-setup/hub/requirements.txt",
]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(;[^\\]*)?")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text):
    """{(name, markers): version} of the `name==version` lines."""
    found = {}
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            found[(canonical(match[1]), (match[3] or "").strip("; ").strip())] = match[2]
    return found


def requirements(lock_text):
    """Each requirement of a lock with its hash lines: [(first line, [hashes])]."""
    entries = []
    for line in lock_text.splitlines():
        if PIN.match(line):
            entries.append((line, []))
        elif entries and line.strip().startswith("--hash=sha256:"):
            entries[-1][1].append(line.strip())
    return entries


def lock_of(root, source):
    lock = (root / source).with_suffix(".lock")
    assert lock.exists(), f"{lock.relative_to(root)} is missing: run bash kernel-setup/lock-python.sh"
    return lock.read_text()


def missing_pins(input_text, lock_text):
    """The input's pins that its lock lacks, or holds at another version."""
    locked = pins(lock_text)
    missing = []
    for (package, _markers), version in pins(input_text).items():
        in_lock = {v for (p, _), v in locked.items() if p == package}
        if in_lock != {version}:
            missing.append(f"{package}=={version} (the lock has {sorted(in_lock) or 'none'})")
    return missing


def unhashed(lock_text):
    return [line.strip() for line, hashes in requirements(lock_text) if not hashes]


@pytest.mark.parametrize("source", INPUTS)
def test_lock_holds_every_pin_of_its_input(root, source):
    text = lock_of(root, source)
    assert source.split("/")[-1] in text.splitlines()[0], f"the lock does not name {source} in its first line"
    assert not missing_pins((root / source).read_text(), text)


@pytest.mark.parametrize("source", INPUTS)
def test_every_locked_package_has_a_hash(root, source):
    assert not unhashed(lock_of(root, source))


def test_one_version_of_a_package_across_locks(root):
    versions = {}
    for source in INPUTS:
        for key, version in pins(lock_of(root, source)).items():
            versions.setdefault(key, {}).setdefault(version, []).append(source)
    different = {key: seen for key, seen in versions.items() if len(seen) > 1}
    assert not different, f"different versions in different locks: {different}"


def test_the_lock_checks_can_fail():
    lock = "numpy==2.0.0 \\\n    --hash=sha256:ab\nscipy==1.0 \\\n"
    assert missing_pins("numpy==2.1.0\nscipy==1.0\nnumba==0.60\n", lock) == [
        "numpy==2.1.0 (the lock has ['2.0.0'])",
        "numba==0.60 (the lock has none)",
    ]
    assert unhashed(lock) == ["scipy==1.0 \\"]
