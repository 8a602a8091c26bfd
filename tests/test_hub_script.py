"""The one-machine Hub's script (kernel-setup/hub/hub.sh) does not put learners' passwords on the
network in clear text without being told to.

Checked, on the option checks alone (before the root check, before anything is installed): a
network address (--ip 0.0.0.0, 10.1.2.3) without a certificate is refused with exit status 2 and
one line that says what to do, and nothing else runs; with --insecure-http it goes on, with a
warning naming what travels in clear; a loopback address (127.x.x.x, ::1, localhost) goes on
without a word; --ssl-cert and --ssl-key go on together, and are refused alone or when a file
cannot be read; --help shows the options. Runs need no root: `id` is a stub that says uid 1000,
so a script that went past its checks would stop at the root check instead of installing
anything; HEAT_HUB_CHECK_ONLY=1 makes hub.sh exit 0 right after its option checks.
"""

import os
import pathlib
import subprocess

import pytest

pytestmark = pytest.mark.quick

ROOT = pathlib.Path(__file__).resolve().parent.parent
HUB_SH = ROOT / "kernel-setup" / "hub" / "hub.sh"
IN_CLEAR = ("passwords", "session cookies", "notebook")


@pytest.fixture
def hub_sh(tmp_path):
    """hub.sh run with `--instructor ada` and the given options; a CompletedProcess."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "id").write_text("#!/bin/sh\necho 1000\n")
    (stubs / "id").chmod(0o755)
    state = tmp_path / "state"

    def run(*options, check_only=False):
        env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "HEAT_HUB_STATE": str(state)}
        env.pop("HEAT_HUB_CHECK_ONLY", None)
        if check_only:
            env["HEAT_HUB_CHECK_ONLY"] = "1"
        done = subprocess.run(
            ["bash", str(HUB_SH), "--instructor", "ada", *options],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "==>" not in done.stdout, f"hub.sh went on to its steps:\n{done.stdout}"
        assert not state.exists(), "hub.sh made its state folder"
        return done

    return run


@pytest.fixture
def certificate(tmp_path):
    """A certificate and key pair of files (their content is not read by the checks)."""
    cert, key = tmp_path / "hub.pem", tmp_path / "hub.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    return cert, key


@pytest.mark.parametrize("address", ["0.0.0.0", "10.1.2.3", "::", "127.0.0.1.example.org"])
def test_a_network_address_without_https_is_refused_before_anything_runs(hub_sh, address):
    refused = hub_sh("--ip", address)
    assert refused.returncode == 2, f"exit {refused.returncode}: {refused.stderr}"
    lines = refused.stderr.splitlines()
    assert len(lines) == 1, f"not one line: {refused.stderr!r}"
    for what_to_do in (f"--ip {address}", "--ssl-cert FILE", "--ssl-key FILE", "--ip 127.0.0.1", "--insecure-http"):
        assert what_to_do in lines[0], f"the refusal does not say {what_to_do!r}: {lines[0]}"
    assert "run it as root" not in refused.stderr, "the root check came first"


def test_insecure_http_goes_on_with_a_warning_naming_what_travels_in_clear(hub_sh):
    went_on = hub_sh("--ip", "10.1.2.3", "--insecure-http", check_only=True)
    assert went_on.returncode == 0, went_on.stderr
    assert "warning" in went_on.stderr and "http://10.1.2.3:8000" in went_on.stderr, went_on.stderr
    for what in IN_CLEAR:
        assert what in went_on.stderr, f"the warning does not name {what!r}: {went_on.stderr}"


def test_past_the_checks_the_root_check_still_stops_a_user(hub_sh):
    stopped = hub_sh("--ip", "10.1.2.3", "--insecure-http")
    assert stopped.returncode == 1 and "run it as root" in stopped.stderr, stopped.stderr


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_a_loopback_address_goes_on_without_a_word(hub_sh, address):
    went_on = hub_sh("--ip", address, check_only=True)
    assert went_on.returncode == 0 and went_on.stderr == "", went_on.stderr


def test_the_default_address_goes_on(hub_sh):
    went_on = hub_sh(check_only=True)
    assert went_on.returncode == 0 and went_on.stderr == "", went_on.stderr


def test_a_certificate_and_its_key_go_on_on_a_network_address(hub_sh, certificate):
    cert, key = certificate
    went_on = hub_sh("--ip", "0.0.0.0", "--ssl-cert", str(cert), "--ssl-key", str(key), check_only=True)
    assert went_on.returncode == 0 and went_on.stderr == "", went_on.stderr


@pytest.mark.parametrize("given", ["--ssl-cert", "--ssl-key"])
def test_a_certificate_or_key_alone_is_refused(hub_sh, certificate, given):
    path = certificate[0] if given == "--ssl-cert" else certificate[1]
    refused = hub_sh("--ip", "0.0.0.0", given, str(path), check_only=True)
    assert refused.returncode == 2 and "give both --ssl-cert FILE and --ssl-key FILE" in refused.stderr, refused.stderr


@pytest.mark.parametrize("unreadable", ["missing", "a folder", "no read permission"])
def test_a_certificate_that_cannot_be_read_is_refused(hub_sh, certificate, tmp_path, unreadable):
    cert, key = certificate
    if unreadable == "missing":
        cert = tmp_path / "nowhere" / "hub.pem"
    elif unreadable == "a folder":
        cert = tmp_path
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads a file whatever its mode: run as a user to check")
        cert.chmod(0)
    refused = hub_sh("--ip", "0.0.0.0", "--ssl-cert", str(cert), "--ssl-key", str(key), check_only=True)
    assert refused.returncode == 2 and f"cannot read {os.path.realpath(cert)}" in refused.stderr, refused.stderr


def test_help_shows_the_https_options(hub_sh):
    shown = subprocess.run(["bash", str(HUB_SH), "--help"], capture_output=True, text=True, timeout=60)
    for option in ("--ssl-cert FILE", "--ssl-key FILE", "--insecure-http"):
        assert option in shown.stdout, f"--help does not show {option}"
