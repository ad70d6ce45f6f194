"""The CI performance gate: `python -m benchmarks.gate`.

Runs the suite's short pass (`--bench-scale=gate`) once and judges every threshold of
thresholds.toml on the same-run ratios. A ratio that crosses its limit is measured again
(`--confirm` more runs of just the two benchmarks involved) and judged on the median of all
its runs: one noisy moment on a shared machine does not fail the build, a real regression
fails every run. Exit 0 when every threshold holds, 1 otherwise (also when a threshold's
benchmarks were not measured at all), 2 when a benchmark gave wrong answers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from benchmarks.results import Measurement, Verdict, judge, load_thresholds, measurements
from benchmarks.run import SuiteFailed, run_suite


def verdict_table(verdicts: Sequence[Verdict], title: str) -> Table:
    table = Table(title=title)
    for column in ("threshold", "size", "ratio", "limit", "runs", ""):
        table.add_column(column, justify="right" if column in {"size", "runs"} else "left")
    for v in verdicts:
        ratio = "not measured" if v.ratio is None else f"{v.ratio:.3f}"
        mark = "ok" if v.ok else "FAIL"
        table.add_row(
            v.threshold.name, f"{v.size:,}", ratio, v.threshold.bound, str(len(v.ratios)), mark
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gate", description=__doc__)
    parser.add_argument("--confirm", type=int, default=2, help="re-runs of a failing pair")
    args = parser.parse_args(argv)
    console = Console(width=120)
    thresholds = load_thresholds()
    try:
        runs: list[list[Measurement]] = [measurements(run_suite("gate"))]
        verdicts = judge(runs, thresholds)
        failing = [v for v in verdicts if not v.ok and not v.missing]
        nodeids = sorted({m.nodeid for v in failing for m in (v.subject, v.baseline) if m})
        for _ in range(args.confirm if nodeids else 0):
            runs.append(measurements(run_suite("gate", nodeids)))
        verdicts = judge(runs, thresholds)
    except SuiteFailed as error:
        console.print(f"[bold red]benchmark gate: {error}[/]")
        return 2
    console.print(verdict_table(verdicts, "Performance gate (same-run ratios, medians)"))
    bad = [v for v in verdicts if not v.ok]
    for v in bad:
        console.print(f"[red]FAIL[/] {v.threshold.name} @ {v.size:,}: {v.threshold.why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
