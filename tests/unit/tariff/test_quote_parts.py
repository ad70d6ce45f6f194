"""The quote mapper's memo of repeated response parts: equal values print as written."""

from __future__ import annotations

from decimal import Decimal

from tariff.mappers.quote import _amount, parts_of


def test_equal_rates_written_differently_keep_their_own_text() -> None:
    parts = parts_of({})
    nine = parts.amount("CNY", Decimal("9"), Decimal("10.5"), None)
    nine_point_zero = parts.amount("CNY", Decimal("9.000"), Decimal("10.5"), None)
    assert nine.tax_rate.value == "0.09"
    assert nine_point_zero.tax_rate.value == "0.090"


def test_a_memoised_amount_is_the_amount_built_fresh() -> None:
    memo: dict[object, object] = {}
    for _ in range(2):
        found = parts_of(memo).amount("CNY", Decimal(6), Decimal("-1.25"), Decimal("-1.33"))
        assert found == _amount("CNY", Decimal(6), Decimal("-1.25"), Decimal("-1.33"))
    assert parts_of(memo) is parts_of(memo)


def test_the_memo_is_bounded() -> None:
    parts = parts_of({})
    for cents in range(parts.LIMIT + 10):
        parts.amount("CNY", Decimal(0), Decimal(cents) / 100, None)
    assert len(parts.found) <= parts.LIMIT
