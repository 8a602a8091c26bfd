"""kernel-setup/cache_overlay.py under the mishaps of a shared machine, in a scratch folder.

A shared cache holds: a complete entry ("kept"), one that another kernel evicts while the overlay
links it ("vanishing"), a half-made copy left by a kernel killed while giving an entry back
(`.incoming-NAME-PID`, its PID gone) and one still being made (its PID running: this test's).
"""

import os
import shutil
import subprocess

import cache_overlay
import pytest

pytestmark = pytest.mark.quick


def entry(folder, name):
    path = folder / name
    path.mkdir(parents=True)
    for file, text in [("meta", "--crate-name x"), ("stderr", ""), ("hits", "7"), ("lib.rlib", "code")]:
        (path / file).write_text(text)
    return path


@pytest.fixture
def overlay(tmp_path, monkeypatch):
    """Links the shared cache into a kernel's private one; returns (shared, private, dead PID)."""
    shared, private = tmp_path / "shared", tmp_path / "private"
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

    monkeypatch.setattr(cache_overlay, "link_entry", evicted_meanwhile)
    cache_overlay.main(str(shared), str(private), "0123456789abcdef")
    return shared, private, ended.pid


def test_a_killed_kernels_half_made_copy_is_removed(overlay):
    shared, _, dead = overlay
    assert not (shared / f".incoming-halfmade-{dead}").exists()


def test_a_copy_still_being_made_is_kept(overlay):
    shared, _, _ = overlay
    assert (shared / f".incoming-inprogress-{os.getpid()}").exists()


def test_an_entry_evicted_while_linked_is_skipped(overlay):
    _, private, _ = overlay
    assert sorted(p.name for p in private.iterdir()) == ["kept"]


def test_a_linked_entry_has_its_own_counter_and_links_its_files(overlay):
    _, private, _ = overlay
    assert (private / "kept" / "hits").read_text() == "0"
    assert (private / "kept" / "lib.rlib").is_symlink()
