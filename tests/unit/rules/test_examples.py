"""Examples run on the reference interpreter; what needs an engine not built yet says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dsl.parser import parse
from rules.examples import run_examples
from tests.unit.dsl.test_checker_docs import EXAMPLES_CATALOG
from tests.unit.dsl.test_eval_usage import CN_ZONES

EXAMPLES = Path(__file__).resolve().parents[3] / "dsl" / "examples"
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _run(source: str) -> dict[str, tuple[str, str, str]]:
    results = run_examples([parse(source, "t.tariff")], EXAMPLES_CATALOG, NOW)
    return {r.name: (r.status, r.expected, r.actual) for r in results}


def test_every_shipped_example_passes() -> None:
    modules = [parse(p.read_text("utf-8"), p.name) for p in sorted(EXAMPLES.glob("*.tariff"))]
    results = run_examples(modules, EXAMPLES_CATALOG, NOW, {"cn_zones": CN_ZONES})
    assert results
    assert [(r.name, r.actual) for r in results if r.status != "passed"] == []


YOUTH = """\
offer youth_plan {
  eligible all {
    age: customer.age between 15 and 26 else "age_out_of_range" "仅限 15 至 26 岁"
    where: area within GD else "area" "仅限广东"
  }
}
"""


def test_a_wrong_expectation_fails_with_the_deciding_trace() -> None:
    source = YOUTH + (
        "example wrong {\n"
        "  given customer.age = 31, area = GD_SZ, channel = hall\n"
        "  expect eligible youth_plan\n"
        "}\n"
    )
    [result] = run_examples([parse(source, "t.tariff")], EXAMPLES_CATALOG, NOW)
    assert result.status == "failed"
    assert result.actual == "not eligible because age_out_of_range"
    assert any("age (line 3): false (customer.age = 31)" in line for line in result.trace)


def test_reasons_and_unknowns() -> None:
    source = YOUTH + (
        "example no_age {\n"
        "  given area = GD_SZ\n"
        "  expect not eligible youth_plan because age_out_of_range\n"
        "}\n"
        "example wrong_reason {\n"
        "  given customer.age = 20, area = BJ\n"
        "  expect not eligible youth_plan because age_out_of_range\n"
        "}\n"
    )
    found = _run(source)
    assert found["no_age"][0] == "passed"  # an unknown age never qualifies
    assert found["wrong_reason"] == (
        "failed",
        "not eligible youth_plan because age_out_of_range",
        "not eligible because area",
    )


def test_price_examples_run_on_the_price_interpreter() -> None:
    source = "example quote {\n  given area = GD_SZ\n  expect due now 720.00 CNY\n}\n"
    status, _, actual = _run(source)["quote"]
    assert (status, actual) == ("failed", "due now 0")  # an empty cart costs nothing
