"""Kernels started ahead of time: opening a notebook takes a kernel that is already up.

Why: a "Rust (heatlib)" kernel takes about 13 s to start on 2 cores, and almost all of it is
evcxr's built-in rust-analyzer loading std and heatlib's ~90 crates (it cannot be turned off in
evcxr 0.22). Nothing in the kernel's own start can remove that; starting it before the learner
asks for it can. So JupyterLab keeps a kernel started ahead (one in all, by default): opening a
notebook, or restarting its kernel from the Kernel menu, hands over that kernel (ready at once
if it has finished starting), and the next one starts. A kernel that died is restarted cold, on
its own ports, as Jupyter does: a client's connection survives that without reconnecting.

Two parts, both installed by `kernel-setup/setup.sh`:
- `PooledProvisioner`: it starts a kernel exactly as Jupyter's own `LocalProvisioner` does,
  except that when a warm kernel for the same kernelspec and working folder is waiting, it
  returns that kernel's connection info instead (the kernel manager takes the ports and the key
  from it: jupyter_client's `_reconcile_connection_info`).
- A Jupyter server extension that turns the pool on, gives the kernelspecs marked for it
  (`metadata.heat_accel.pooled`) the provisioner (`attach_to`), and fills the pool when the
  server starts, so that even the first notebook opened gets a warm kernel.

The kernelspec itself stays a plain one: it does not name the provisioner, because a Jupyter
client refuses a kernelspec whose provisioner is not installed in its own environment
(`NoSuchKernel`), and nbmake, papermill, a JupyterLab installed elsewhere or a Hub's server from
another environment would then not find the kernel at all. Anything but the project's own
server (and the doctor, which times the pool) starts the kernel cold, as any kernel starts: the
warm kernel is a bonus where the project's server runs, never a requirement.

It also takes the server's token out of the environment its kernels inherit (start-lab.sh
hands it over there rather than on a command line, which any user can read).

Settings, read when the server starts:
  HEAT_KERNEL_POOL=N       kernels kept warm (default 1, at most 4; 0 turns the pool off). Each
                           idle kernel holds about 1 GB of memory.
  HEAT_KERNEL_POOL_DIR=D   the folder, under the server's root, whose notebooks the first warm
                           kernel is for (default: the root). Under a Hub the notebooks are
                           copied into `heat-accel-notebooks/`; the Hub settings name it here.
                           After the first hand-over the pool follows where kernels are asked for.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty
from subprocess import Popen, TimeoutExpired
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import LocalPortCache, write_connection_file
from jupyter_client.launcher import launch_kernel
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.paths import jupyter_runtime_dir

PROVISIONER_NAME = "heat-kernel-pool"
# The kernelspecs the pool serves carry {"heat_accel": {"pooled": true}} in their metadata
# (kernel-setup/register-kernel.sh).
MARK = "heat_accel"
# A warm kernel that has not answered after running this long is given up.
READY_TIMEOUT_S = 600
# How often a starting kernel looks whether a learner's kernel is busy.
TICK_S = 0.2
# The most kernels kept warm: each holds about 1 GB, and each start takes a core for 13 s.
MAX_POOL = 4


@dataclass
class WarmKernel:
    """A kernel started for nobody yet: its process and what a client needs to reach it."""

    process: Popen
    connection_file: str
    connection_info: dict
    started: float = field(default_factory=time.monotonic)
    ready: bool = False
    paused: bool = False
    handed_over: bool = False
    stopped: bool = False

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass  # it has ended

    def pause(self) -> None:
        if not self.paused and not self.stopped:  # a kernel being stopped must act on its SIGTERM
            self.signal_group(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.signal_group(signal.SIGCONT)
            self.paused = False


@dataclass(frozen=True)
class PoolKey:
    """Which requests a warm kernel can serve: same kernelspec, same working folder, same address."""

    kernel_name: str
    cwd: str
    ip: str
    transport: str


class KernelPool:
    """The warm kernels of one server process, at most `size` of them in all.

    `busy()` says whether a learner's kernel is running a cell. A kernel the pool starts uses
    about one core for 13 s; while a learner's cell runs, it is paused (SIGSTOP), so that it
    slows neither the learner's cells nor their timings, and it goes on while the learner reads.
    """

    def __init__(self, size: int, log: Any) -> None:
        self.size = size
        self.log = log
        self.busy: Callable[[], bool] = lambda: False
        self.warm: dict[PoolKey, list[WarmKernel]] = {}
        self.tasks: set[asyncio.Task] = set()
        atexit.register(self.stop_all)

    def take(self, key: PoolKey) -> WarmKernel | None:
        """A live warm kernel for `key`, the longest-started first, or None."""
        kernels = self.warm.get(key, [])
        while kernels:
            kernel = kernels.pop(0)
            if kernel.process.poll() is None:
                kernel.handed_over = True
                kernel.resume()
                return kernel
            self.log.warning(
                "heat-kernel-pool: a warm kernel had ended (status %s); starting another", kernel.process.returncode
            )
            remove_file(kernel.connection_file)
        return None

    def refill(self, key: PoolKey, argv: list[str], env: dict[str, str]) -> None:
        """Starts warm kernels for `key` in the background until the pool is full again.

        The pool follows where kernels are asked for: kernels kept for another folder make room.
        """
        for other, kernels in self.warm.items():
            while other != key and kernels and self.count() + 1 > self.size:
                stop_soon(kernels.pop())
        while len(self.warm.setdefault(key, [])) < self.size and self.count() < self.size:
            kernel = self.start(key, argv, env)
            self.warm[key].append(kernel)
            task = asyncio.get_running_loop().create_task(self.tend(kernel))
            self.tasks.add(task)
            task.add_done_callback(self.tended)

    def tended(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("heat-kernel-pool: looking after a starting kernel failed", exc_info=task.exception())

    def count(self) -> int:
        return sum(len(kernels) for kernels in self.warm.values())

    def start(self, key: PoolKey, argv: list[str], env: dict[str, str]) -> WarmKernel:
        connection_file = os.path.join(jupyter_runtime_dir(), f"heat-pool-{uuid.uuid4()}.json")
        os.makedirs(os.path.dirname(connection_file), exist_ok=True)
        _, info = write_connection_file(
            connection_file,
            ip=key.ip,
            transport=key.transport,
            key=str(uuid.uuid4()).encode(),
            kernel_name=key.kernel_name,
        )
        cmd = [arg.replace("{connection_file}", connection_file) for arg in argv]
        process = launch_kernel(cmd, env=env, cwd=key.cwd, preexec_fn=end_with_parent)
        info = dict(info, key=info["key"].encode())  # the kernel manager keeps its key as bytes
        self.log.info(
            "heat-kernel-pool: started a warm '%s' kernel (pid %s) in %s", key.kernel_name, process.pid, key.cwd
        )
        return WarmKernel(process, connection_file, info)

    async def tend(self, kernel: WarmKernel) -> None:
        """Looks after a starting kernel until it answers kernel_info (evcxr answers once
        init.evcxr has run) or is handed over: pauses it while a learner's kernel is busy.

        Not jupyter_client's wait_for_ready: it counts a silent heartbeat as a dead kernel, and
        evcxr's heartbeat is silent while init.evcxr runs.
        """
        client = AsyncKernelClient()
        client.load_connection_info(kernel.connection_info)
        client.start_channels(hb=False)
        running_s, asked = 0.0, -1.0
        try:
            while (
                kernel.process.poll() is None
                and not kernel.handed_over
                and not kernel.stopped
                and running_s < READY_TIMEOUT_S
            ):
                # Never paused while it holds a file lock: cargo holds one on the package cache
                # and the build folder, and a learner's kernel that waits for that lock is busy,
                # which would keep the lock's holder paused for ever (a kernel wedged for good,
                # seen once in nine openings of two notebooks at once). A kernel that took a
                # lock just before it was paused is continued at the next tick.
                if self.busy() and not holds_file_lock(kernel.process.pid):
                    kernel.pause()
                    await asyncio.sleep(TICK_S)
                    continue
                kernel.resume()
                # One request is enough (zmq delivers it once the kernel listens); the rare resend
                # is kept few, since evcxr answers each, even after this client has gone.
                if asked < 0 or running_s - asked >= 10:
                    client.kernel_info()
                    asked = running_s
                tick = time.monotonic()
                try:
                    reply = await client.get_shell_msg(timeout=TICK_S)
                except Empty:
                    continue
                finally:
                    running_s += time.monotonic() - tick
                # Any request's reply will do: the kernel answers the queued ones in turn.
                if reply["msg_type"] == "kernel_info_reply":
                    kernel.ready = True
                    self.log.info(
                        "heat-kernel-pool: warm kernel (pid %s) ready after %.1f s",
                        kernel.process.pid,
                        time.monotonic() - kernel.started,
                    )
                    return
            if kernel.handed_over or kernel.stopped:
                return
            if kernel.process.returncode is None:
                self.log.warning(
                    "heat-kernel-pool: warm kernel (pid %s) did not answer in %d s; stopping it",
                    kernel.process.pid,
                    READY_TIMEOUT_S,
                )
            else:
                self.log.warning(
                    "heat-kernel-pool: warm kernel (pid %s) ended while starting (exit status %s); "
                    "the next notebook starts its kernel cold",
                    kernel.process.pid,
                    kernel.process.returncode,
                )
            self.discard(kernel)
        finally:
            if not kernel.handed_over:
                kernel.resume()
            client.stop_channels()

    def discard(self, kernel: WarmKernel) -> None:
        for kernels in self.warm.values():
            if kernel in kernels:
                kernels.remove(kernel)
        stop_soon(kernel)

    def stop_all(self) -> None:
        """Stops every warm kernel: none may outlive the server (each holds about 1 GB)."""
        for kernels in self.warm.values():
            while kernels:
                stop(kernels.pop())


def stop(kernel: WarmKernel) -> None:
    """Ends a warm kernel and whatever it started (its own process group), waiting up to 5 s
    before it is killed. Blocks: for the server's exit; inside the server, `stop_soon`."""
    kernel.stopped = True
    kernel.signal_group(signal.SIGTERM)
    kernel.resume()  # a paused process that handles SIGTERM acts on it only once continued
    try:
        kernel.process.wait(timeout=5)
    except TimeoutExpired:
        kernel.signal_group(signal.SIGKILL)
        kernel.process.wait()
    remove_file(kernel.connection_file)


