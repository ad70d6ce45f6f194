"""Reading a pytest-benchmark run and judging it against the thresholds.

Every benchmark of the suite names itself through `extra_info` (workload, variant, size,
items); a threshold compares a *subject* variant with a *baseline* variant of the same
workload at the same size, both measured in the same run. Ratios are per item, of medians, so
a batch and a per-call variant compare fairly, and absolute times never decide anything.
"""

from __future__ import annotations

import json
import statistics
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

THRESHOLDS = Path(__file__).with_name("thresholds.toml")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One benchmark of one run: its median time per round and what a round covers."""

    workload: str
    variant: str
    size: int
    items: int
    median: float  # seconds per round
    rounds: int
    nodeid: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def per_item(self) -> float:
        return self.median / self.items

    @property
    def items_per_second(self) -> float:
        return self.items / self.median


def measurements(report: Mapping[str, Any]) -> list[Measurement]:
    """The suite's measurements in a pytest-benchmark JSON report (others are ignored)."""
    found = []
    for bench in report.get("benchmarks", ()):
        info = bench.get("extra_info", {})
        if "workload" not in info:
            continue
        found.append(
            Measurement(
                workload=info["workload"],
                variant=info["variant"],
                size=int(info["size"]),
                items=max(1, int(info.get("items", 1))),
                median=float(bench["stats"]["median"]),
                rounds=int(bench["stats"]["rounds"]),
                nodeid=bench.get("fullname", bench.get("name", "")),
                extra={
                    k: v
                    for k, v in info.items()
                    if k not in {"workload", "variant", "size", "items"}
                },
            )
        )
    return found


def load_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Threshold:
    """`kind = "time"`: subject time per item / baseline's must stay <= `limit`;
    `kind = "throughput"`: subject items/s / baseline's must stay >= `limit`."""

    name: str
    workload: str
    subject: str
    baseline: str
    kind: Literal["time", "throughput"]
    limit: float
    why: str
    sizes: tuple[int, ...] = ()  # empty: every size measured

    def ratio(self, subject: Measurement, baseline: Measurement) -> float:
        if self.kind == "time":
            return subject.per_item / baseline.per_item
        return baseline.per_item / subject.per_item

    def holds(self, ratio: float) -> bool:
        return ratio <= self.limit if self.kind == "time" else ratio >= self.limit

    @property
    def bound(self) -> str:
        return f"<= {self.limit:g}" if self.kind == "time" else f">= {self.limit:g}"


def load_thresholds(path: Path = THRESHOLDS) -> list[Threshold]:
    """Raises ValueError naming the entry and field that is wrong."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    thresholds = []
    for index, entry in enumerate(data.get("gate", ()), start=1):
        where = f"{path.name}: [[gate]] #{index}"
        kinds = [k for k in ("max", "min") if k in entry]
        if len(kinds) != 1:
            raise ValueError(f"{where}: give exactly one of `max` (time) or `min` (throughput)")
        missing = [k for k in ("name", "workload", "subject", "baseline", "why") if k not in entry]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        thresholds.append(
            Threshold(
                name=str(entry["name"]),
                workload=str(entry["workload"]),
                subject=str(entry["subject"]),
                baseline=str(entry["baseline"]),
                kind="time" if kinds[0] == "max" else "throughput",
                limit=float(entry[kinds[0]]),
                why=" ".join(str(entry["why"]).split()),
                sizes=tuple(int(s) for s in entry.get("sizes", ())),
            )
        )
    return thresholds


@dataclass(frozen=True, slots=True)
class Verdict:
    threshold: Threshold
    size: int
    ratios: tuple[float, ...]  # one per run that measured both sides
    subject: Measurement | None = None
    baseline: Measurement | None = None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    @property
    def ok(self) -> bool:
        return self.ratio is not None and self.threshold.holds(self.ratio)

    @property
    def missing(self) -> bool:
        return not self.ratios


def _index(found: Iterable[Measurement]) -> dict[tuple[str, str, int], Measurement]:
    return {(m.workload, m.variant, m.size): m for m in found}


def judge(runs: Sequence[Sequence[Measurement]], thresholds: Sequence[Threshold]) -> list[Verdict]:
    """One verdict per threshold and size: the median of the ratios over `runs`. A threshold
    whose sides were not measured in any run gets a `missing` verdict (a gate failure: a
    renamed benchmark must not silently switch its guard off)."""
    indexes = [_index(run) for run in runs]
    verdicts = []
    for threshold in thresholds:
        sizes = set(threshold.sizes)
        if not sizes:
            sizes = {
                size
                for index in indexes
                for (w, v, size) in index
                if w == threshold.workload and v == threshold.subject
            }
        if not sizes:
            verdicts.append(Verdict(threshold, 0, ()))
            continue
        for size in sorted(sizes):
            ratios = []
            subject = baseline = None
            for index in indexes:
                s = index.get((threshold.workload, threshold.subject, size))
                b = index.get((threshold.workload, threshold.baseline, size))
                if s is not None and b is not None:
                    ratios.append(threshold.ratio(s, b))
                    subject, baseline = s, b
            verdicts.append(Verdict(threshold, size, tuple(ratios), subject, baseline))
    return verdicts
