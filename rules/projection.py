"""The usage estimate of a quote: a typical month (minutes by zone and band, data, SMS) rated
with the same compiled raters as real rating, so a sales screen can compare plans.

Every priced unit of the cart (combo members included) whose plan rates a business of the
profile gets the profile as one subscriber's month (units of one offer rate alike: each
offer is rated once and counted): allowances are consumed
first, then tiers and caps apply, exactly as in rating. Each profile entry becomes `events`
usage records: the entry's duration, volume (or one message each) spread evenly, to a
destination in the entry's zone, starting at the first hour of the sale's month that falls
in the entry's band. An entry no line can rate, a zone or band the plan does not know, or a
profile that would be rated as more than MAX_EVENTS records in all is a ProfileError naming
the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from catalog.snapshot import Offer
from dsl import nodes as n
from dsl.eval_usage import Counters, UsageEvent
from dsl.eval_usage_setup import RatingError, time_bands
from pricing.rounding import EXACT
from rules.rating import usage_rater
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog

#: The most usage records a quote's profile is rated as, over all the cart's offers (each
#: distinct offer rates the entries its plan rates): ~40 us a record, so a quote's usage
#: estimate costs at most ~0.2 s whatever numbers the request carries.
MAX_EVENTS = 5_000
DIGITS = 11  # a destination's length when padded from a prefix
HOURS = 31 * 24


class ProfileError(ValueError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, slots=True)
class UsageProfileEntry:
    business: str
    zone: str = ""
    band: str = ""
    events: int = 0
    duration_ms: int = 0
    volume_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ProjectedLine:
    """One offer's month: `charge` is one unit's, the cart holds `quantity` units."""

    offer: str
    plan: str
    charge: Decimal
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class Projection:
    charge: Decimal  # the month's usage charge of the whole cart
    currency: str
    lines: tuple[ProjectedLine, ...]


def project_usage(
    catalog: SaleCatalog,
    sale: Sale,
    items: Sequence[CartItem],
    profile: Sequence[UsageProfileEntry],
    tz: tzinfo,
) -> Projection:
    """Raises ProfileError."""
    lineage = catalog.tree.lineage(sale.area)
    month = sale.time.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rated_by_any = [False] * len(profile)
    lines: list[ProjectedLine] = []
    currency = ""
    units = _units(catalog, items)
    budget = MAX_EVENTS  # what rating this quote's profile may cost, whatever its numbers say
    for offer, count in units:
        plan_name = catalog.plan_name(offer, lineage)
        rater = usage_rater(catalog, plan_name) if plan_name else None
        if rater is None:
            continue
        plan = catalog.book.plans[plan_name]
        blocks = {i.business: i for i in plan.items if isinstance(i, n.Usage)}
        events: list[UsageEvent] = []
        for index, entry in enumerate(profile):
            block = blocks.get(entry.business)
            if block is None:
                continue
            rated_by_any[index] = True
            budget -= _count(entry)
            if budget < 0:
                raise ProfileError(
                    index,
                    f"the profile asks for more than {MAX_EVENTS:,} usage events to rate across "
                    "the cart's offers: describe a month with fewer, larger events",
                )
            events += _events(catalog, block, entry, index, month, sale.area)
        if not events:
            continue
        total = Decimal(0)
        for event, rated in zip(
            events, rater.rate_many(events, Counters(), env=catalog.book.env), strict=True
        ):
            if rated.status != "rated":
                where = f"{event.business} to {event.destination or '-'}"
                raise ProfileError(0, f"{plan_name} cannot rate {where}: {rated.message}")
            total = EXACT.add(total, rated.charge)
            currency = currency or rated.currency
        lines.append(ProjectedLine(offer.code, plan_name, total, count))
    for index, covered in enumerate(rated_by_any):
        if not covered:
            business = profile[index].business
            raise ProfileError(index, f"no line of the cart rates {business!r}")
    charge = Decimal(0)
    for line in lines:
        charge = EXACT.add(charge, EXACT.multiply(line.charge, Decimal(line.quantity)))
    return Projection(charge, currency, tuple(lines))


def _units(catalog: SaleCatalog, items: Sequence[CartItem]) -> list[tuple[Offer, int]]:
    """Each priced offer (items, then their members) with how many units of it the cart
    holds, in cart order: every unit is its own subscriber's month and they rate alike, so
    each offer is rated once and counted."""
    found: dict[str, int] = {}
    for item in items:
        found[item.offer_code] = found.get(item.offer_code, 0) + item.quantity
        for member in item.members:
            if member.action != "remove":
                units = item.quantity * member.quantity
                found[member.offer_code] = found.get(member.offer_code, 0) + units
    return [(catalog.offers[code], count) for code, count in found.items() if count > 0]


def _count(entry: UsageProfileEntry) -> int:
    """How many usage records `entry` becomes (0 for an empty entry)."""
    if entry.events or entry.duration_ms or entry.volume_bytes:
        return max(entry.events, 1)
    return 0


def _events(
    catalog: SaleCatalog,
    block: n.Usage,
    entry: UsageProfileEntry,
    index: int,
    month: datetime,
    origin: str,
) -> list[UsageEvent]:
    count = _count(entry)
    if count == 0:
        return []
    destination = _destination(catalog, block, entry, index)
    start = _start(catalog, block, entry, index, month)
    total = entry.duration_ms or entry.volume_bytes
    each, extra = divmod(total, count) if total else (1, 0)
    return [
        UsageEvent(entry.business, start, each + (1 if i < extra else 0), destination, origin)
        for i in range(count)
    ]


def _destination(catalog: SaleCatalog, block: n.Usage, entry: UsageProfileEntry, index: int) -> str:
    """A number whose longest prefix lies in the entry's zone ("" for a block without
    zones)."""
    if not block.zones:
        if entry.zone not in ("", "*"):
            raise ProfileError(index, f"{entry.business} is not rated by zone here")
        return ""
    table = catalog.content.zone_tables.get(block.zones)
    lookup = catalog.zone_lookups().get(block.zones)
    if table is None or lookup is None:
        raise ProfileError(index, f"zone table {block.zones!r} is not in the catalog")
    prefixes = sorted((p for p, z in table.prefixes if z == entry.zone), key=lambda p: (len(p), p))
    for prefix in prefixes[:50]:  # bounded: the shortest prefixes of the zone
        for digit in "0123456789":
            number = prefix + digit * max(DIGITS - len(prefix), 1)
            if lookup.match(number) == entry.zone:
                return number
    raise ProfileError(index, f"zone table {block.zones!r} has no number in zone {entry.zone!r}")


def _start(
    catalog: SaleCatalog, block: n.Usage, entry: UsageProfileEntry, index: int, month: datetime
) -> datetime:
    """The first hour of the month in the entry's band (the month's start without bands)."""
    if not block.bands:
        if entry.band not in ("", "*"):
            raise ProfileError(index, f"{entry.business} is not rated by band here")
        return month
    try:
        bands = time_bands(block, catalog.book.scope)
    except RatingError as error:
        raise ProfileError(index, str(error)) from error
    for hour in range(HOURS):  # bounded: a month of hours
        moment = month + timedelta(hours=hour)
        if bands.band_at(moment) == entry.band:
            return moment
    raise ProfileError(index, f"no hour of the month is in band {entry.band!r}")
