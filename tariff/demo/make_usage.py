"""Write tariff/demo/usage.csv: a month (May 2026, China time) of usage records of the demo
catalog's mobile subscribers, reproducible from a seed.

    python -m tariff.demo.make_usage [--out PATH] [--events N] [--subscribers N] [--seed N]

Subscribers hold the catalog's mobile main products (more of the mass plans than of VIP or
the campus card) and live in the cities where their offer is sold. Usage is about 55% voice
(local, domestic long distance, a little international), 35% data and 10% SMS, shaped by hour
of day and by the catalog's holiday calendar (the May Day holiday and its swapped working
Saturday), with a few heavy users who run past their allowances and into the data cap, and
about 4% of records made while roaming in another city. Destinations are dialled as a
subscriber would: 8-digit local numbers, mobile numbers on and off net, `0` + area code for
long distance, `00` + country code abroad, 10010 for customer service; one call in a few
hundred is misdialled to an unassigned number and is rejected by rating (`no-zone`), as real
switch records sometimes are. Rows are in start-time order, the order rating consumes them.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import AreaLevel, ProductKind
from tariff.demo import DEMO, USAGE
from tariff.gen.usage import USAGE_HEADER

CHINA = timezone(timedelta(hours=8))
MONTH_START = date(2026, 5, 1)
MONTH_DAYS = 31
HOLIDAYS = frozenset(date(2026, 5, d) for d in range(1, 6))  # 劳动节
WORKDAYS = frozenset({date(2026, 5, 9)})  # 调休上班的周六
SEED, EVENTS, SUBSCRIBERS = 2026, 4000, 160

#: Relative popularity of the demo's mobile offers (others weigh 1).
POPULARITY = {
    "mobile_39": 30,
    "mobile_59": 30,
    "mobile_99": 14,
    "youth_plan": 14,
    "prepaid_card": 12,
    "family_mobile": 12,
    "vip_plan": 5,
    "qh_campus_card": 5,
}
CITY_WEIGHT = {"GD_SZ": 35, "GD_GZ": 30, "BJ_BJ": 30, "QH_XN": 10}
AREA_CODE = {"GD_SZ": "0755", "GD_GZ": "020", "BJ_BJ": "010", "QH_XN": "0971"}
# long-distance destinations: the demo's cities and other large ones (上海, 天津, 重庆, ...)
OTHER_AREA_CODES = ("021", "022", "023", "024", "025", "027", "028", "029", "0571", "0731")
ON_NET = ("130", "131", "132", "155", "156", "166", "175", "176", "185", "186")
OFF_NET = ("133", "134", "135", "136", "137", "138", "139", "150", "153", "177", "180", "189")
COUNTRIES = (  # (dialled prefix, weight): 港澳台, North America, Asia, Europe, elsewhere
    ("00852", 18),
    ("00853", 4),
    ("00886", 6),
    ("001", 22),
    ("0081", 10),
    ("0082", 8),
    ("0065", 6),
    ("0060", 3),
    ("0066", 3),
    ("0044", 6),
    ("0049", 4),
    ("0033", 3),
    ("0061", 4),
    ("0064", 1),
    ("0027", 1),
    ("0055", 1),
)
# fmt: off
WORKDAY_HOURS = (2, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 13, 13, 12, 11, 11, 10, 8,
                 6, 3)
RESTDAY_HOURS = (3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 10,
                 8, 5)
# fmt: on
MIX = (("voice", 55), ("data", 35), ("sms", 10))
VOICE_MIX = (("local_voice", 64), ("ld_voice", 33), ("intl_voice", 3))
ROAMING_SHARE = 0.04
MISDIAL_SHARE = 0.003


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One line: its offer, home city, the businesses its offer rates, and how heavy a user
    it is (scales call lengths and data sessions)."""

    code: str
    offer: str
    home: str
    businesses: frozenset[str]
    appetite: float


