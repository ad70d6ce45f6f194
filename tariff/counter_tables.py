"""Subscribers' period counters as an Arrow table — one row per counter, values as exact
text — the layout `tariff rate DATASET/` writes to OUT/counters/ and RateBatch carries in
and out, so one job's counters feed the next call or job unchanged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]

from dsl.eval_usage import Counters, Number
from rules.rating import CounterKey

COUNTERS_SCHEMA = pa.schema(
    [
        ("subscriber_id", pa.string()),
        ("period", pa.string()),
        ("counter", pa.string()),
        ("value", pa.string()),
    ]
)
#: Counters that count units (whole numbers); every other counter holds money.
UNIT_COUNTERS = ("allowance:", "tier:")


class CounterTableError(ValueError):
    """A counters table that cannot be read: `column` names the column at fault."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def counters_table(counters: Mapping[CounterKey, Counters], keys: Iterable[CounterKey]) -> pa.Table:
    """The counters of `keys`, a row per counter, values as exact text, sorted."""
    rows: list[tuple[str, str, str, str]] = []
    for key in sorted(keys):
        for name, value in sorted(counters.get(key, Counters()).items()):
            text = format(value, "f") if isinstance(value, Decimal) else str(value)
            rows.append((key[0], key[1], name, text))
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], schema=COUNTERS_SCHEMA)


def _value(name: str, text: str) -> Number:
    if name.startswith(UNIT_COUNTERS):
        if not text.isdigit():
            raise ValueError(f"counter {name!r}: {text!r} is not a whole number of units")
        return int(text)
    try:
        money = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"counter {name!r}: {text!r} is not a decimal amount") from None
    if not money.is_finite():
        raise ValueError(f"counter {name!r}: {text!r} is not a decimal amount")
    return money


def counters_from_table(table: pa.Table) -> dict[CounterKey, Counters]:
    """The counters a table in COUNTERS_SCHEMA's layout holds. CounterTableError names the
    first missing or mistyped column or the first unreadable value."""
    for field in COUNTERS_SCHEMA:
        if field.name not in table.column_names:
            raise CounterTableError(field.name, f"the counters have no {field.name!r} column")
        found = table.schema.field(field.name).type
        if not (pa.types.is_string(found) or pa.types.is_large_string(found)):
            raise CounterTableError(field.name, f"{field.name!r} is {found}; wanted string")
        if table.column(field.name).null_count:
            raise CounterTableError(field.name, f"{field.name!r} has empty (null) cells")
    values: dict[CounterKey, dict[str, Number]] = {}
    columns = (table.column(n).to_pylist() for n in COUNTERS_SCHEMA.names)
    for subscriber, period, name, text in zip(*columns, strict=True):
        try:
            values.setdefault((subscriber, period), {})[name] = _value(name, text)
        except ValueError as error:
            raise CounterTableError("value", str(error)) from None
    return {key: Counters(found) for key, found in values.items()}
