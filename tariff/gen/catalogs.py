"""Synthetic catalogs of realistic shape, reproducible from a seed.

A nation with provinces and cities, the six channels, five segments, the usual businesses,
products spread between headquarters and provinces (mobile, broadband, fixed line and
value-added add-ons on main bases), combos of main products, a nested-prefix zone table and a
rule source per offer (eligibility drawn from condition templates, and a tariff plan).
Everything is drawn from one `random.Random(seed)` in a fixed order: the same spec always gives
the same content, hence the same bundle bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from catalog.content import CatalogContent, EntityKey
from catalog.model import (
    Area,
    AreaLevel,
    Audience,
    Business,
    BusinessKind,
    Channel,
    ChannelKind,
    Combo,
    ComboMember,
    CustomerType,
    EntityKind,
    LifecycleStatus,
    Product,
    ProductKind,
    RuleSource,
    Segment,
    TimePeriod,
    UsageMeasure,
    VersionedEntity,
    ZoneTable,
)
from tariff.gen import rules_text
from tariff.gen.rules_text import OfferFacts

NATION = "CN"
VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)

CHANNELS: tuple[tuple[str, str, ChannelKind], ...] = (
    ("hall", "营业厅", ChannelKind.HALL),
    ("call_center", "10010 客服热线", ChannelKind.CALL_CENTER),
    ("web", "网上营业厅", ChannelKind.SELF_SERVICE),
    ("sms", "短信营业厅", ChannelKind.SMS),
    ("agent", "代理商", ChannelKind.PARTNER),
    ("account_manager", "客户经理", ChannelKind.ACCOUNT_MANAGER),
)
SEGMENTS: tuple[tuple[str, str, CustomerType], ...] = (
    ("personal", "个人客户", CustomerType.PERSONAL),
    ("family", "家庭客户", CustomerType.PERSONAL),
    ("youth", "新势力 (15–26 岁)", CustomerType.PERSONAL),
    ("vip", "世界风高端客户", CustomerType.PERSONAL),
    ("enterprise", "集团客户", CustomerType.ENTERPRISE),
)
BUSINESSES: tuple[tuple[str, str, BusinessKind, UsageMeasure, str], ...] = (
    ("local_voice", "本地通话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
    ("ld_voice", "长途通话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
    ("intl_voice", "国际通话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
    ("mobile_data", "移动数据", BusinessKind.BASIC, UsageMeasure.VOLUME, "MB"),
    ("sms", "短信", BusinessKind.BASIC, UsageMeasure.COUNT, "message"),
    ("caller_id", "来电显示", BusinessKind.VALUE_ADDED, UsageMeasure.NONE, ""),
    ("broadband_month", "宽带包月", BusinessKind.BASIC, UsageMeasure.NONE, "month"),
    ("installation", "初装", BusinessKind.BASIC, UsageMeasure.NONE, ""),
    ("fixed_line", "固定电话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
)
INTL_ZONES = ("intl_asia", "intl_europe", "intl_americas", "intl_africa", "intl_oceania")

# category -> (code prefix, display name, weight)
_CATEGORIES: tuple[tuple[str, str, str, int], ...] = (
    ("mobile", "mob", "手机套餐", 45),
    ("broadband", "bb", "宽带", 15),
    ("fixed", "fix", "固话", 10),
    ("value_added", "vas", "增值业务", 30),
)
_BRANDS = ("personal", "personal", "youth", "family", "vip", "enterprise")
_MAX_PREFIX = 10
MIN_ZONE_PREFIXES = 4  # the anchors: national, local, mobile, international


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    """What to generate: sizes and the seed."""

    offers: int
    areas: int
    seed: int
    rules_per_offer: int = 3
    combos: int = 0
    zone_prefixes: int = 200

    def problems(self) -> list[str]:
        found = []
        if self.offers < 1:
            found.append(f"--offers must be at least 1, got {self.offers}")
        if self.areas < 1:
            found.append(f"--areas must be at least 1, got {self.areas}")
        if self.rules_per_offer < 0:
            found.append(f"--rules-per-offer must not be negative, got {self.rules_per_offer}")
        if self.combos < 0:
            found.append(f"--combos must not be negative, got {self.combos}")
        if self.zone_prefixes < MIN_ZONE_PREFIXES:
            found.append(
                f"--zone-prefixes must be at least {MIN_ZONE_PREFIXES}, got {self.zone_prefixes}"
            )
        return found


@dataclass(slots=True)
class _Main:
    code: str
    category: str
    province: str


@dataclass(slots=True)
class _Mains:
    """Main products by (owner province, category): add-ons and combos pick their bases and
    members from these without scanning every main (which made 100k offers quadratic)."""

    first: _Main | None = None
    lists: dict[tuple[str, str], list[_Main]] = field(default_factory=dict)

    def add(self, main: _Main) -> None:
        self.first = self.first or main
        self.lists.setdefault((main.province, main.category), []).append(main)

    def parts(
        self, provinces: Sequence[str] | None, categories: Sequence[str] | None
    ) -> list[list[_Main]]:
        """The lists of mains owned by one of `provinces` in one of `categories` (None: any),
        in a fixed order."""
        if provinces is None or categories is None:
            return [
                mains
                for (province, category), mains in sorted(self.lists.items())
                if (provinces is None or province in provinces)
                and (categories is None or category in categories)
            ]
        keys = ((p, c) for p in sorted(provinces) for c in sorted(categories))
        return [self.lists[key] for key in keys if key in self.lists]


def _pick(rng: random.Random, parts: Sequence[Sequence[_Main]], count: int) -> list[_Main]:
    """`count` distinct mains drawn uniformly from the concatenation of `parts`, without
    building it."""
    total = sum(len(part) for part in parts)
    picked = []
    for index in rng.sample(range(total), min(count, total)):
        for part in parts:  # bounded: a few provinces x categories
            if index < len(part):
                picked.append(part[index])
                break
            index -= len(part)
    return picked


@dataclass(slots=True)
class _State:
    rng: random.Random
    spec: CatalogSpec
    provinces: list[str]
    cities: dict[str, list[str]]
    entities: dict[EntityKey, VersionedEntity] = field(default_factory=dict)
    mains: _Mains = field(default_factory=_Mains)


def generate_catalog(spec: CatalogSpec) -> CatalogContent:
    """The catalog of `spec`; raises ValueError for sizes that make no sense."""
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    rng = random.Random(spec.seed)
    areas, provinces, cities = _areas(rng, spec.areas)
    state = _State(rng=rng, spec=spec, provinces=provinces, cities=cities)
    for code, name, kind, measure, unit in BUSINESSES:
        business = Business(code=code, name=name, kind=kind, usage_measure=measure, unit=unit)
        _add(state, EntityKind.BUSINESS, business)
    width = max(4, len(str(spec.offers)))
    for index in range(spec.offers):
        _add(state, EntityKind.PRODUCT, _product(state, index, width))
    combo_width = max(3, len(str(spec.combos)))
    for index in range(spec.combos):
        _add(state, EntityKind.COMBO, _combo(state, index, combo_width))
    zones = _zone_table(rng, spec.zone_prefixes)
    return CatalogContent.build(
        areas={a.code: a for a in areas},
        channels={c: Channel(code=c, name=n, kind=k) for c, n, k in CHANNELS},
        segments={c: Segment(code=c, name=n, customer_type=t) for c, n, t in SEGMENTS},
        zone_tables={zones.name: zones},
        rule_sources=(RuleSource(path="rules/common.tariff", text=rules_text.COMMON_TEXT),),
        entities=state.entities,
    )


def _add(state: _State, kind: EntityKind, definition: Business | Product | Combo) -> None:
    entity = VersionedEntity(definition=definition, status=LifecycleStatus.LAUNCHED, version=1)
    state.entities[(kind, definition.code)] = entity


def _areas(rng: random.Random, count: int) -> tuple[list[Area], list[str], dict[str, list[str]]]:
    width = max(2, len(str(count)))
    areas = [Area(code=NATION, name="中国", level=AreaLevel.NATION)]
    provinces: list[str] = []
    cities: dict[str, list[str]] = {}
    for p in range(1, count + 1):
        province = f"P{p:0{width}d}"
        provinces.append(province)
        areas.append(
            Area(code=province, name=f"省份 {p}", level=AreaLevel.PROVINCE, parent_code=NATION)
        )
        cities[province] = []
        for c in range(1, rng.randint(2, 5) + 1):
            city = f"{province}_C{c}"
            cities[province].append(city)
            name = f"省份 {p} 城市 {c}"
            areas.append(Area(code=city, name=name, level=AreaLevel.CITY, parent_code=province))
    return areas, provinces, cities


def _subset(rng: random.Random, items: Sequence[str], low: int, high: int) -> tuple[str, ...]:
    """A random subset of `items` of size low..high, in the items' own order."""
    picked = set(rng.sample(range(len(items)), rng.randint(low, min(high, len(items)))))
    return tuple(item for i, item in enumerate(items) if i in picked)


