"""`tariff serve` as a real child process on 127.0.0.1, for tests that kill, restart or load
it: one server process (no supervisor) on a store given by URL with an ephemeral port, its
output kept in a file (a pipe nobody reads would stall a chatty server), killed if still
running when the test ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 90
_READY = re.compile(r"serving on [\d.]+:(\d+)")


def tariff_command() -> list[str]:
    script = Path(sys.executable).with_name("tariff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tariff.cli"]


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or rolled back by the process."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


def start_server(
    url: str, workdir: Path, env: Mapping[str, str] | None = None, name: str = "serve"
) -> ServerProcess:
    """Start `tariff serve` on the store at `url` and wait until it says it is serving."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    environ["TARIFF_PROCESSES"] = "1"  # the process that serves is the one a test kills
    environ.update(env or {})
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*tariff_command(), "serve", "--database-url", url, "--port", "0"],
            cwd=workdir,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:  # bounded by the deadline
        found = _READY.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return ServerProcess(proc, int(found.group(1)), log)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    proc.wait(30)
    pytest.fail(f"`tariff serve` did not come up:\n{log.read_text(errors='replace')}")


@contextmanager
def server_process(
    url: str, workdir: Path, env: Mapping[str, str] | None = None, name: str = "serve"
) -> Iterator[ServerProcess]:
    server = start_server(url, workdir, env, name)
    try:
        yield server
    finally:
        server.kill()
