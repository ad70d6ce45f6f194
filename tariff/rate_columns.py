"""Usage file batches to the columnar rater and its results back to rating columns.

`read_chunk` turns a batch's text columns into `rules.columnar.UsageColumns` without a
Python call per row for rows that are plainly well formed (codes without surrounding space,
an ISO 8601 instant with its offset, whole-number quantities, a true/false roaming flag);
every other row is read by `rules.usage_rows.record_from_row`, exactly as the per-event path
reads it, so a row is rejected `malformed` with the same message either way. `result_arrays`
and `tally` give the rating columns of tariff.rate_files.RESULT_SCHEMA and the summary's
totals from a RatedColumns, also column-wise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from catalog.model import Business
from rules.columnar import RatedColumns, UsageColumns, encode
from rules.columnar_groups import by_group
from rules.usage_rows import FALSE, QUANTITY_COLUMN, TRUE, RowError, record_from_row
from tariff.gen.usage import USAGE_HEADER
from tariff.rate_files import RESULT_SCHEMA, Chunk
from tariff.rate_report import Shadow, Summary
from tariff.usage_arrow import text_of

__all__ = ["ReadChunk", "compare", "read_chunk", "result_arrays", "tally"]

MALFORMED = "malformed"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BARE = r"^([!-~](.*[!-~])?)?$"  # empty, or no space (nor anything strip() drops) at the ends
_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_WHOLE = r"^\d{0,18}$"
_CODES = ("event_id", "subscriber_id", "offer_code", "business_code", "destination")


@dataclass(frozen=True, slots=True)
class ReadChunk:
    """A batch ready to rate: `columns` holds the rows at `rows` (their places in the batch);
    every other row is rejected `malformed` for `problems[place]`."""

    columns: UsageColumns
    rows: Any
    problems: Mapping[int, str]


def _text(batch: Any, name: str) -> Any:
    return text_of(name, batch.column(name))


def _matches(column: Any, pattern: str) -> Any:
    return pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False)


def read_chunk(chunk: Chunk, businesses: Mapping[str, Business]) -> ReadChunk:
    """The batch as columns (module docstring)."""
    data = chunk.data
    count = len(chunk)
    text = {name: _text(data, name) for name in USAGE_HEADER}
    plain = np.ones(count, dtype=np.bool_)
    for name in (*_CODES, "origin_area_code"):
        plain &= _matches(text[name], _BARE)
    plain &= _matches(text["start_time"], _INSTANT)
    measure = {code: QUANTITY_COLUMN.get(b.usage_measure) for code, b in businesses.items()}
    known = sorted(code for code, column in measure.items() if column is not None)
    found = pc.index_in(text["business_code"], value_set=pa.array(known, pa.string()))
    which = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)  # into `known`, -1: none
    plain &= which >= 0
    quantity = np.zeros(count, dtype=np.int64)
    for column in set(QUANTITY_COLUMN.values()):
        theirs = [i for i, code in enumerate(known) if measure[code] == column]
        mine = np.isin(which, theirs)
        if not mine.any():
            continue
        values = text[column]
        whole = _matches(values, _WHOLE)
        plain &= ~mine | whole
        usable = mine & whole
        numbers = pc.if_else(pc.equal(values, ""), "0", values)
        parsed = pc.cast(pc.if_else(pa.array(usable), numbers, "0"), pa.int64()).to_numpy()
        if column == "count":
            parsed = np.where(parsed == 0, 1, parsed)
        quantity = np.where(usable, parsed, quantity)
    flags = pc.utf8_lower(text["roaming"])
    plain &= pc.is_in(flags, pa.array(sorted(TRUE | FALSE))).to_numpy(zero_copy_only=False)
    roaming = pc.is_in(flags, pa.array(sorted(TRUE))).to_numpy(zero_copy_only=False)
    for place in chunk.broken:
        plain[place] = False
    instants = pc.if_else(pa.array(plain), text["start_time"], "1970-01-01T00:00:00Z")
    stamps = pc.cast(instants, pa.timestamp("us", tz="UTC"))
    start_us = stamps.cast(pa.int64()).to_numpy().copy()
    problems: dict[int, str] = {}
    patched: dict[int, Any] = {}
    for place in np.flatnonzero(~plain).tolist():  # the irregular rows: read one by one
        if place in chunk.broken:
            problems[place] = chunk.broken[place]
            continue
        row = {name: text[name][place].as_py() or "" for name in USAGE_HEADER}
        try:
            patched[place] = record_from_row(row, businesses)
        except RowError as error:
            problems[place] = str(error)
    strings: dict[str, list[Any]] = {}
    if patched:  # the codes as lists, only to write the rows read one by one into them
        strings = {name: text[name].to_pylist() for name in (*_CODES, "origin_area_code")}
    for place, record in patched.items():
        usage = record.usage
        strings["event_id"][place] = record.event_id
        strings["subscriber_id"][place] = record.subscriber_id
        strings["offer_code"][place] = record.offer_code
        strings["business_code"][place] = usage.business
        strings["destination"][place] = usage.destination
        strings["origin_area_code"][place] = usage.origin or ""
        start_us[place] = (usage.start - _EPOCH) // timedelta(microseconds=1)
        quantity[place] = usage.quantity
        roaming[place] = bool(usage.roaming)
    rows = np.flatnonzero(plain | np.isin(np.arange(count), list(patched)))
    take = pa.array(rows)

    def codes_of(name: str) -> Any:
        if patched:
            return pa.array(strings[name], pa.string()).take(take)
        return text[name].take(take)

    columns = UsageColumns(
        event_id=codes_of("event_id"),
        subscriber=codes_of("subscriber_id"),
        offer=codes_of("offer_code"),
        business=codes_of("business_code"),
        start_us=start_us[rows],
        quantity=quantity[rows],
        destination=codes_of("destination"),
        origin=codes_of("origin_area_code"),
        roaming=np.asarray(roaming, dtype=np.bool_)[rows],
    )
    return ReadChunk(columns, rows, problems)


def _names(codes: Any, names: list[str]) -> Any:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(names)).cast(
        pa.string()
    )


def charge_texts(charge: Any, places: Any) -> Any:
    """Exact decimal text of integers of 10**-places (`format(Decimal, "f")`'s)."""
    count = len(places)
    out: list[str | None] = [None] * count
    if charge.dtype != object:
        result = np.empty(count, dtype=object)
        for p in np.unique(places).tolist():
            at = np.flatnonzero(places == p)
            values = charge[at].astype(np.int64)
            pairs = np.empty((len(at), 2), dtype=np.int64)
            pairs[:, 0] = values
            pairs[:, 1] = np.where(values < 0, -1, 0)
            decimals = pa.Array.from_buffers(
                pa.decimal128(38, int(p)), len(at), [None, pa.py_buffer(pairs.tobytes())]
            )
            result[at] = decimals.cast(pa.string()).to_numpy(zero_copy_only=False)
        return pa.array(result, pa.string())
    for index in range(count):
        value = Decimal(int(charge[index])).scaleb(-int(places[index]))
        out[index] = format(value, "f")
    return pa.array(out, pa.string())


def result_arrays(read: ReadChunk, found: RatedColumns, count: int) -> list[Any]:
    """The rating columns (RESULT_SCHEMA) of a batch of `count` rows."""
    rows = read.rows
    status = np.zeros(count, dtype=np.int8)  # 0 rejected, 1 rated
    status[rows] = found.rated
    reason = [MALFORMED] * count
    message = [""] * count
    for place, problem in read.problems.items():
        message[place] = problem
    for index, place in enumerate(rows.tolist()):
        reason[place] = found.reason[index]
        message[place] = found.message[index]

    def spread(values: Any, dtype: Any = np.int64) -> Any:
        full = np.zeros(count, dtype=dtype)
        full[rows] = values
        return full

    charge = np.zeros(count, dtype=found.charge.dtype)
    charge[rows] = found.charge
    if charge.dtype == object:
        charge[np.setdiff1d(np.arange(count), rows)] = 0
    allowance = found.allowance_total
    names = found.names
    results = [
        _names(status, ["rejected", "rated"]),
        pa.array(reason, pa.string()),
        pa.array(message, pa.string()),
        charge_texts(charge, spread(found.places)),
        _names(spread(found.currency, np.int32), names),
        _names(spread(found.zone, np.int32), names),
        _names(spread(found.band, np.int32), names),
        pa.array(spread(found.billed), pa.int64()),
        pa.array(spread(allowance), pa.int64()),
        _names(spread(found.rate, np.int32), names),
        pa.array(spread(found.version), pa.int64()),
        _names(spread(found.period, np.int32), names),
    ]
    return [a.cast(f.type) for a, f in zip(results, RESULT_SCHEMA, strict=True)]


def tally(summary: Summary, read: ReadChunk, found: RatedColumns, count: int) -> None:
    """Add a batch to the summary, as `Summary.add` would row by row."""
    summary.events += count
    versions = np.zeros(count, dtype=np.int64)
    versions[read.rows] = found.version
    for version, times in zip(*np.unique(versions, return_counts=True), strict=True):
        summary.versions[int(version)] += int(times)
    if read.problems:
        summary.rejected[MALFORMED] += len(read.problems)
    rejected = np.flatnonzero(~found.rated)
    for index in rejected.tolist():
        summary.rejected[found.reason[index]] += 1
    rated = np.flatnonzero(found.rated)
    summary.rated += len(rated)
    if not len(rated):
        return
    places = found.places[rated]
    top = int(places.max())
    lift = np.array([10**p for p in range(top + 1)], dtype=object)[top - places]
    charge = found.charge[rated].astype(object) * lift
    if all(abs(v) < 2**62 for v in (charge.max(), charge.min())):
        charge = charge.astype(np.int64)
    names = found.names
    offer_codes, offers = encode(read.columns.offer.take(pa.array(rated)))
    currency = found.currency[rated].astype(np.int64)
    width = len(names)
    for target, key_codes, key_names in (
        (summary.currency, np.zeros(len(rated), dtype=np.int64), [""]),
        (summary.product, offer_codes, offers),
        (summary.zone, found.zone[rated].astype(np.int64), names),
        (summary.band, found.band[rated].astype(np.int64), names),
    ):
        keys = key_codes * width + currency
        distinct, counts = np.unique(keys, return_counts=True)
        present, sums = by_group(keys, charge)
        assert np.array_equal(present, distinct)
        for key, times, total in zip(
            distinct.tolist(), counts.tolist(), sums.tolist(), strict=True
        ):
            name, money = divmod(key, width)
            amount = Decimal(int(total)).scaleb(-top)
            target.add_many((key_names[name], names[money]), times, amount)


def compare(shadow: Shadow, read: ReadChunk, a: RatedColumns, b: RatedColumns, count: int) -> None:
    """Add a batch rated under A and under B to a shadow rating (as `Shadow.add` would)."""
    tally(shadow.a, read, a, count)
    tally(shadow.b, read, b, count)
    status = a.rated != b.rated
    shadow.status_differs += int(status.sum())
    both = np.flatnonzero(a.rated & b.rated)
    if len(both):
        top = int(max(a.places[both].max(), b.places[both].max()))
        lift = np.array([10**p for p in range(top + 1)], dtype=object)
        charge_a = a.charge[both].astype(object) * lift[top - a.places[both]]
        charge_b = b.charge[both].astype(object) * lift[top - b.places[both]]
        money_a = np.array(a.names, dtype=object)[a.currency[both]]
        money_b = np.array(b.names, dtype=object)[b.currency[both]]
        shadow.charge_differs += int(((charge_a != charge_b) | (money_a != money_b)).sum())
    for row in range(len(a.reason)):  # outcomes: rated, or rejected with a reason
        was = "rated" if a.rated[row] else f"rejected: {a.reason[row]}"
        now = "rated" if b.rated[row] else f"rejected: {b.reason[row]}"
        if was != now:
            shadow.changes[(was, now)] += 1
