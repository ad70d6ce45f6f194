"""Running the suite in a child pytest and collecting its JSON report."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.results import load_report

ROOT = Path(__file__).resolve().parent.parent


class SuiteFailed(RuntimeError):
    """A benchmark's own assertions failed (wrong answers), or pytest could not run."""


def run_suite(
    scale: str, selection: Sequence[str] = ("benchmarks",), extra: Sequence[str] = ()
) -> dict[str, Any]:
    """Run `selection` (paths or node ids) at `scale`; the pytest-benchmark JSON report."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bench.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            *selection,
            f"--bench-scale={scale}",
            f"--benchmark-json={out}",
            "--benchmark-min-rounds=5",
            "--benchmark-columns=median,ops,rounds",
            "--benchmark-sort=name",
            "-p",
            "no:cacheprovider",
            "-q",
            *extra,
        ]
        done = subprocess.run(command, cwd=ROOT, check=False)
        if done.returncode != 0:
            raise SuiteFailed(f"pytest exited {done.returncode}: {' '.join(command[2:])}")
        return load_report(out)
