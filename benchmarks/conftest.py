"""The suite's conventions: `--bench-scale` picks each workload's sizes (`gate`: the short CI
pass; `full`: every size, for BENCHMARKS.md), and `measure` labels a benchmark with its
workload, variant, size and items so results.py can pair subjects with baselines."""

from __future__ import annotations

from typing import Any

import pytest

SCALES = ("gate", "full")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-scale",
        choices=SCALES,
        default="gate",
        help="gate: the short CI pass (default); full: every size, for the report",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `size` runs at each of its module's `SIZES[scale]`."""
    if "size" in metafunc.fixturenames:
        scale = metafunc.config.getoption("--bench-scale")
        sizes = metafunc.module.SIZES[scale]
        metafunc.parametrize("size", sizes, ids=[f"{s:_}" for s in sizes], scope="module")


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> str:
    value: str = request.config.getoption("--bench-scale")
    return value


class Measure:
    """`measure(workload, variant, size=, items=)` returns the benchmark fixture, labelled."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def __call__(self, workload: str, variant: str, *, size: int, items: int = 0) -> Any:
        self.benchmark.group = f"{workload} @ {size:,}"
        self.benchmark.extra_info.update(
            workload=workload, variant=variant, size=size, items=items or size
        )
        return self.benchmark


@pytest.fixture
def measure(benchmark: Any) -> Measure:
    return Measure(benchmark)