def stop_soon(kernel: WarmKernel) -> None:
    """`stop` on a worker thread: the server's event loop, which serves every notebook, never
    waits for a kernel to end. Marked stopped at once, so that nothing pauses it meanwhile."""
    kernel.stopped = True
    kernel.resume()
    try:
        asyncio.get_running_loop().run_in_executor(None, stop, kernel)
    except RuntimeError:  # no event loop running: nothing to keep responsive
        stop(kernel)


def holds_file_lock(pgid: int, locks_path: str = "/proc/locks") -> bool:
    """Whether a process of the group `pgid` holds a file lock (flock or POSIX; cargo takes
    flocks), as /proc/locks lists them: `N: TYPE MODE ACCESS PID DEVICE:INODE START END`.
    Waiters are listed with `->` and hold nothing; OFD locks name no process (PID -1) and are
    not seen here."""
    try:
        with open(locks_path) as locks:
            lines = locks.readlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or fields[1] == "->" or not fields[4].isdigit():
            continue
        try:
            if os.getpgid(int(fields[4])) == pgid:
                return True
        except (ProcessLookupError, PermissionError):
            continue
    return False


def remove_file(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# Looked up here, not between fork and exec, where loading anything could deadlock.
PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """In the kernel's process before exec: end when the server ends, even if it is killed."""
    if PRCTL is not None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


# The server's pool; None outside a server that turned it on (see the module's doc).
POOL: KernelPool | None = None


class PooledProvisioner(LocalProvisioner):
    """LocalProvisioner that hands over a warm kernel when the pool has one.

    It does so for a kernel's first start and for a restart the user asked for (JupyterLab then
    reconnects to the new kernel's ports). A kernel that died is restarted cold on its own
    ports, since clients that stay connected across that restart expect them unchanged."""

    launched = False
    restart_requested = False
    warm_connection_file: str | None = None

    def _finalize_env(self, env: dict[str, str]) -> None:
        super()._finalize_env(env)
        drop_secrets(env)

    async def shutdown_requested(self, restart: bool = False) -> None:
        # Called for a polite shutdown (the Kernel menu's restart), not when a dead kernel is killed.
        await super().shutdown_requested(restart=restart)
        self.restart_requested = restart

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict:
        restart_requested, self.restart_requested = self.restart_requested, False
        first_start, self.launched = not self.launched, True
        # A kernel started cold (no warm one, or restarted after it died) ends with the server
        # too, as the pool's do: a server stopped by Ctrl-C without a terminal (a script, an
        # IDE's run pane) exits without shutting its kernels down, and evcxr, unlike ipykernel,
        # does not notice that its server is gone (1 GB left running, measured).
        kwargs = {**kwargs, "preexec_fn": end_with_parent}
        if POOL is None or not (first_start or restart_requested):
            return await super().launch_kernel(cmd, **kwargs)
        key = pool_key(self.parent, kwargs.get("cwd"))
        kernel = POOL.take(key)
        if kernel is None:
            self.log.info("heat-kernel-pool: no warm kernel for %s; starting one now", key.cwd)
            connection_info = await super().launch_kernel(cmd, **kwargs)
        else:
            connection_info = self.hand_over(kernel, key)
        try:
            POOL.refill(key, self.kernel_spec.argv, pool_environment(self.kernel_spec.env))
        except Exception:  # noqa: BLE001  (the learner's kernel is up; the next one is a bonus)
            self.log.exception("heat-kernel-pool: could not start the next warm kernel")
        return connection_info

    def hand_over(self, kernel: WarmKernel, key: PoolKey) -> dict:
        if self.ports_cached:
            # The ports pre_launch reserved for a cold start go back unused; the manager keeps
            # the warm kernel's, and a cold restart later reuses them (ports_cached stays True).
            cache = LocalPortCache.instance()
            for name in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port"):
                cache.return_port(self.connection_info[name])
        self.ports_cached = True
        self.process, self.pid, self.pgid = kernel.process, kernel.process.pid, kernel.process.pid
        self.cwd = key.cwd
        self.connection_info = kernel.connection_info
        # The manager writes its own connection file from this info. The pool's copy goes once
        # the kernel has read it: at once if it answered already, else when it shuts down.
        self.forget_warm_connection_file()
        if kernel.ready:
            remove_file(kernel.connection_file)
        else:
            self.warm_connection_file = kernel.connection_file
        self.log.info(
            "heat-kernel-pool: took a warm kernel (pid %s, %s, started %.0f s ago)",
            kernel.process.pid,
            "ready" if kernel.ready else "still starting",
            time.monotonic() - kernel.started,
        )
        return self.connection_info

    def forget_warm_connection_file(self) -> None:
        if self.warm_connection_file is not None:
            remove_file(self.warm_connection_file)
            self.warm_connection_file = None

    async def cleanup(self, restart: bool = False) -> None:
        self.forget_warm_connection_file()
        await super().cleanup(restart=restart)


def pool_key(manager: Any, cwd: str | None) -> PoolKey:
    """The key of a kernel that `manager` would start in `cwd` (None: this process's folder)."""
    return PoolKey(manager.kernel_name, os.path.realpath(cwd or os.getcwd()), manager.ip, manager.transport)


def pool_environment(spec_env: dict[str, str]) -> dict[str, str]:
    """What a kernel started by Jupyter gets: this process's environment and the kernelspec's,
    less the server's secrets."""
    env = {**os.environ, **spec_env}
    drop_secrets(env)
    return env


# The server's own secrets: start-lab.sh hands JupyterLab its token in the environment (not on
# the command line, which any user can read); a kernel runs the learner's code and build scripts
# of any crate a cell names, and has no use for it.
SERVER_SECRETS = ("JUPYTER_TOKEN",)


def drop_secrets(env: dict[str, str]) -> None:
    for name in SERVER_SECRETS:
        env.pop(name, None)


def is_pooled(spec_metadata: dict) -> bool:
    """Whether a kernelspec's metadata marks it for the pool."""
    mark = spec_metadata.get(MARK)
    return isinstance(mark, dict) and mark.get("pooled") is True


def attach_to(spec_manager: Any) -> None:
    """Makes `spec_manager` hand out the kernelspecs marked for the pool with `PooledProvisioner`
    named, as if their kernel.json named it: in this process only, and only for them.

    The server's kernel managers all read their kernelspec through the server's spec manager
    (jupyter_client's MultiKernelManager hands it to each), so wrapping its `get_kernel_spec`
    reaches every kernel the server starts. A kernelspec that names a provisioner of its own
    keeps it."""
    if getattr(spec_manager, "heat_pool_attached", False):
        return
    plain_get_kernel_spec = spec_manager.get_kernel_spec

    def get_kernel_spec(kernel_name: str, *args: Any, **kwargs: Any) -> Any:
        spec = plain_get_kernel_spec(kernel_name, *args, **kwargs)
        if is_pooled(spec.metadata) and "kernel_provisioner" not in spec.metadata:
            spec.metadata = {**spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}}
        return spec

    spec_manager.get_kernel_spec = get_kernel_spec
    spec_manager.heat_pool_attached = True


