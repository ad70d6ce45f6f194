"""Usage records from flat rows (CSV and Parquet files, `tariff gen usage`): the columns of
tariff.gen.usage.USAGE_HEADER, one record per row.

Which quantity column counts depends on the business's measure in the catalog: duration_ms
for durations, volume_bytes for volumes, count for counts (0 = 1). A row that cannot be read
is not an exception: `record_from_row` returns the problem, and the caller rejects that row
(`malformed`) and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from catalog.model import Business, UsageMeasure
from dsl.eval_usage import UsageEvent
from rules.rating import UsageRecord

QUANTITY_COLUMN = {
    UsageMeasure.DURATION: "duration_ms",
    UsageMeasure.VOLUME: "volume_bytes",
    UsageMeasure.COUNT: "count",
}
MAX_QUANTITY = 2**63 - 1  # what a 64-bit usage column holds (Parquet, Arrow, the columnar rater)
TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f", ""})


class RowError(ValueError):
    """Why a row is not a usage record (the record is rejected as malformed)."""


def record_from_row(row: Mapping[str, str], businesses: Mapping[str, Business]) -> UsageRecord:
    """Raises RowError naming the column that is wrong."""
    event_id = (row.get("event_id") or "").strip()
    business_code = (row.get("business_code") or "").strip()
    business = businesses.get(business_code)
    if business is None:
        raise RowError(f"business_code: unknown business {business_code!r}")
    column = QUANTITY_COLUMN.get(business.usage_measure)
    if column is None:
        raise RowError(f"business_code: {business_code} is not rated by usage")
    quantity = _whole(row.get(column), column)
    if column == "count" and quantity == 0:
        quantity = 1
    start = _instant(row.get("start_time"))
    roaming = (row.get("roaming") or "").strip().lower()
    if roaming not in TRUE | FALSE:
        raise RowError(f"roaming: {roaming!r} is not true or false")
    usage = UsageEvent(
        business=business_code,
        start=start,
        quantity=quantity,
        destination=(row.get("destination") or "").strip(),
        origin=(row.get("origin_area_code") or "").strip() or None,
        roaming=roaming in TRUE,
    )
    return UsageRecord(
        event_id=event_id,
        subscriber_id=(row.get("subscriber_id") or "").strip(),
        offer_code=(row.get("offer_code") or "").strip(),
        usage=usage,
    )


def _whole(text: str | None, column: str) -> int:
    value = (text or "0").strip() or "0"
    if not value.lstrip("-").isdigit() or not value.isascii():
        raise RowError(f"{column}: {value!r} is not a whole number")
    number = int(value)
    if number < 0:
        raise RowError(f"{column}: {number} is negative")
    if number > MAX_QUANTITY:  # 292,000 years of milliseconds, 9.2 EB: not a usage record
        raise RowError(f"{column}: {number} is too large")
    return number


def _instant(text: str | None) -> datetime:
    value = (text or "").strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"start_time: {value!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise RowError(f"start_time: {value!r} has no time zone offset")
    return moment
