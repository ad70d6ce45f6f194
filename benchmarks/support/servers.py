"""Servers under test run in their own processes: a client in the same process would share
the GIL with them and measure both at once (research.md: the client costs as much CPU)."""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import grpc

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
S = TypeVar("S")


@contextmanager
def server_process(args: Sequence[str], startup_seconds: float = STARTUP_SECONDS) -> Iterator[int]:
    """Start `python ARGS` (which must print its port on its first stdout line) from the repo
    root; yield the port; stop the process on exit."""
    with server_process_pid(args, startup_seconds) as (port, _):
        yield port


def cpu_seconds(pid: int) -> float:
    """CPU time a process has run, every thread, at nanosecond resolution (Linux
    schedstat): a server's own work, whatever else the shared machine runs meanwhile."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
    return total / 1e9


@contextmanager
def server_process_pid(
    args: Sequence[str], startup_seconds: float = STARTUP_SECONDS
) -> Iterator[tuple[int, int]]:
    """`server_process` yielding (port, process id), for measuring the server's CPU."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(  # args are the suite's own module names, not user input
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = _first_line(process, startup_seconds)
        if not line.strip().isdigit():
            raise RuntimeError(f"{' '.join(args)} did not report a port (got {line!r})")
        yield int(line), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _first_line(process: subprocess.Popen[str], seconds: float) -> str:
    """The process's first stdout line, or "" if it exits or `seconds` pass first."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    return process.stdout.readline() if ready else ""


def stub_on(port: int, stub_class: Callable[[grpc.Channel], S]) -> Iterator[S]:
    """A client stub on 127.0.0.1:`port` once the channel is ready; closed on exit."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        yield stub_class(channel)


@contextmanager
def canned_noop(canned: dict[bytes, bytes]) -> Iterator[int]:
    """The no-op server answering with `canned` responses (benchmarks.support.noop); its port."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "canned.pickle"
        path.write_bytes(pickle.dumps(canned))
        with server_process(["-m", "benchmarks.support.noop", "--canned", str(path)]) as port:
            yield port