def turn_on(size: int, log: Any) -> KernelPool | None:
    """Creates the process's pool (once); None when `size` is 0."""
    global POOL
    if POOL is None and size > 0:
        POOL = KernelPool(size, log)
    return POOL


def pool_size_setting(log: Any) -> int:
    """HEAT_KERNEL_POOL as a number of kernels, at most MAX_POOL; a value that is not one turns
    the pool off, and says so."""
    text = os.environ.get("HEAT_KERNEL_POOL", "1")
    if not text.strip().isdigit():
        log.error(
            "heat-kernel-pool: HEAT_KERNEL_POOL=%r is not a number of kernels to keep warm "
            "(0 turns the pool off); the pool is off",
            text,
        )
        return 0
    if int(text) > MAX_POOL:
        log.error(
            "heat-kernel-pool: HEAT_KERNEL_POOL=%s is more than the %d kernels the pool keeps "
            "(each holds about 1 GB); keeping %d",
            text.strip(),
            MAX_POOL,
            MAX_POOL,
        )
        return MAX_POOL
    return int(text)


def pool_folder_setting(root: str, log: Any) -> str:
    """HEAT_KERNEL_POOL_DIR under the server's `root` (made if missing, as a Hub's copy of the
    notebooks may not be there yet); the root itself when unset or outside it."""
    chosen = os.environ.get("HEAT_KERNEL_POOL_DIR", "").strip()
    if not chosen:
        return root
    folder = os.path.realpath(os.path.join(root, chosen))
    if os.path.commonpath([folder, root]) != root:
        log.error(
            "heat-kernel-pool: HEAT_KERNEL_POOL_DIR=%r is outside the server's folder %s; "
            "the first warm kernel is for %s",
            chosen,
            root,
            root,
        )
        return root
    os.makedirs(folder, exist_ok=True)
    return folder


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "heat_kernel_pool"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    # The server has its token by now (reading it fixes it); every kernel it starts later, of
    # any language, inherits this process's environment, so the token leaves it here.
    handed = os.environ.get("JUPYTER_TOKEN")
    if handed and serverapp.identity_provider.token != handed:
        serverapp.log.error(
            "heat-kernel-pool: a Jupyter config file sets IdentityProvider.token, which "
            "overrides JUPYTER_TOKEN: the link start-lab.sh printed will not log in"
        )
    drop_secrets(os.environ)
    pool = turn_on(pool_size_setting(serverapp.log), serverapp.log)
    if pool is None:
        serverapp.log.info("heat-kernel-pool: off (HEAT_KERNEL_POOL=%s)", os.environ.get("HEAT_KERNEL_POOL"))
        return
    attach_to(serverapp.kernel_spec_manager)
    specs = serverapp.kernel_spec_manager.get_all_specs()
    pooled = [name for name, entry in specs.items() if is_pooled(entry["spec"].get("metadata", {}))]
    root = pool_folder_setting(os.path.realpath(serverapp.root_dir), serverapp.log)
    kernels = serverapp.kernel_manager
    pool.busy = lambda: any(
        getattr(kernels.get_kernel(kernel_id), "execution_state", None) == "busy"
        for kernel_id in kernels.list_kernel_ids()
    )

    def fill() -> None:
        # The address the server's kernel managers will have (127.0.0.1 over tcp, unless configured).
        for name in pooled:
            spec = specs[name]["spec"]
            key = pool_key(kernels.kernel_manager_factory(parent=kernels, log=serverapp.log, kernel_name=name), root)
            pool.refill(key, spec["argv"], pool_environment(spec.get("env", {})))

    # The event loop runs once the server has started; the kernels start then.
    serverapp.io_loop.add_callback(fill)
    serverapp.log.info("heat-kernel-pool: keeping %d kernel(s) warm for %s in %s", pool.size, pooled, root)
