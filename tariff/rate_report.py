"""What `tariff rate` and `tariff shadow` add up and show: tallies by currency, product, zone
and band (exact Decimal sums of exact charges), the JSON reports, and the rich tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import Any

from dsl.eval_usage import Rated
from pricing.rounding import EXACT
from tariff.output import Listing

ZERO = Decimal(0)
CENT = Decimal("0.01")
PERCENT = Context(prec=28, rounding=ROUND_HALF_EVEN)  # shares are display, not money
TOP = 20


# -- tallies --------------------------------------------------------------------------------

Key = tuple[str, str]  # (offer | zone | band | "", currency): two currencies never add up


class Tally:
    """Events and their exact charge total per key."""

    __slots__ = ("charge", "events")

    def __init__(self) -> None:
        self.events: Counter[Key] = Counter()
        self.charge: dict[Key, Decimal] = {}

    def add(self, key: Key, charge: Decimal) -> None:
        self.events[key] += 1
        if charge:  # most events are free (allowances): skip the exact addition
            self.charge[key] = EXACT.add(self.charge.get(key, ZERO), charge)

    def add_many(self, key: Key, events: int, charge: Decimal) -> None:
        """`events` events whose charges add up to `charge`."""
        self.events[key] += events
        if charge:
            self.charge[key] = EXACT.add(self.charge.get(key, ZERO), charge)

    def total(self, key: Key) -> Decimal:
        return self.charge.get(key, ZERO)


@dataclass(slots=True)
class Summary:
    """What one rating of a file came to: counts, rejections, revenue by currency, product
    (offer), zone and band (the band of each event's start)."""

    events: int = 0
    rated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    versions: Counter[int] = field(default_factory=Counter)
    currency: Tally = field(default_factory=Tally)
    product: Tally = field(default_factory=Tally)
    zone: Tally = field(default_factory=Tally)
    band: Tally = field(default_factory=Tally)

    def add(self, offer: str, rated: Rated, version: int) -> None:
        self.events += 1
        self.versions[version] += 1
        if rated.status != "rated":
            self.rejected[rated.reason] += 1
            return
        self.rated += 1
        money, charge = rated.currency, rated.charge
        self.currency.add(("", money), charge)
        self.product.add((offer, money), charge)
        self.zone.add((rated.zone, money), charge)
        self.band.add((rated.band, money), charge)


@dataclass(slots=True)
class Shadow:
    """Two ratings of one file, side by side, and the events they rate differently."""

    a: Summary = field(default_factory=Summary)
    b: Summary = field(default_factory=Summary)
    status_differs: int = 0
    charge_differs: int = 0
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, offer: str, a: tuple[Rated, int], b: tuple[Rated, int]) -> None:
        (first, first_version), (second, second_version) = a, b
        self.a.add(offer, first, first_version)
        self.b.add(offer, second, second_version)
        if first.status != second.status:
            self.status_differs += 1
        elif first.charge != second.charge or first.currency != second.currency:
            self.charge_differs += 1
        was, now = _outcome(first), _outcome(second)
        if was != now:
            self.changes[(was, now)] += 1


def _outcome(rated: Rated) -> str:
    return "rated" if rated.status == "rated" else f"rejected: {rated.reason}"


# -- reports --------------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    return f"{amount:f}"


def _percent(a: Decimal, b: Decimal) -> str | None:
    """B against A in percent, to the hundredth; None when A is nothing (no base)."""
    if not a:
        return None
    change = PERCENT.divide(PERCENT.multiply(EXACT.subtract(b, a), Decimal(100)), a)
    return f"{change.quantize(CENT, context=PERCENT):+f}"


def _tally_rows(tally: Tally, name: str) -> list[dict[str, Any]]:
    """Rows largest total first; `name` is the key's column ("" for totals by currency)."""
    keys = sorted(tally.events, key=lambda k: (-tally.total(k), k))
    return [
        {
            **({name: key} if name else {}),
            "currency": money,
            "events": tally.events[(key, money)],
            "total": _money(tally.total((key, money))),
        }
        for key, money in keys
    ]


def _diff_rows(a: Tally, b: Tally, name: str) -> list[dict[str, Any]]:
    """B against A per key, the largest difference first."""
    ordered = []
    for key in a.events.keys() | b.events.keys():
        first, second = a.total(key), b.total(key)
        difference = EXACT.subtract(second, first)
        row = {
            **({name: key[0]} if name else {}),
            "currency": key[1],
            "a": _money(first),
            "b": _money(second),
            "difference": _money(difference),
            "percent": _percent(first, second),
        }
        ordered.append(((-abs(difference), key), row))
    return [row for _, row in sorted(ordered, key=lambda pair: pair[0])]