def _audience(brand: str) -> Audience:
    if brand == "enterprise":
        return Audience(customer_types=(CustomerType.ENTERPRISE,), segment_codes=("enterprise",))
    if brand == "personal":
        return Audience(customer_types=(CustomerType.PERSONAL,))
    return Audience(customer_types=(CustomerType.PERSONAL,), segment_codes=(brand,))


def _channels(rng: random.Random, enterprise: bool) -> tuple[str, ...]:
    codes = [c for c, _, _ in CHANNELS]
    picked = set(_subset(rng, codes, 2, 6))
    picked.add("account_manager" if enterprise else "hall")
    return tuple(c for c in codes if c in picked)


def _category(rng: random.Random, index: int) -> tuple[str, str, str]:
    if index == 0:
        return _CATEGORIES[0][:3]
    weights = [w for *_, w in _CATEGORIES]
    chosen = rng.choices(_CATEGORIES, weights=weights)[0]
    return chosen[:3]


def _scope(state: _State) -> tuple[str, tuple[str, ...]]:
    """(owner province or "", sales areas): about a quarter of offers are national."""
    rng = state.rng
    if rng.random() < 0.25:
        return "", (NATION,)
    province = rng.choice(state.provinces)
    if rng.random() < 0.3:
        return province, _subset(rng, state.cities[province], 1, 3)
    return province, (province,)


