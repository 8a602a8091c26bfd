"""The kernel's start script (kernel-setup/start-kernel.sh) keeps each user's kernels in a private
folder that nobody else can take first, and a failed start leaves nothing behind.

Run with a stub in place of evcxr_jupyter (it writes down where it was started and exits), and
with HEAT_KERNEL_CACHE=shared (no cache overlay), so that nothing is built. Checked: a kernel runs
in a folder of its own inside a per-user folder named heat-accel-kernel-UID.<random>, a real
folder of ours with mode 0700, and its init.evcxr is written there from init.evcxr.in; a second
start finds the same per-user folder again; folders a start must not use (a link, a folder of
ours open to others, and, as root only, folders another user made under the old fixed name and
under the new pattern) neither stop a start nor are used; a start without init.evcxr.in, and one whose
cache overlay fails after its own folder is made, fail and leave no init.evcxr.* in
EVCXR_CONFIG_DIR and no kernel folder.
"""

import os
import pathlib
import re
import stat
import subprocess

import pytest

pytestmark = pytest.mark.quick

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "kernel-setup" / "start-kernel.sh"
UID = os.getuid()
INIT = ':offline @OFFLINE@\n:build_env RUSTFLAGS=--cfg heatlib_source="@HEATLIB_SOURCE@"\n'
# Another user's id, for the folders they would plant (as root only).
STRANGER = 54321


class Kernels:
    """start-kernel.sh run as kernel.json runs it, with a stub for evcxr_jupyter."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path / "tmp"
        self.config = tmp_path / "config"
        self.record = tmp_path / "started"
        self.tmp.mkdir()
        self.config.mkdir()
        (self.config / "init.evcxr.in").write_text(INIT)
        self.stub = tmp_path / "evcxr_jupyter"
        self.stub.write_text(
            "#!/bin/sh\n"
            f'{{ echo "$TMPDIR"; echo "$EVCXR_CONFIG_DIR"; echo "$*"; }} > "{self.record}"\n'
            f'cat "$EVCXR_CONFIG_DIR/init.evcxr" >> "{self.record}"\n'
        )
        self.stub.chmod(0o755)
        self.env = {
            **os.environ,
            "TMPDIR": str(self.tmp),
            "EVCXR_CONFIG_DIR": str(self.config),
            "HEAT_EVCXR": str(self.stub),
            "HEAT_KERNEL_CACHE": "shared",
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            # The order the script's glob lists folders in, for the decoys named to come first.
            "LC_ALL": "C",
        }

    def start(self, **env):
        self.record.unlink(missing_ok=True)
        return subprocess.run(
            ["bash", str(SCRIPT), "connection.json"],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def started(self):
        """The stub's record: its TMPDIR (the kernel's folder), EVCXR_CONFIG_DIR, arguments, and
        the init.evcxr it was given."""
        assert self.record.exists(), "the stub for evcxr_jupyter did not run"
        tmpdir, config, args, *init = self.record.read_text().splitlines()
        return pathlib.Path(tmpdir), pathlib.Path(config), args, init

    def kernel_folders(self):
        return sorted(self.tmp.glob("heat-accel-kernel-*/kernel-*"))

    def left_in_config(self):
        return sorted(path.name for path in self.config.iterdir() if path.name != "init.evcxr.in")


@pytest.fixture
def kernels(tmp_path):
    return Kernels(tmp_path)


def per_user_folder(kernels):
    """The per-user folder the last start's kernel ran in, checked to be private and ours."""
    kernel, _, _, _ = kernels.started()
    folder = kernel.parent
    assert folder.parent == kernels.tmp, f"the kernel ran in {kernel}, not in a folder of TMPDIR's"
    assert re.fullmatch(rf"heat-accel-kernel-{UID}\.[A-Za-z0-9]{{10}}", folder.name), (
        f"{folder.name}: not heat-accel-kernel-{UID}. and ten random letters"
    )
    status = folder.lstat()
    assert stat.S_ISDIR(status.st_mode), f"{folder} is not a real folder"
    assert status.st_uid == UID, f"{folder} belongs to uid {status.st_uid}, not ours ({UID})"
    assert stat.S_IMODE(status.st_mode) == 0o700, f"{folder} has mode {stat.S_IMODE(status.st_mode):o}, not 700"
    return folder