def rate_report(summary: Summary, source: Path, out: Path, label: str) -> dict[str, Any]:
    """The machine-readable summary of `tariff rate` (amounts as exact decimal strings)."""
    return {
        "file": str(source),
        "out": str(out),
        "catalog": label,
        "events": summary.events,
        "rated": summary.rated,
        "rejected": dict(sorted(summary.rejected.items())),
        "versions": {str(v): n for v, n in sorted(summary.versions.items())},
        "charge": _tally_rows(summary.currency, ""),
        "by_product": _tally_rows(summary.product, "offer"),
        "by_zone": _tally_rows(summary.zone, "zone"),
    }


def shadow_report(shadow: Shadow, source: Path, labels: tuple[str, str]) -> dict[str, Any]:
    """The machine-readable summary of `tariff shadow`: B against A (difference = B - A)."""
    return {
        "file": str(source),
        "a": labels[0],
        "b": labels[1],
        "events": shadow.a.events,
        "rated": {"a": shadow.a.rated, "b": shadow.b.rated},
        "status_differs": shadow.status_differs,
        "charge_differs": shadow.charge_differs,
        "changes": [
            {"a": was, "b": now, "events": count}
            for (was, now), count in sorted(shadow.changes.items(), key=lambda i: (-i[1], i[0]))
        ],
        "totals": _diff_rows(shadow.a.currency, shadow.b.currency, ""),
        "by_product": _diff_rows(shadow.a.product, shadow.b.product, "offer"),
        "by_zone": _diff_rows(shadow.a.zone, shadow.b.zone, "zone"),
        "by_band": _diff_rows(shadow.a.band, shadow.b.band, "band"),
    }


_NUMERIC = frozenset({"count", "events", "total", "difference", "%", "A", "B"})


def _listing(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], top: int
) -> Listing:
    shown = rows if top <= 0 else rows[:top]
    more = len(rows) - len(shown)
    caption = f"{more} more (--top 0 or --output json for all)" if more else ""
    return Listing(title, tuple(columns), shown, _NUMERIC & set(columns), caption)


def rate_listings(report: Mapping[str, Any], seconds: float, top: int) -> tuple[str, list[Listing]]:
    """`tariff rate`'s summary: a heading line and its tables (tariff.output prints them)."""
    events = report["events"]
    heading = f"Rated {report['file']} -> {report['out']} with {report['catalog']}"
    speed = f"{events / seconds:,.0f} rows/s" if seconds > 0 else "-"
    overview = [
        ("events", f"{events:,}"),
        ("rated", f"{report['rated']:,}"),
        ("rejected", f"{events - report['rated']:,}"),
        ("time", f"{seconds:,.1f} s ({speed})"),
        ("versions", ", ".join(f"{v}: {n:,}" for v, n in report["versions"].items())),
    ]
    listings = [_listing("Events", ("", "count"), overview, 0)]
    if report["rejected"]:
        reasons = [(r, f"{n:,}") for r, n in report["rejected"].items()]
        listings.append(_listing("Rejected by reason", ("reason", "events"), reasons, 0))
    for title, name, rows in (
        ("Charge by currency", "", report["charge"]),
        ("Charge by product", "offer", report["by_product"]),
        ("Charge by zone", "zone", report["by_zone"]),
    ):
        cells = [
            (
                *((r[name] or "(none)",) if name else ()),
                r["currency"],
                f"{r['events']:,}",
                r["total"],
            )
            for r in rows
        ]
        columns = (*((name,) if name else ()), "currency", "events", "total")
        listings.append(_listing(title, columns, cells, top))
    return heading, listings


def shadow_listings(report: Mapping[str, Any], top: int) -> tuple[str, list[Listing]]:
    """`tariff shadow`'s comparison: a heading naming A and B, and its tables."""
    a, b = report["a"], report["b"]
    heading = f"Shadow rating of {report['file']}: A = {a}, B = {b}"
    overview = [
        ("events", f"{report['events']:,}"),
        ("rated by A", f"{report['rated']['a']:,}"),
        ("rated by B", f"{report['rated']['b']:,}"),
        ("status differs", f"{report['status_differs']:,}"),
        ("charge differs", f"{report['charge_differs']:,}"),
    ]
    listings = [_listing("Events", ("", "count"), overview, 0)]
    if report["changes"]:
        changes = [(c["a"], c["b"], f"{c['events']:,}") for c in report["changes"]]
        listings.append(_listing("Outcome changes", ("A", "B", "events"), changes, top))
    columns = ("currency", "A", "B", "difference", "%")
    for title, name, rows in (
        ("Revenue", "", report["totals"]),
        ("Revenue by product", "offer", report["by_product"]),
        ("Revenue by zone", "zone", report["by_zone"]),
        ("Revenue by band", "band", report["by_band"]),
    ):
        cells = [
            (
                *((r[name] or "(none)",) if name else ()),
                r["currency"],
                r["a"],
                r["b"],
                r["difference"],
                "-" if r["percent"] is None else f"{r['percent']}%",
            )
            for r in rows
        ]
        listings.append(_listing(title, ((name,) if name else ()) + columns, cells, top))
    return heading, listings
