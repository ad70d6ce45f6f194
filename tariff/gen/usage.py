"""Synthetic usage events for a catalog, streamed as CSV, reproducible from a seed.

Subscribers each hold a main product that rates usage; events are about 55% voice, 35% data
and 10% SMS, spread over March 2026 (China time) with a day/night and weekday/weekend shape;
destinations are drawn from the catalog's zone table and padded with random digits, so zones
and longest-prefix matches vary. Rows are written in chunks: memory does not grow with the
number of events.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TextIO

from catalog.content import CatalogContent
from catalog.model import AreaLevel, ProductKind
from tariff.gen.rules_text import VOICE_BUSINESSES

USAGE_HEADER = (
    "event_id",
    "subscriber_id",
    "offer_code",
    "business_code",
    "start_time",
    "duration_ms",
    "volume_bytes",
    "count",
    "origin_area_code",
    "destination",
    "roaming",
)
MONTH_START = date(2026, 3, 1)
MONTH_DAYS = 31
CHUNK = 4096
_MIX = (("voice", 55), ("data", 35), ("sms", 10))
_VOICE_WEIGHTS = {"local_voice": 65, "ld_voice": 28, "intl_voice": 7}
# relative activity per hour of day: quiet nights, busy working hours / evenings
# fmt: off
_WEEKDAY_HOURS = (2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 13, 13, 12, 11, 11, 10, 8,
                  6, 3)
_WEEKEND_HOURS = (3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 10,
                  8, 5)
# fmt: on
_ROAMING_SHARE = 0.04


@dataclass(frozen=True, slots=True)
class UsageSpec:
    events: int
    subscribers: int
    seed: int

    def problems(self) -> list[str]:
        found = []
        if self.events < 0:
            found.append(f"--events must not be negative, got {self.events}")
        if self.subscribers < 1:
            found.append(f"--subscribers must be at least 1, got {self.subscribers}")
        return found


@dataclass(frozen=True, slots=True)
class _Subscriber:
    code: str
    offer: str
    home: str
    voice: tuple[str, ...]
    data: bool
    sms: bool


def write_usage(content: CatalogContent, spec: UsageSpec, out: TextIO) -> int:
    """Write the header and `spec.events` rows to `out`; returns the number of rows.

    Raises ValueError for bad sizes or a catalog without a product that rates usage.
    """
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    rng = random.Random(spec.seed)
    cities = _cities(content)
    subscribers = _subscribers(rng, content, cities, spec.subscribers)
    prefixes = _prefix_pools(content)
    everywhere = sorted(c for c in content.areas if content.areas[c].level is AreaLevel.CITY)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(USAGE_HEADER)
    width = max(8, len(str(spec.events)))
    chunk: list[tuple[str, ...]] = []
    for number in range(spec.events):
        event_id = f"E{number:0{width}d}"
        chunk.append(_event(rng, event_id, subscribers, everywhere, prefixes))
        if len(chunk) >= CHUNK:
            writer.writerows(chunk)
            chunk.clear()
    writer.writerows(chunk)
    return spec.events


def _cities(content: CatalogContent) -> dict[str, list[str]]:
    """Area code -> the cities at or below it (an area without cities stands for itself)."""
    below: dict[str, list[str]] = {code: [] for code in content.areas}
    for area in content.areas.values():
        if area.level is AreaLevel.CITY:
            code: str = area.code
            while code:
                below.setdefault(code, []).append(area.code)
                code = content.areas[code].parent_code if code in content.areas else ""
    return {code: sorted(found) or [code] for code, found in sorted(below.items())}


def _subscribers(
    rng: random.Random, content: CatalogContent, cities: dict[str, list[str]], count: int
) -> list[_Subscriber]:
    rated = []
    for product in content.products():
        if product.kind is not ProductKind.MAIN or not product.tariff_plan:
            continue
        voice = tuple(b for b in product.business_codes if b in VOICE_BUSINESSES)
        data = "mobile_data" in product.business_codes
        sms = "sms" in product.business_codes
        if voice or data or sms:
            areas = product.area_codes or (product.owner_area_code,)
            homes = sorted({c for a in areas for c in cities.get(a, [a])})
            rated.append((product.code, homes, voice, data, sms))
    if not rated:
        raise ValueError("the catalog has no main product that rates voice, data or SMS")
    width = max(6, len(str(count)))
    subscribers = []
    for number in range(count):
        offer, homes, voice, data, sms = rng.choice(rated)
        home = rng.choice(homes)
        subscribers.append(_Subscriber(f"S{number:0{width}d}", offer, home, voice, data, sms))
    return subscribers


def _prefix_pools(content: CatalogContent) -> dict[str, list[str]]:
    """Zone class (local, national, mobile, intl) -> prefixes of the catalog's zone table."""
    pools: dict[str, list[str]] = {"local": [], "national": [], "mobile": [], "intl": []}
    for table in content.zone_tables.values():
        for prefix, zone in table.prefixes:
            kind = "intl" if zone.startswith("intl") else zone
            pools.setdefault(kind, []).append(prefix)
    everything = sorted({p for pool in pools.values() for p in pool}) or ["0"]
    return {kind: pool or everything for kind, pool in pools.items()}


