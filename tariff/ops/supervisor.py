"""`tariff serve --processes N`: N server processes sharing one port, one parent watching.

Python runs one core per process (the GIL), so a machine's cores are used by several
processes. Each child is a whole `tariff serve` (its own snapshots, its own event loop)
started as a new interpreter - never forked from a process that initialised gRPC, which is
unsafe - and binds the port with SO_REUSEPORT, so the kernel spreads connections over them.
The parent:
- reserves the port first (a bound, never-listening SO_REUSEPORT socket, so `--port 0`
  gives every child the same port and nothing else takes it meanwhile);
- prints `serving on HOST:PORT` once every child answers;
- restarts a child that dies (a crash loop - a child dying within `STABLE_SECONDS` of its
  start `MAX_QUICK_DEATHS` times running - stops the whole server with an error);
- on SIGTERM or SIGINT sends SIGTERM to every child, which drain their calls in flight,
  and waits for them (`grace_seconds` and a margin, then SIGKILL).
Publishing in one child reaches the others as it reaches any other process: NOTIFY on
PostgreSQL, polling (`TARIFF_REFRESH_SECONDS`) otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tariff.ops.logs import event
from tariff.settings import Settings

log = logging.getLogger("tariff.supervisor")

STARTUP_SECONDS = 300.0  # a child installing a big catalog may take minutes
STABLE_SECONDS = 10.0
MAX_QUICK_DEATHS = 5
POLL_SECONDS = 0.2
_READY = re.compile(r"serving on \S+:(\d+)")


def die_with_parent() -> None:
    """In a child: be sent SIGTERM when the supervisor dies, even by SIGKILL, so no orphan
    keeps serving the port (Linux prctl PR_SET_PDEATHSIG; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the prctl: follow it now
        os.kill(os.getpid(), signal.SIGTERM)


class SupervisorError(RuntimeError):
    """The server cannot run: a child failed to start, or keeps dying."""


def reserve_port(host: str, port: int) -> socket.socket:
    """A bound SO_REUSEPORT socket on (host, port) that never listens: it holds the port
    (port 0: picks one) for the children, who bind it too, and takes no connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


@dataclass
class Child:
    index: int
    proc: subprocess.Popen[str]
    started: float
    ready: threading.Event = field(default_factory=threading.Event)


class Supervisor:
    """Starts, watches and stops the children; `run` blocks until they are all gone."""

    def __init__(self, settings: Settings, child_args: Sequence[str]) -> None:
        self.settings = settings
        self.child_args = list(child_args)
        self.children: dict[int, Child] = {}
        self.stopping = threading.Event()
        self.quick_deaths = 0
        self.port = 0

    def command(self, index: int) -> list[str]:
        return [sys.executable, "-m", "tariff.cli", "serve", *self.child_args,
                "--port", str(self.port), "--child", str(index)]  # fmt: skip

    def environment(self, index: int) -> dict[str, str]:
        env = dict(os.environ)
        env["TARIFF_PROCESSES"] = "1"
        if self.settings.metrics_port is not None:
            env["TARIFF_METRICS_PORT"] = str(self.settings.metrics_port + index)
        return env

    def spawn(self, index: int) -> Child:
        proc = subprocess.Popen(
            self.command(index),
            env=self.environment(index),
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        child = Child(index, proc, time.monotonic())
        threading.Thread(target=self._relay, args=(child,), daemon=True).start()
        self.children[index] = child
        event(log, f"started child {index}", event="child-start", child=index, pid=proc.pid)
        return child

    def _relay(self, child: Child) -> None:
        """Wait for the child's ready line, then pass on what else it prints."""
        assert child.proc.stdout is not None
        for line in child.proc.stdout:
            if not child.ready.is_set() and _READY.search(line):
                child.ready.set()
                continue
            sys.stdout.write(line)
            sys.stdout.flush()

    def start(self) -> int:
        """Reserve the port, start every child, wait until each serves. Returns the port.
        Raises SupervisorError (children stopped) when one cannot start."""
        held = reserve_port(self.settings.host, self.settings.port)
        self._held = held
        self.port = held.getsockname()[1]
        for index in range(self.settings.processes or 1):
            self.spawn(index)
        deadline = time.monotonic() + STARTUP_SECONDS
        for child in list(self.children.values()):
            while not child.ready.wait(POLL_SECONDS):
                if child.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SupervisorError(
                        f"server process {child.index} did not start "
                        f"(exit status {child.proc.returncode})"
                    )
        return self.port

    def watch(self) -> None:
        """Restart dead children until `stopping` is set. Raises SupervisorError on a crash
        loop."""
        while not self.stopping.wait(POLL_SECONDS):
            for index, child in list(self.children.items()):
                code = child.proc.poll()
                if code is None or self.stopping.is_set():
                    continue
                lived = time.monotonic() - child.started
                self.quick_deaths = self.quick_deaths + 1 if lived < STABLE_SECONDS else 0
                log.warning(
                    "server process %d (pid %d) exited with status %s after %.1f s; restarting",
                    index, child.proc.pid, code, lived,
                )  # fmt: skip
                if self.quick_deaths >= MAX_QUICK_DEATHS:
                    self.stop()
                    raise SupervisorError(
                        f"server processes keep dying ({self.quick_deaths} within "
                        f"{STABLE_SECONDS:.0f} s of starting): see the log above"
                    )
                self.spawn(index)

    def stop(self) -> None:
        """SIGTERM to every child (each drains), then wait; SIGKILL what outlives the grace."""
        self.stopping.set()
        started = time.monotonic()
        for child in self.children.values():
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = started + self.settings.grace_seconds + 10
        for child in self.children.values():
            try:
                child.proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(10)
        held = getattr(self, "_held", None)
        if held is not None:
            held.close()
        seconds = time.monotonic() - started
        event(log, f"all server processes stopped in {seconds:.2f} s", event="drain-all",
              duration_ms=round(seconds * 1000))  # fmt: skip


def supervise(settings: Settings, child_args: Sequence[str]) -> int:
    """Run `settings.processes` children until SIGTERM/SIGINT. Exit status 0 after a clean
    stop. Raises SupervisorError or OSError (port taken)."""
    supervisor = Supervisor(settings, child_args)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    port = supervisor.start()
    print(f"tariff: serving on {settings.host}:{port} ({settings.processes} processes)", flush=True)
    try:
        supervisor.watch()
    finally:
        supervisor.stop()
    return 0
