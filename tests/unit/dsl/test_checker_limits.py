"""Inputs beyond what the engine accepts are diagnostics, never a crash of the checker."""

from __future__ import annotations

from dsl.checker import check
from dsl.parser import parse
from dsl.symbols import CatalogNames, OfferName


def _codes(source: str) -> list[tuple[str, str]]:
    found = check([parse(source, "limits.tariff")], CatalogNames.empty())
    return [(d.code, d.message) for d in found]


def test_a_holiday_longer_than_a_year_is_a_diagnostic() -> None:
    found = _codes('calendar c {\n  holiday 2026-01-01 .. 2028-01-01 "long"\n}\n')
    assert found == [("bad-holiday", "holiday 'long' is longer than 366 days")]


def test_too_many_bands_is_a_diagnostic() -> None:
    rules = "\n".join(
        f"  b{i}: mon {i // 60:02d}:{i % 60:02d} .. {(i + 1) // 60:02d}:{(i + 1) % 60:02d}"
        for i in range(300)
    )
    found = _codes(f"bands b {{\n{rules}\n  o: otherwise\n}}\n")
    assert found == [("bad-band", "at most 256 band rules, got 300")]


def test_tenure_in_days_does_not_convert() -> None:
    source = "offer youth_plan {\n  eligible all {\n    t: customer.tenure >= 30 days\n  }\n}\n"
    names = CatalogNames.of(offers=[OfferName("youth_plan")])
    found = check([parse(source, "t.tariff")], names)
    assert [(d.code, d.line) for d in found] == [("type-mismatch", 3)]
    assert "months" in found[0].hint
