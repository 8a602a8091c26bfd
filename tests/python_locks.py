"""The Python lock files agree with their inputs and with each other (kernel-setup/lock-python.sh).

    .venv/bin/python tests/python_locks.py

Checked, without the network: every pin of an input (`name==version`) is in its lock at that
version; every package of every lock has at least one sha256 hash (pip --require-hashes
installs nothing else); a package in several locks has the same version in each, for the same
environment markers; and a lock names its input in its first line.
"""

import pathlib
import re
import sys

from outcome import report

ROOT = pathlib.Path(__file__).resolve().parent.parent
INPUTS = [
    "kernel-setup/requirements.txt",
    "python/requirements.txt",
    "python/requirements-jax.txt",
    "docs/requirements.txt",
    "kernel-setup/container/requirements-hub.txt",
    "tests/requirements-lint.txt",
    "tests/requirements-runner.txt",
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


def main():
    problems = []
    versions = {}
    for name in INPUTS:
        source = ROOT / name
        lock = source.with_suffix(".lock")
        if not lock.exists():
            problems.append(f"{lock.relative_to(ROOT)} is missing: run bash kernel-setup/lock-python.sh")
            continue
        text = lock.read_text()
        if source.name not in text.splitlines()[0]:
            problems.append(f"{lock.relative_to(ROOT)} does not name its input {source.name} in its first line")
        locked = pins(text)
        for (package, _markers), version in pins(source.read_text()).items():
            in_lock = {v for (p, _), v in locked.items() if p == package}
            if in_lock != {version}:
                problems.append(f"{name} pins {package}=={version}; its lock has {sorted(in_lock) or 'none'}")
        for line, hashes in requirements(text):
            if not hashes:
                problems.append(f"{lock.relative_to(ROOT)}: {line.strip()} has no hash")
        for key, version in locked.items():
            versions.setdefault(key, {}).setdefault(version, []).append(lock.name)
    for (package, markers), seen in versions.items():
        if len(seen) > 1:
            problems.append(f"{package} {markers}: different versions in different locks: {seen}")
    return report("python_locks", problems, ok=f"ok, {len(versions)} packages locked")


if __name__ == "__main__":
    sys.exit(main())