def test_a_kernel_starts_in_a_private_folder_that_later_kernels_find_again(kernels):
    first = kernels.start()
    assert first.returncode == 0, first.stderr
    kernel, config, args, init = kernels.started()
    folder = per_user_folder(kernels)
    assert re.fullmatch(r"kernel-[0-9]+", kernel.name), f"the kernel's own folder is {kernel}"
    assert config == kernel / "config", f"evcxr reads its settings from {config}, not the kernel's own folder"
    assert args == "--control_file connection.json"
    assert init[0] == ":offline 0", f"the warming kernel is not online: {init}"
    assert re.search(r'heatlib_source="[0-9a-f]{16}"', init[1]), f"no digest of heatlib's source: {init}"
    assert kernels.left_in_config() == [], f"left in EVCXR_CONFIG_DIR: {kernels.left_in_config()}"

    second = kernels.start()
    assert second.returncode == 0, second.stderr
    assert per_user_folder(kernels) == folder, "a second kernel made a per-user folder of its own"
    assert len(list(kernels.tmp.glob("heat-accel-kernel-*"))) == 1


def starts_past(kernels, decoys):
    """Starts twice with `decoys` in TMPDIR: neither start is stopped by them, puts anything in
    them or runs in them, and the second finds the first's folder again."""
    started = kernels.start()
    assert started.returncode == 0, f"a folder planted in TMPDIR stopped the start: {started.stderr}"
    folder = per_user_folder(kernels)
    assert folder not in decoys, f"the kernel ran in a folder it must not use: {folder}"
    for decoy in decoys:
        if decoy.is_dir():
            assert list(decoy.iterdir()) == [], f"the start put something in {decoy}"
    again = kernels.start()
    assert again.returncode == 0, again.stderr
    assert per_user_folder(kernels) == folder, "the second start did not find the first's folder again"


# The decoys are named to be listed before any folder mktemp makes (the script's glob, LC_ALL=C):
# a start that would take them takes them first.


def test_a_link_and_a_folder_open_to_others_are_passed_over(kernels):
    elsewhere = kernels.tmp / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    link = kernels.tmp / f"heat-accel-kernel-{UID}.0"
    link.symlink_to(elsewhere)
    open_to_others = kernels.tmp / f"heat-accel-kernel-{UID}.00"
    open_to_others.mkdir()
    open_to_others.chmod(0o755)
    starts_past(kernels, [link, elsewhere, open_to_others])


def test_another_users_folders_neither_stop_a_start_nor_are_used(kernels):
    if UID != 0:
        pytest.skip("as root only: folders of another user's (uid 54321) are planted with chown")
    planted = []
    # Under the old fixed name, and under the new pattern, private to their owner.
    for name in (f"heat-accel-kernel-{UID}", f"heat-accel-kernel-{UID}.000", f"heat-accel-kernel-{UID}.AAAA"):
        decoy = kernels.tmp / name
        decoy.mkdir(mode=0o700)
        os.chown(decoy, STRANGER, STRANGER)
        planted.append(decoy)
    # A link of theirs to a private folder of ours.
    ours = kernels.tmp / "ours"
    ours.mkdir(mode=0o700)
    link = kernels.tmp / f"heat-accel-kernel-{UID}.0"
    link.symlink_to(ours)
    os.lchown(link, STRANGER, STRANGER)
    starts_past(kernels, [*planted, link, ours])


def test_a_start_without_init_evcxr_in_fails_and_leaves_nothing(kernels):
    (kernels.config / "init.evcxr.in").unlink()
    started = kernels.start()
    assert started.returncode != 0, "the kernel started without init.evcxr.in"
    assert "register the kernel again" in started.stderr, f"it does not say what to do: {started.stderr!r}"
    assert not kernels.record.exists(), "evcxr_jupyter ran"
    assert kernels.left_in_config() == [], f"left in EVCXR_CONFIG_DIR: {kernels.left_in_config()}"
    assert kernels.kernel_folders() == [], f"left behind: {kernels.kernel_folders()}"


def test_a_start_that_fails_after_making_its_folder_removes_it(kernels, tmp_path):
    first = kernels.start()
    assert first.returncode == 0, first.stderr
    before = set(kernels.kernel_folders())
    # A kernel that reads the shared cache through an overlay, whose making fails.
    failing = tmp_path / "bin"
    failing.mkdir()
    (failing / "python3").write_text("#!/bin/sh\necho 'cache_overlay.py: failed (the test says so)' >&2\nexit 1\n")
    (failing / "python3").chmod(0o755)
    started = kernels.start(HEAT_KERNEL_CACHE="", PATH=f"{failing}:{os.environ['PATH']}")
    assert started.returncode != 0 and "failed (the test says so)" in started.stderr, started.stderr
    assert not kernels.record.exists(), "evcxr_jupyter ran"
    assert kernels.left_in_config() == [], f"left in EVCXR_CONFIG_DIR: {kernels.left_in_config()}"
    assert set(kernels.kernel_folders()) <= before, f"a kernel folder left behind: {kernels.kernel_folders()}"
