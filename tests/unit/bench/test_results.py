"""The gate's arithmetic: pairing, per-item ratios, medians over confirmation runs, and the
thresholds file, on hand-made pytest-benchmark reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.results import (
    THRESHOLDS,
    Measurement,
    Threshold,
    judge,
    load_thresholds,
    measurements,
)


def bench(workload: str, variant: str, size: int, median: float, items: int = 0) -> dict[str, Any]:
    return {
        "name": f"test_{variant}[{size}]",
        "fullname": f"benchmarks/test_x.py::test_{variant}[{size}]",
        "stats": {"median": median, "rounds": 5},
        "extra_info": {
            "workload": workload,
            "variant": variant,
            "size": size,
            "items": items or size,
            "peak": 3,
        },
    }


def run(*benches: dict[str, Any]) -> list[Measurement]:
    return measurements({"benchmarks": list(benches)})


TIME = Threshold("p", "predicate", "compiled", "hand_written", "time", 1.5, "why")
THROUGHPUT = Threshold("r", "rate_rpc", "real", "noop", "throughput", 0.6, "why")


def test_measurements_keep_labels_and_ignore_foreign_benchmarks() -> None:
    found = measurements(
        {
            "benchmarks": [
                bench("predicate", "compiled", 10, 0.5),
                {"name": "other", "stats": {"median": 1, "rounds": 1}},
            ]
        }
    )
    assert len(found) == 1
    assert found[0].per_item == pytest.approx(0.05)
    assert found[0].extra == {"peak": 3}


def test_time_ratio_is_per_item_so_batches_compare_with_single_calls() -> None:
    found = run(
        bench("predicate", "compiled", 100, 2.0, items=1000),
        bench("predicate", "hand_written", 100, 1.0, items=100),
    )
    [verdict] = judge([found], [TIME])
    assert verdict.ratio == pytest.approx(0.2)
    assert verdict.ok


def test_time_ratio_over_the_limit_fails() -> None:
    found = run(
        bench("predicate", "compiled", 100, 1.6), bench("predicate", "hand_written", 100, 1.0)
    )
    [verdict] = judge([found], [TIME])
    assert verdict.ratio == pytest.approx(1.6)
    assert not verdict.ok


def test_throughput_ratio_is_subject_rate_over_baseline_rate() -> None:
    found = run(bench("rate_rpc", "real", 1000, 2.0), bench("rate_rpc", "noop", 1000, 1.0))
    [verdict] = judge([found], [THROUGHPUT])
    assert verdict.ratio == pytest.approx(0.5)
    assert not verdict.ok


def test_each_size_is_judged_on_its_own() -> None:
    found = run(
        bench("predicate", "compiled", 1, 1.0),
        bench("predicate", "hand_written", 1, 1.0),
        bench("predicate", "compiled", 9, 2.0),
        bench("predicate", "hand_written", 9, 1.0),
    )
    verdicts = judge([found], [TIME])
    assert [(v.size, v.ok) for v in verdicts] == [(1, True), (9, False)]


def test_confirmation_runs_decide_by_median() -> None:
    noisy = run(bench("predicate", "compiled", 5, 1.9), bench("predicate", "hand_written", 5, 1.0))
    calm = run(bench("predicate", "compiled", 5, 1.1), bench("predicate", "hand_written", 5, 1.0))
    [verdict] = judge([noisy, calm, calm], [TIME])
    assert verdict.ratios == pytest.approx((1.9, 1.1, 1.1))
    assert verdict.ok
    [regressed] = judge([noisy, noisy, calm], [TIME])
    assert not regressed.ok


def test_a_threshold_nobody_measured_fails_the_gate() -> None:
    [verdict] = judge([run(bench("predicate", "compiled", 5, 1.0))], [TIME])
    assert verdict.missing
    assert not verdict.ok


def test_the_shipped_thresholds_load_and_each_says_why() -> None:
    thresholds = load_thresholds(THRESHOLDS)
    assert thresholds
    assert all(t.why and t.limit > 0 for t in thresholds)
    assert len({t.name for t in thresholds}) == len(thresholds)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[gate]]\nname="a"\nworkload="w"\nsubject="s"\nbaseline="b"\nwhy="y"\n', "exactly one"),
        ('[[gate]]\nname="a"\nworkload="w"\nsubject="s"\nmax=1\nmin=2\nwhy="y"\n', "exactly one"),
        ('[[gate]]\nname="a"\nworkload="w"\nsubject="s"\nmax=1\n', "missing baseline, why"),
    ],
)
def test_a_malformed_thresholds_file_names_the_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_thresholds(path)
    assert "#1" in str(error.value)