def _businesses(rng: random.Random, category: str) -> tuple[str, ...]:
    if category == "mobile":
        voice = (
            ("local_voice", "ld_voice", "intl_voice")
            if rng.random() < 0.4
            else (
                "local_voice",
                "ld_voice",
            )
        )
        return (*voice, "mobile_data", "sms")
    if category == "broadband":
        return ("broadband_month", "installation")
    if category == "fixed":
        return ("fixed_line", "installation")
    return (rng.choices(("caller_id", "mobile_data", "sms"), weights=(60, 25, 15))[0],)


def _bases(state: _State, province: str, business: str) -> tuple[str, ...]:
    wanted = ("mobile", "fixed") if business == "caller_id" else ("mobile",)
    parts = state.mains.parts(("", province), wanted) or state.mains.parts(None, wanted)
    if not parts:
        assert state.mains.first is not None, "add-ons come after the first main product"
        return (state.mains.first.code,)
    picks = _pick(state.rng, parts, state.rng.randint(1, 3))
    # A set: a headquarters add-on (province "") lists the nation's mains twice in `parts`,
    # so two draws can name the same base, which the store refuses as listed twice.
    return tuple(sorted({m.code for m in picks}))


def _product(state: _State, index: int, width: int) -> Product:
    rng = state.rng
    category, prefix, title = _category(rng, index)
    province, area_codes = _scope(state)
    scope = province.lower() or "cn"
    code = f"{prefix}_{scope}_{index:0{width}d}"
    businesses = _businesses(rng, category)
    add_on = category == "value_added"
    brand = "personal" if add_on else rng.choice(_BRANDS)
    if category != "mobile" and brand in ("youth", "vip"):
        brand = "family"
    audience = Audience() if add_on else _audience(brand)
    channels = _channels(rng, brand == "enterprise")
    plan = f"{code}_plan"
    name = f"{title} {index}"
    facts = OfferFacts(
        code=code,
        province=province,
        nation=NATION,
        channels=channels,
        segments=audience.segment_codes,
        enterprise=brand == "enterprise",
    )
    rules = rules_text.eligibility_rules(rng, facts, state.spec.rules_per_offer)
    text = rules_text.product_plan(rng, plan, category, businesses, name)
    if rules:
        text = rules_text.offer_block(code, rules) + "\n" + text
    bases = _bases(state, province, businesses[0]) if add_on else ()
    if not add_on:
        state.mains.add(_Main(code=code, category=category, province=province))
    return Product(
        code=code,
        name=name,
        kind=ProductKind.ADD_ON if add_on else ProductKind.MAIN,
        business_codes=businesses,
        owner_area_code=province or NATION,
        category=category,
        base_product_codes=bases,
        audience=audience,
        area_codes=area_codes,
        tariff_plan=plan,
        channel_codes=channels,
        service_level=rng.choice(("standard", "standard", "gold")),
        valid_for=TimePeriod(start=VALID_FROM),
        rule_sources=(RuleSource(path=f"products/{code}.tariff", text=text),),
    )


