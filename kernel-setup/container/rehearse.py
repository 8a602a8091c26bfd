"""Rehearses the JupyterHub image's build on this machine, without a Docker engine.

    sudo python3 kernel-setup/container/rehearse.py --on-this-machine

Our machines have no Docker engine, so the Dockerfile cannot be built here. This runs its
instructions instead, in order, on the machine itself: RUN as the Dockerfile's USER (root,
then jovyan), ENV, WORKDIR, and COPY of the repository with .dockerignore applied. Then it
checks the result as the Hub would use it: the doctor (`setup.sh --doctor`), as jovyan,
with the image's environment (offline cargo, the portable CPU level, the cache outside
the home folder), and the single-user server's command.

What differs from a real image build, and why:
- FROM is not pulled. This machine must be the same Debian release as the base image, and
  the rust image's toolchain layout is recreated from this machine's active toolchain:
  a copy in /usr/local/rustup, with rustup's proxies in /usr/local/cargo/bin.
- evcxr_jupyter is copied from this machine (same pinned version) instead of built again,
  which saves the 6 minutes that `cargo install` takes.
- Everything runs in this machine's root filesystem, not in layers; where this machine
  already has a user with the image's uid, jovyan gets a free one.

It changes the machine: it creates the user jovyan and writes /opt/heat-accel,
/usr/local/cargo and /usr/local/rustup (removing an earlier rehearsal's first). Hence the
flag; `tests/run.sh` passes it in CI (a throw-away machine) or when HEAT_REHEARSE_IMAGE=1.
"""
import argparse
import json
import os
import pathlib
import pwd
import re
import shlex
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "kernel-setup" / "container" / "Dockerfile"
BASE_IMAGE = re.compile(r"^rust:[\d.]+-(\w+)$")
# The environment the official rust image sets (its Dockerfile's ENV lines).
RUST_IMAGE_ENV = {"RUSTUP_HOME": "/usr/local/rustup", "CARGO_HOME": "/usr/local/cargo"}


def instructions(text):
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [tuple(line.strip().split(None, 1)) for line in logical]


def expand(value, env):
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m[1], ""), value)


def debian_codename():
    found = re.search(r"^VERSION_CODENAME=(\w+)", pathlib.Path("/etc/os-release").read_text(), flags=re.M)
    return found[1] if found else "unknown"


