"""`python -m benchmarks.report`: run the whole suite and write BENCHMARKS.md and the plots.

BENCHMARKS.md holds the machine and versions, the gate's verdicts, the goals the issues set
(each with what this run measured), and per workload every variant's median, throughput and
ratio to the workload's baseline, with a scaling table where a workload runs at several sizes.
Plots go to benchmarks/plots/ (needs matplotlib, from the `bench` extra). `--from-json`
rewrites the report from a saved run without measuring again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.results import Measurement, Verdict, judge, load_thresholds, measurements
from benchmarks.run import ROOT, SuiteFailed, run_suite


@dataclass(frozen=True, slots=True)
class Workload:
    title: str
    baseline: str
    size_means: str  # what `size` counts
    about: str


WORKLOADS = {
    "predicate": Workload("Eligibility predicate", "hand_written", "sale facts",
                          "research.md's predicate over varied facts, every engine."),
    "dsl_compile": Workload("DSL compile", "cpython_compile", "eligibility rules",
                            "Rule text to callable code: parse, check, generate, compile()."),
    "snapshot": Workload("Snapshot publish", "json_decode", "offers",
                         "A version document decoded and indexed (catalog side)."),
    "install": Workload("Install a version", "json_decode", "offers",
                        "Document to a SaleCatalog ready to answer (rules parsed, checked, "
                        "compiled): cold, and with the parses read from the store."),
    "zone_load": Workload("Zone table load", "dict", "prefixes",
                          "Building a longest-prefix table from (prefix, zone) rows."),
    "zone_lookup": Workload("Zone lookup", "hand_written", "prefixes in the table",
                            "100,000 longest-prefix matches of dialled numbers."),
    "list_offers": Workload("ListEligibleOffers engine", "scan", "offers in the catalog",
                            "First page (100) for 64 varied contexts, in process."),
    "check_cart": Workload("CheckEligibility engine", "bare", "offers in the catalog",
                           "5-item carts for 64 varied contexts, in process."),
    "list_rpc": Workload("ListEligibleOffers over gRPC", "noop", "offers in the catalog",
                         "End to end; the no-op returns the same bytes without work."),
    "check_rpc": Workload("CheckEligibility over gRPC", "noop", "offers in the catalog",
                          "End to end, 5-item carts; the no-op returns the same bytes."),
    "quote": Workload("Quote engine", "interpreter", "cart items",
                      "A 5-item cart with a bundle, 32 customers, eligibility included."),
    "quote_rpc": Workload("Quote over gRPC", "noop", "cart items",
                          "End to end; the no-op returns the same bytes without work."),
    "rate_event": Workload("Usage rating", "tight", "voice events",
                           "10,000 generated calls under one generated plan, rated in order "
                           "with allowances: engine, interpreter, hand-written Python (plain, "
                           "and `tight`: the strongest, per-day calendar, locals bound), numpy "
                           "(a searchsorted per prefix length, and one over disjoint ranges)."),
    "rate_columnar": Workload("Columnar rating", "numpy_intervals", "voice events",
                              "rules.columnar on a month of generated calls (~50 per subscriber), "
                              "every result column and the counters; hand-written numpy of the "
                              "same tariff (`numpy_intervals`, the strongest: one searchsorted "
                              "over the flattened prefixes, input prepared from the same columns "
                              "and timed); the per-event engine on 20,000 of them."),
    "rate_batch": Workload("Rate in process", "sync", "events per batch",
                           "Rate's path without the network (messages in and out): in one go, "
                           "chunked, and the bare engine."),
    "rate_rpc": Workload("Rate over gRPC", "noop", "events per message",
                         "PricingService.Rate on 127.0.0.1, server in its own process, "
                         "generated usage of the served catalog."),
    "rate_file": Workload("Rate a usage file", "read_write", "events in the file",
                          "`tariff rate` end to end: pyarrow batches in, every row rated in "
                          "order, rated file out; peak RSS of a child per size."),
    "serve_processes_quote": Workload("Quote, 2 processes vs 1", "one", "server processes",
                                      "`tariff serve --demo --processes 2` vs 1 under the same "
                                      "load: 4 client processes, the family bundle quoted."),
    "serve_processes_rate": Workload("Rate, 2 processes vs 1", "one", "server processes",
                                     "The same, 1,000 demo usage events a call."),
    "auth_rpc": Workload("Authentication per call", "open", "calls",
                         "CheckEligibility with a bearer token, by the server's CPU: token "
                         "identities vs the same server without the interceptor."),
}  # fmt: skip
PACKAGES = (
    "grpcio",
    "protobuf",
    "lark",
    "pytest-benchmark",
    "numpy",
    "zen-engine",
    "common-expression-language",
    "matplotlib",
)


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:,.3g} {unit}" if value < 1000 * scale else f"{value:,.0f} s"
    return f"{value / 1e-9:,.3g} ns"


def _rate(value: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:,.3g} {unit}/s"
    return f"{value:,.3g} /s"


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "?"
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {memory}; {platform.platform()}",
        f"- Python {platform.python_version()}; {', '.join(versions)}",
        f"- Commit {commit or '?'}; generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def _find(
    found: Sequence[Measurement], workload: str, variant: str, size: int
) -> Measurement | None:
    return next(
        (m for m in found if (m.workload, m.variant, m.size) == (workload, variant, size)), None
    )


Goal = Callable[[Sequence[Measurement]], tuple[str, str, bool | None]]


def _predicate_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "Compiled eligibility predicate within 1.3× of hand-written Python (issue 3)"
    s, b = (
        _find(found, "predicate", "compiled", 100_000),
        _find(found, "predicate", "hand_written", 100_000),
    )
    if s is None or b is None:
        return goal, "not measured", None
    ratio = s.per_item / b.per_item
    return goal, f"{ratio:.2f}×", ratio <= 1.3


def _compile_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "1,000 rules compile in under 2 s (issue 3; absolute, reported not gated)"
    m = _find(found, "dsl_compile", "pipeline", 1_000)
    if m is None:
        return goal, "not measured", None
    return goal, _seconds(m.median), m.median < 2.0


def _fast_compile_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "1,000 rules compile in <= 1 s (issue 16; absolute, reported not gated)"
    m = _find(found, "dsl_compile", "pipeline", 1_000)
    if m is None:
        return goal, "not measured", None
    return goal, _seconds(m.median), m.median <= 1.0


def _install_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = (
        "A 10,000-offer catalog installs in <= 10 s cold and <= 2 s from the cache "
        "(issue 16; × json decode alongside)"
    )
    cold = _find(found, "install", "cold", 10_000)
    cached = _find(found, "install", "cached", 10_000)
    decode = _find(found, "install", "json_decode", 10_000)
    if cold is None or cached is None or decode is None:
        return goal, "not measured (full scale only)", None
    shown = (
        f"{_seconds(cold.median)} cold ({cold.median / decode.median:.0f}×), "
        f"{_seconds(cached.median)} cached ({cached.median / decode.median:.0f}×)"
    )
    return goal, shown, cold.median <= 10 and cached.median <= 2


def _zone_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "A 1M-prefix zone table loads in about a second (pricing.zones)"
    m = _find(found, "zone_load", "zone_table", 1_000_000)
    if m is None:
        return goal, "not measured (full scale only)", None
    return goal, _seconds(m.median), m.median < 1.5


def _memory_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "Snapshot memory per 10k offers (issue 4: reported)"
    sized = sorted(
        (m for m in found if (m.workload, m.variant) == ("snapshot", "build")), key=lambda m: m.size
    )
    if not sized or "retained_mb_per_10k_offers" not in sized[-1].extra:
        return goal, "not measured", None
    m = sized[-1]
    kept, peak = m.extra["retained_mb_per_10k_offers"], m.extra["peak_mb_per_10k_offers"]
    return goal, f"{kept} MB kept, {peak} MB peak (at {m.size:,} offers)", None


def _listing_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "ListEligibleOffers p50 <= 1 ms in process at 10,000 offers (issue 5)"
    m = _find(found, "list_offers", "indexed", 10_000)
    if m is None or "p50_ms" not in m.extra:
        return goal, "not measured (full scale only)", None
    p50 = float(m.extra["p50_ms"])
    return goal, f"p50 {p50:.3f} ms, p90 {m.extra.get('p90_ms')} ms", p50 <= 1.0


def _rpc_goal(workload: str, label: str, issue: int = 5) -> Goal:
    def goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
        text = f"{label} over gRPC within 1.3x of a no-op of the same message size (issue {issue})"
        sizes = sorted({m.size for m in found if m.workload == workload})
        if not sizes:
            return text, "not measured", None
        s = _find(found, workload, "tariff", sizes[-1])
        b = _find(found, workload, "noop", sizes[-1])
        if s is None or b is None:
            return text, "not measured", None
        ratio = s.per_item / b.per_item
        return text, f"{ratio:.2f}×", ratio <= 1.3

    return goal


def _rate_rpc_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "Rate over gRPC at 1,000 events per message >= 0.7 of the no-op's events/s (issue 7)"
    s, b = _find(found, "rate_rpc", "tariff", 1_000), _find(found, "rate_rpc", "noop", 1_000)
    if s is None or b is None:
        return goal, "not measured", None
    ratio = b.per_item / s.per_item
    return goal, f"{ratio:.3f}", ratio >= 0.7


def _engine_goal(
    workload: str, subject: str, baseline: str, ratio_goal: float, rate_goal: float, label: str
) -> Goal:
    def goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
        text = f"{label}: within {ratio_goal}x of hand-written {baseline.replace('_', ' ')}"
        if rate_goal:
            text += f" and >= {rate_goal / 1e6:g}M events/s on one core"
        sizes = sorted({m.size for m in found if (m.workload, m.variant) == (workload, subject)})
        if not sizes:
            return text, "not measured", None
        s, b = (
            _find(found, workload, subject, sizes[-1]),
            _find(found, workload, baseline, sizes[-1]),
        )
        if s is None or b is None:
            return text, "not measured", None
        ratio, speed = s.per_item / b.per_item, 1 / s.per_item
        shown = f"{ratio:.2f}x, {speed / 1e6:.2f}M events/s (at {sizes[-1]:,})"
        return text, shown, ratio <= ratio_goal and speed >= rate_goal

    return goal


def _rate_batch_goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "RateBatch over gRPC >= 0.5 of the in-process columnar engine at 100k events (issue 20)"
    s = _find(found, "rate_batch", "tariff", 100_000)
    b = _find(found, "rate_batch", "in_process", 100_000)
    n = _find(found, "rate_batch", "noop", 100_000)
    if s is None or b is None:
        return goal, "not measured", None
    ratio = b.per_item / s.per_item
    shown = f"{ratio:.2f} ({1 / s.per_item / 1e6:.2f}M events/s"
    if n is not None:
        shown += f"; the no-op of the same bytes {1 / n.per_item / 1e6:.2f}M events/s"
    return goal, shown + ")", ratio >= 0.5


def _memory_of_files(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
    goal = "Peak RSS of file rating stays flat as the file grows (issue 7)"
    rows = sorted(
        (
            m
            for m in found
            if (m.workload, m.variant) == ("rate_file", "tariff") and "peak_rss_mb" in m.extra
        ),
        key=lambda m: m.size,
    )
    if len(rows) < 2:
        return goal, "not measured (full scale only)", None
    small, large = rows[0], rows[-1]
    text = ", ".join(f"{m.extra['peak_rss_mb']} MB at {m.size:,}" for m in rows)
    return (
        goal,
        text,
        float(large.extra["peak_rss_mb"]) <= 1.3 * float(small.extra["peak_rss_mb"]) + 20,
    )


def _processes_goal(method: str) -> Goal:
    def goal(found: Sequence[Measurement]) -> tuple[str, str, bool | None]:
        text = f"{method} throughput, 2 server processes vs 1, >= 1.7x on 2 cores (issue 15)"
        workload = f"serve_processes_{method.lower()}"
        two, one = _find(found, workload, "two", 2), _find(found, workload, "one", 2)
        if two is None or one is None:
            return text, "not measured", None
        speedup = one.per_item / two.per_item
        return text, f"{speedup:.2f}x (clients on the same 2 cores)", speedup >= 1.7

    return goal


GOALS: tuple[Goal, ...] = (
    _predicate_goal,
    _compile_goal,
    _fast_compile_goal,
    _install_goal,
    _zone_goal,
    _memory_goal,
    _listing_goal,
    _rpc_goal("list_rpc", "ListEligibleOffers"),
    _rpc_goal("check_rpc", "CheckEligibility"),
    _rpc_goal("quote_rpc", "Quote", issue=6),
    _engine_goal("rate_event", "compiled", "tight", 1.3, 0, "Per-event rating (issue 20)"),
    _engine_goal(
        "rate_columnar", "columnar", "numpy_intervals", 1.5, 0, "Columnar rating (issue 20)"
    ),
    _rate_rpc_goal,
    _rate_batch_goal,
    _memory_of_files,
    _processes_goal("Quote"),
    _processes_goal("Rate"),
)


def gate_section(verdicts: Sequence[Verdict]) -> list[str]:
    out = [
        "## Gate",
        "",
        "Thresholds from benchmarks/thresholds.toml, judged on this run "
        "(CI runs the short pass: `python -m benchmarks.gate`).",
        "",
        "| threshold | size | ratio | limit | |",
        "|---|--:|--:|--:|---|",
    ]
    for v in verdicts:
        ratio = "not measured" if v.ratio is None else f"{v.ratio:.3f}"
        out.append(
            f"| {v.threshold.name} | {v.size:,} | {ratio} | {v.threshold.bound} | "
            f"{'ok' if v.ok else '**FAIL**'} |"
        )
    return [*out, ""]


def goals_section(found: Sequence[Measurement]) -> list[str]:
    out = ["## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    for goal in GOALS:
        text, value, met = goal(found)
        out.append(f"| {text} | {value} | {'—' if met is None else ('yes' if met else '**no**')} |")
    return [*out, ""]


def workload_section(name: str, found: Sequence[Measurement]) -> list[str]:
    spec = WORKLOADS.get(name, Workload(name, "", "size", ""))
    mine = [m for m in found if m.workload == name]
    sizes = sorted({m.size for m in mine})
    variants = sorted({m.variant for m in mine}, key=lambda v: (v != spec.baseline, v))
    out = [
        f"### {spec.title} (`{name}`)",
        "",
        spec.about,
        f"Baseline: `{spec.baseline}`; size = {spec.size_means}.",
        "",
        "| variant | size | median per round | items/s | × baseline (per item) |",
        "|---|--:|--:|--:|--:|",
    ]
    for size in sizes:
        base = _find(mine, name, spec.baseline, size)
        for variant in variants:
            m = _find(mine, name, variant, size)
            if m is None:
                continue
            ratio = "—" if base is None else f"{m.per_item / base.per_item:.2f}"
            out.append(
                f"| {variant} | {size:,} | {_seconds(m.median)} | "
                f"{_rate(m.items_per_second)} | {ratio} |"
            )
    if len(sizes) > 1:
        out += [
            "",
            f"Scaling (time per {spec.size_means.split()[-1]} item, relative to the "
            f"smallest size):",
            "",
            "| variant | " + " | ".join(f"{s:,}" for s in sizes) + " |",
            "|---|" + "--:|" * len(sizes),
        ]
        for variant in variants:
            row = [_find(mine, name, variant, s) for s in sizes]
            first = next((m for m in row if m is not None), None)
            if first is None:
                continue
            cells = ["" if m is None else f"{m.per_item / first.per_item:.2f}" for m in row]
            out.append(f"| {variant} | " + " | ".join(cells) + " |")
    return [*out, ""]


def plots(found: Sequence[Measurement], directory: Path) -> list[str]:
    """PNG plots; the markdown lines that show them (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["Plots need matplotlib (`pip install -e '.[bench]'`).", ""]
    directory.mkdir(parents=True, exist_ok=True)
    lines = []
    series = (
        ("rate_rpc", "throughput", "events per message", "events/s", "throughput_vs_batch.png"),
        ("snapshot", "latency", "offers in the catalog", "seconds", "snapshot_vs_catalog.png"),
        (
            "list_offers",
            "latency",
            "offers in the catalog",
            "seconds per 64 calls",
            "list_offers_vs_catalog.png",
        ),
        ("dsl_compile", "latency", "eligibility rules", "seconds", "compile_vs_rules.png"),
        ("zone_load", "latency", "prefixes", "seconds", "zone_load_vs_prefixes.png"),
        ("rate_file", "throughput", "events in the file", "events/s", "rate_file_vs_size.png"),
    )
    for workload, kind, xlabel, ylabel, filename in series:
        mine = [m for m in found if m.workload == workload]
        if len({m.size for m in mine}) < 2:
            continue
        figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
        for variant in sorted({m.variant for m in mine}):
            points = sorted((m for m in mine if m.variant == variant), key=lambda m: m.size)
            ys = [m.items_per_second if kind == "throughput" else m.median for m in points]
            axes.plot([m.size for m in points], ys, marker="o", label=variant)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.set_title(f"{WORKLOADS[workload].title}: {kind}")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(directory / filename)
        plt.close(figure)
        lines.append(f"![{WORKLOADS[workload].title}]({directory.relative_to(ROOT)}/{filename})")
    return [*lines, ""]


def render(report: dict[str, Any], plot_dir: Path, scale: str) -> str:
    found = measurements(report)
    verdicts = judge([found], load_thresholds())
    out = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks.report` (the full suite, "
        f"`--bench-scale={scale}`); every ratio compares two variants measured in the same "
        "run, per item, by medians. Absolute times are this machine's, for the trend only.",
        "",
        *machine(),
        "",
        *gate_section(verdicts),
        *goals_section(found),
        "## Workloads",
        "",
    ]
    for name in [*WORKLOADS, *sorted({m.workload for m in found} - set(WORKLOADS))]:
        if any(m.workload == name for m in found):
            out += workload_section(name, found)
    out += ["## Plots", "", *plots(found, plot_dir)]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("--scale", choices=("gate", "full"), default="full")
    parser.add_argument("--from-json", type=Path, help="a saved run: report it, measure nothing")
    parser.add_argument("--save-json", type=Path, default=ROOT / "benchmarks" / "last-run.json")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--plots", type=Path, default=ROOT / "benchmarks" / "plots")
    args = parser.parse_args(argv)
    if args.from_json:
        report = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        try:
            report = run_suite(args.scale)
        except SuiteFailed as error:
            print(f"benchmarks.report: {error}", file=sys.stderr)
            return 2
        args.save_json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    args.out.write_text(render(report, args.plots.resolve(), args.scale), encoding="utf-8")
    print(f"wrote {args.out} and plots under {args.plots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