def _combo(state: _State, index: int, width: int) -> Combo:
    rng = state.rng
    province = "" if rng.random() < 0.4 else rng.choice(state.provinces)
    owners: tuple[str, ...] | None = ("", province)
    if not state.mains.parts(owners, None):
        owners = None
    categories = sorted({c for (p, c) in state.mains.lists if owners is None or p in owners})
    chosen: list[_Main] = []
    for category in rng.sample(categories, min(len(categories), rng.randint(2, 3))):
        chosen += _pick(rng, state.mains.parts(owners, (category,)), 1)
    if len(chosen) < 2:
        chosen = _pick(rng, state.mains.parts(owners, None), 2)
    chosen.sort(key=lambda m: m.code)
    members: list[ComboMember] = []
    composition: list[str] = []
    for main in chosen:
        if main.category == "mobile":
            high = rng.randint(1, 4)
            default = rng.randint(1, high) if high > 1 else 0
            members.append(ComboMember(main.code, 1, high if high > 1 else 0, default))
            composition.append(f"1..{high} {main.code}" if high > 1 else f"exactly 1 {main.code}")
        else:
            members.append(ComboMember(main.code))
            composition.append(f"exactly 1 {main.code}")
    scope = province.lower() or "cn"
    code = f"combo_{scope}_{index:0{width}d}"
    brand = rng.choice(("family", "family", "enterprise", "personal"))
    audience = _audience(brand)
    channels = _channels(rng, brand == "enterprise")
    facts = OfferFacts(
        code=code,
        province=province,
        nation=NATION,
        channels=channels,
        segments=audience.segment_codes,
        enterprise=brand == "enterprise",
    )
    rules = rules_text.eligibility_rules(rng, facts, state.spec.rules_per_offer)
    name = f"融合套餐 {index}"
    plan = f"{code}_plan"
    text = (
        rules_text.offer_block(code, rules, composition)
        + "\n"
        + rules_text.combo_plan(rng, plan, [m.code for m in chosen], name)
    )
    return Combo(
        code=code,
        name=name,
        owner_area_code=province or NATION,
        members=tuple(members),
        category="bundle",
        audience=audience,
        area_codes=(province or NATION,),
        tariff_plan=plan,
        channel_codes=channels,
        service_level="gold",
        valid_for=TimePeriod(start=VALID_FROM),
        rule_sources=(RuleSource(path=f"combos/{code}.tariff", text=text),),
    )


def _zone_table(rng: random.Random, count: int) -> ZoneTable:
    """`count` digit prefixes grown as a tree, so longest-prefix matches nest several deep."""
    zones: dict[str, str] = {}
    order: list[str] = []
    anchors = (("0", "national"), ("01", "local"), ("1", "mobile"), ("00", "intl_other"))
    for prefix, zone in anchors:  # every zone the generated tariffs name exists
        if len(order) < count:
            zones[prefix] = zone
            order.append(prefix)
    attempts = 0
    while len(order) < count and attempts < 100 * count:
        attempts += 1
        parent = rng.choice(order)
        child = parent + str(rng.randint(0, 9))
        if child in zones or len(child) > _MAX_PREFIX:
            continue
        zones[child] = _child_zone(rng, parent, zones[parent])
        order.append(child)
    return ZoneTable(
        name=rules_text.ZONE_TABLE,
        prefixes=tuple(sorted(zones.items())),
        description="被叫号码前缀 → 资费区 (longest prefix wins)",
    )


def _child_zone(rng: random.Random, parent: str, zone: str) -> str:
    if zone.startswith("intl_"):
        if parent == "00" or rng.random() < 0.15:
            return rng.choice(INTL_ZONES)
        return zone
    if zone in ("national", "local"):
        return "local" if rng.random() < (0.3 if zone == "national" else 0.7) else "national"
    return "mobile"