def recreate_rust_image(env):
    """The rust image's toolchain layout, from this machine's active toolchain and its rustup."""
    rustup = shutil.which("rustup")
    if not rustup:
        raise SystemExit("rehearse: rustup is needed to copy this machine's toolchain")
    active = subprocess.run([rustup, "show", "active-toolchain"], capture_output=True, text=True, check=True)
    toolchain = active.stdout.split()[0]
    source = pathlib.Path(os.environ.get("RUSTUP_HOME", pathlib.Path.home() / ".rustup")) / "toolchains" / toolchain
    rustup_home, cargo_home = pathlib.Path(RUST_IMAGE_ENV["RUSTUP_HOME"]), pathlib.Path(RUST_IMAGE_ENV["CARGO_HOME"])
    for folder in (rustup_home, cargo_home):
        shutil.rmtree(folder, ignore_errors=True)
    print(f"rehearse: copying toolchain {toolchain} to {rustup_home}", flush=True)
    shutil.copytree(source, rustup_home / "toolchains" / toolchain, symlinks=True)
    (rustup_home / "settings.toml").write_text(f'version = "12"\ndefault_toolchain = "{toolchain}"\nprofile = "minimal"\n')
    (cargo_home / "bin").mkdir(parents=True)
    shutil.copy(rustup, cargo_home / "bin" / "rustup")
    for proxy in ("cargo", "rustc", "rustdoc", "rustfmt", "cargo-fmt", "cargo-clippy", "clippy-driver"):
        (cargo_home / "bin" / proxy).symlink_to("rustup")
    # evcxr_jupyter, with cargo's record of installing it, so that setup.sh finds it installed.
    host_cargo = pathlib.Path(os.environ.get("CARGO_HOME", pathlib.Path.home() / ".cargo"))
    if (host_cargo / "bin" / "evcxr_jupyter").exists():
        shutil.copy(host_cargo / "bin" / "evcxr_jupyter", cargo_home / "bin" / "evcxr_jupyter")
        for record in (".crates.toml", ".crates2.json"):
            shutil.copy(host_cargo / record, cargo_home / record)
    env.update(RUST_IMAGE_ENV)
    env["PATH"] = f"{cargo_home}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def copy_context(destination, owner):
    ignored = {line.strip().strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(ROOT, destination, symlinks=True,
                    ignore=lambda folder, names: [n for n in names if pathlib.Path(folder) == ROOT and n in ignored])
    subprocess.run(["chown", "-R", owner, str(destination)], check=True)


def free_uid(command):
    """The image's uid for a new user, or a free one where this machine already uses it."""
    wanted = re.search(r"useradd .*--uid (\d+)", command)
    if not wanted:
        return command
    try:
        taken_by = pwd.getpwuid(int(wanted[1])).pw_name
    except KeyError:
        return command
    uid = next(n for n in range(int(wanted[1]) + 1, 60000) if not any(p.pw_uid == n for p in pwd.getpwall()))
    print(f"rehearse: uid {wanted[1]} belongs to {taken_by} on this machine; using {uid} instead", flush=True)
    return command.replace(f"--uid {wanted[1]}", f"--uid {uid}")


def run(command, env, cwd, user):
    account = pwd.getpwnam(user)
    env = dict(env, HOME=account.pw_dir, USER=user)
    print(f"rehearse: [{user} in {cwd}] RUN {command}", flush=True)
    subprocess.run(["bash", "-c", command], env=env, cwd=cwd, user=account.pw_uid, group=account.pw_gid,
                   extra_groups=[], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--on-this-machine", action="store_true", required=True,
                        help="agree that it creates user jovyan and writes /opt/heat-accel and /usr/local")
    parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("rehearse: run it as root (it creates a user and installs Debian packages)")
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    user, cwd, command = "root", "/", None
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            base = BASE_IMAGE.match(arguments)
            if not base or base[1] != debian_codename():
                raise SystemExit(f"rehearse: FROM {arguments} needs a Debian {base[1] if base else '?'} machine; "
                                 f"this one is {debian_codename()}")
            recreate_rust_image(env)
            if subprocess.run(["id", "jovyan"], capture_output=True).returncode == 0:
                subprocess.run(["userdel", "--remove", "jovyan"], check=True, capture_output=True)
        elif keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = expand(value, env)
        elif keyword == "WORKDIR":
            cwd = expand(arguments, env)
            os.makedirs(cwd, exist_ok=True)
        elif keyword == "USER":
            user = arguments
        elif keyword == "COPY":
            words = arguments.split()
            owner = next((w.split("=", 1)[1] for w in words if w.startswith("--chown=")), "root:root")
            sources = [w for w in words if not w.startswith("--")]
            if sources[:-1] != ["."]:
                raise SystemExit(f"rehearse: only COPY . DEST is rehearsed, not COPY {arguments}")
            copy_context(pathlib.Path(sources[-1]), owner)
        elif keyword == "RUN":
            run(free_uid(arguments), env, cwd, user)
        elif keyword == "CMD":
            command = json.loads(arguments)
        elif keyword != "EXPOSE":
            raise SystemExit(f"rehearse: the Dockerfile uses {keyword}, which this rehearsal does not know")
    print("rehearse: the image is built; checking it as the Hub would use it", flush=True)
    run("bash /opt/heat-accel/kernel-setup/setup.sh --doctor", env, cwd, user)
    run(f"command -v {command[0]} && {shlex.join(command)} --help-all >/dev/null", env, cwd, user)
    print(f"rehearse: passed; the image's command is {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