def _destination(rng: random.Random, pool: Sequence[str], length: int) -> str:
    prefix = rng.choice(pool)
    digits = "".join(str(rng.randint(0, 9)) for _ in range(max(0, length - len(prefix))))
    return prefix + digits


def _start(rng: random.Random) -> str:
    day = MONTH_START + timedelta(days=rng.randrange(MONTH_DAYS))
    weights = _WEEKEND_HOURS if day.weekday() >= 5 else _WEEKDAY_HOURS
    hour = rng.choices(range(24), weights=weights)[0]
    minute, second = rng.randrange(60), rng.randrange(60)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}+08:00"


def _kind(rng: random.Random, subscriber: _Subscriber) -> str:
    kinds = [
        (kind, weight)
        for kind, weight in _MIX
        if (kind == "voice" and subscriber.voice)
        or (kind == "data" and subscriber.data)
        or (kind == "sms" and subscriber.sms)
    ]
    return rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]


def _event(
    rng: random.Random,
    event_id: str,
    subscribers: Sequence[_Subscriber],
    everywhere: Sequence[str],
    prefixes: dict[str, list[str]],
) -> tuple[str, ...]:
    subscriber = rng.choice(subscribers)
    kind = _kind(rng, subscriber)
    start = _start(rng)
    duration = volume = count = 0
    destination = ""
    if kind == "voice":
        weights = [_VOICE_WEIGHTS.get(b, 10) for b in subscriber.voice]
        business = rng.choices(subscriber.voice, weights=weights)[0]
        if business == "intl_voice":
            destination = _destination(rng, prefixes["intl"], rng.randint(12, 15))
        elif business == "ld_voice":
            destination = _destination(rng, prefixes["national"], rng.randint(11, 12))
        else:
            zone = rng.choice(("local", "local", "mobile"))
            destination = _destination(rng, prefixes[zone], 11)
        duration = min(int(rng.lognormvariate(4.0, 1.1) * 1000) + 1000, 7_200_000)
    elif kind == "data":
        business = "mobile_data"
        duration = int(rng.expovariate(1 / 600) * 1000) + 1000
        volume = int(rng.lognormvariate(14.5, 2.0)) + 1
    else:
        business = "sms"
        count = 1 if rng.random() < 0.9 else rng.randint(2, 4)
        destination = _destination(rng, prefixes["mobile"], 11)
    origin = subscriber.home
    roaming = rng.random() < _ROAMING_SHARE
    if roaming:
        origin = rng.choice(everywhere) if everywhere else origin
    return (
        event_id,
        subscriber.code,
        subscriber.offer,
        business,
        start,
        str(duration),
        str(volume),
        str(count),
        origin,
        destination,
        "true" if roaming else "false",
    )


def iter_rows(text: str) -> Iterator[dict[str, str]]:
    """Parse usage CSV text back into dicts (tests and tools)."""
    yield from csv.DictReader(text.splitlines())
