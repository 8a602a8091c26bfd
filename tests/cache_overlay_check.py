"""kernel-setup/cache_overlay.py under the mishaps of a shared machine, in a scratch folder.

    .venv/bin/python tests/cache_overlay_check.py

Checked: a half-made copy left by a kernel that was killed while giving an entry back
(`.incoming-NAME-PID`, PID gone) is removed, one still being made (PID running) is kept; an
entry removed while the overlay links it is skipped and the kernel's start goes on; complete
entries are linked, each with a hit counter of its own.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import cache_overlay
from outcome import report


def entry(folder, name):
    path = folder / name
    path.mkdir(parents=True)
    for file, text in [("meta", "--crate-name x"), ("stderr", ""), ("hits", "7"), ("lib.rlib", "code")]:
        (path / file).write_text(text)
    return path


def main():
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        shared, private = pathlib.Path(scratch, "shared"), pathlib.Path(scratch, "private")
        entry(shared, "kept")
        vanishing = entry(shared, "vanishing")
        ended = subprocess.Popen(["true"])
        ended.wait()
        entry(shared, f".incoming-halfmade-{ended.pid}")
        entry(shared, f".incoming-inprogress-{os.getpid()}")
        linking = cache_overlay.link_entry

        def evicted_meanwhile(source, mine):
            if source.endswith("vanishing"):
                shutil.rmtree(vanishing)
            linking(source, mine)

        cache_overlay.link_entry = evicted_meanwhile
        try:
            cache_overlay.main(str(shared), str(private), "0123456789abcdef")
        except OSError as error:
            problems.append(f"an entry removed while linked stopped the kernel's start: {error}")
        left = sorted(p.name for p in shared.iterdir())
        if f".incoming-halfmade-{ended.pid}" in left:
            problems.append("a half-made copy of a killed kernel was left in the shared cache")
        if f".incoming-inprogress-{os.getpid()}" not in left:
            problems.append("a copy still being made (its process alive) was removed")
        linked = sorted(p.name for p in private.iterdir()) if private.exists() else []
        if linked != ["kept"]:
            problems.append(f"the private cache holds {linked}, not ['kept']")
        elif (private / "kept" / "hits").read_text() != "0" or not (private / "kept" / "lib.rlib").is_symlink():
            problems.append("the linked entry has no counter of its own, or copies instead of links")
    return report("cache_overlay_check", problems)


if __name__ == "__main__":
    sys.exit(main())
