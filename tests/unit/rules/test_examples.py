"""Examples run on the reference interpreter; what needs an engine not built yet says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dsl.parser import parse
from rules.examples import run_examples
from tests.unit.dsl.test_checker_docs import EXAMPLES_CATALOG

EXAMPLES = Path(__file__).resolve().parents[3] / "dsl" / "examples"
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def _run(source: str) -> dict[str, tuple[str, str, str]]:
    results = run_examples([parse(source, "t.tariff")], EXAMPLES_CATALOG, NOW)
    return {r.name: (r.status, r.expected, r.actual) for r in results}


def test_the_shipped_examples_pass_or_say_why_they_did_not_run() -> None:
    modules = [parse(p.read_text("utf-8"), p.name) for p in sorted(EXAMPLES.glob("*.tariff"))]
    results = run_examples(modules, EXAMPLES_CATALOG, NOW)
    assert results
    assert [r.name for r in results if r.status == "failed"] == []
    assert {r.name for r in results if r.status == "passed"} >= {"youth_ok", "youth_too_old"}
    for result in results:
        if result.status == "not_run":
            assert "engine" in result.actual


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


def test_price_and_charge_examples_are_not_run_not_passed() -> None:
    source = "example quote { given area = GD_SZ\n expect due now 720.00 CNY }\n"
    assert _run(source)["quote"] == ("not_run", "due now", "needs the quote engine")