def mobile_offers(content: CatalogContent) -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Mobile main products -> (their businesses, the cities where they are sold)."""
    tree = content.area_tree()
    cities = [a.code for a in content.areas.values() if a.level is AreaLevel.CITY]
    found = {}
    for product in content.products():
        if product.kind is not ProductKind.MAIN or product.category != "mobile":
            continue
        areas = product.area_codes or (product.owner_area_code,)
        homes = tuple(c for c in sorted(cities) if any(tree.contains(a, c) for a in areas))
        found[product.code] = (frozenset(product.business_codes), homes)
    return found


def subscribers(rng: random.Random, content: CatalogContent, count: int) -> list[Subscriber]:
    offers = mobile_offers(content)
    codes = sorted(offers)
    weights = [POPULARITY.get(code, 1) for code in codes]
    found = []
    for number in range(count):
        offer = rng.choices(codes, weights)[0]
        businesses, homes = offers[offer]
        home = rng.choices(homes, [CITY_WEIGHT.get(h, 1) for h in homes])[0]
        appetite = min(rng.lognormvariate(0.0, 0.6), 6.0)
        found.append(Subscriber(f"S{number + 1:04d}", offer, home, businesses, appetite))
    return found


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _mobile_number(rng: random.Random) -> str:
    prefix = rng.choice(ON_NET if rng.random() < 0.45 else OFF_NET)
    return prefix + _digits(rng, 8)


def _destination(rng: random.Random, business: str, home: str) -> str:
    if rng.random() < MISDIAL_SHARE:
        return "9" + _digits(rng, 6)  # no such number plan: rating rejects it (no-zone)
    if business == "intl_voice":
        prefix = rng.choices([p for p, _ in COUNTRIES], [w for _, w in COUNTRIES])[0]
        number = prefix + _digits(rng, rng.randint(8, 10))
        return "+" + number[2:] if rng.random() < 0.3 else number  # contacts saved as +CC
    if business == "ld_voice":
        if rng.random() < 0.3:
            return _mobile_number(rng)
        codes = [c for c in (*AREA_CODE.values(), *OTHER_AREA_CODES) if c != AREA_CODE.get(home)]
        return rng.choice(codes) + _digits(rng, 8)
    roll = rng.random()
    if roll < 0.02:
        return "10010"
    if roll < 0.35:
        return str(rng.randint(2, 8)) + _digits(rng, 7)
    return _mobile_number(rng)


def _start(rng: random.Random) -> datetime:
    day = MONTH_START + timedelta(days=rng.randrange(MONTH_DAYS))
    resting = day in HOLIDAYS or (day.weekday() >= 5 and day not in WORKDAYS)
    hour = rng.choices(range(24), RESTDAY_HOURS if resting else WORKDAY_HOURS)[0]
    minute, second = rng.randrange(60), rng.randrange(60)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CHINA)


def _event(
    rng: random.Random, subscriber: Subscriber, cities: Sequence[str]
) -> tuple[datetime, list[str]]:
    owned = subscriber.businesses
    kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
    start = _start(rng)
    business, duration, volume, count, destination = "sms", 0, 0, 0, ""
    if kind == "voice":
        voice = [(b, w) for b, w in VOICE_MIX if b in owned]
        business = rng.choices([b for b, _ in voice], [w for _, w in voice])[0]
        seconds = rng.lognormvariate(4.5, 1.0) * subscriber.appetite
        duration = min(int(seconds * 1000) + 1000, 3 * 3_600_000)
        destination = _destination(rng, business, subscriber.home)
    elif kind == "data":
        business = "mobile_data"
        duration = int(rng.expovariate(1 / 900) * 1000) + 1000
        volume = int(rng.lognormvariate(19.0, 1.3) * subscriber.appetite) + 1  # median ~170 MB
    else:
        count = 1 if rng.random() < 0.9 else rng.randint(2, 3)
        destination = _mobile_number(rng)
    origin, roaming = subscriber.home, rng.random() < ROAMING_SHARE
    if roaming:
        origin = rng.choice([c for c in cities if c != subscriber.home])
    row = [
        "",
        subscriber.code,
        subscriber.offer,
        business,
        start.isoformat(),
        str(duration),
        str(volume),
        str(count),
        origin,
        destination,
        "true" if roaming else "false",
    ]
    return start, row


def write_usage(
    content: CatalogContent,
    out: TextIO,
    events: int = EVENTS,
    lines: int = SUBSCRIBERS,
    seed: int = SEED,
) -> int:
    """Write the header and `events` rows in start-time order; returns the number of rows."""
    rng = random.Random(seed)
    people = subscribers(rng, content, lines)
    cities = sorted(CITY_WEIGHT)
    drawn = [_event(rng, rng.choice(people), cities) for _ in range(events)]
    drawn.sort(key=lambda pair: (pair[0], pair[1][1]))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(USAGE_HEADER)
    for number, (_, row) in enumerate(drawn, start=1):
        row[0] = f"E{number:05d}"
        writer.writerow(row)
    return len(drawn)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=USAGE)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    content = bundle.read_path(DEMO)
    with args.out.open("w", encoding="utf-8", newline="") as out:
        rows = write_usage(content, out, args.events, args.subscribers, args.seed)
    print(f"wrote {args.out}: {rows} usage records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
