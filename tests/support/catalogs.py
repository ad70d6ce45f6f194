"""A small but realistic carrier catalog for tests that need a whole `CatalogContent`.

A national catalog (CN) with two provincial companies below it, the usual sales channels and
customer segments, the basic businesses of a mobile/fixed/broadband carrier, a handful of
products (a youth plan, broadband, a caller-ID add-on, a campus card owned by Qinghai, the
family plan 亲情1+), a family combo, a destination zone table and rule sources in Chinese.
Every reference resolves, so the content is also valid for `catalog.validation`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from catalog.content import CatalogContent
from catalog.model import (
    Area,
    AreaLevel,
    AreaTariffOverride,
    Audience,
    Business,
    BusinessKind,
    Channel,
    ChannelKind,
    Combo,
    ComboMember,
    CustomerType,
    Definition,
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

LAUNCHED = LifecycleStatus.LAUNCHED
STARTER = Path(__file__).resolve().parents[2] / "examples" / "starter"


def _starter(path: str) -> RuleSource:
    """Rule texts live once, in the starter bundle, which `tariff check` keeps valid."""
    return RuleSource(path, (STARTER / path).read_text(encoding="utf-8"))


AREAS = (
    Area("CN", "中国", AreaLevel.NATION),
    Area("GD", "广东", AreaLevel.PROVINCE, parent_code="CN"),
    Area("GD_SZ", "深圳", AreaLevel.CITY, parent_code="GD"),
    Area("GD_GZ", "广州", AreaLevel.CITY, parent_code="GD"),
    Area("QH", "青海", AreaLevel.PROVINCE, parent_code="CN"),
    Area("QH_XN", "西宁", AreaLevel.CITY, parent_code="QH"),
    Area("BJ", "北京", AreaLevel.PROVINCE, parent_code="CN"),
)

CHANNELS = (
    Channel("hall", "营业厅", ChannelKind.HALL),
    Channel("call_center", "10010 客服热线", ChannelKind.CALL_CENTER),
    Channel("web", "网上营业厅", ChannelKind.SELF_SERVICE),
    Channel("sms", "短信营业厅", ChannelKind.SMS),
    Channel("agent", "代理商", ChannelKind.PARTNER),
    Channel("account_manager", "客户经理", ChannelKind.ACCOUNT_MANAGER),
)

SEGMENTS = (
    Segment("personal", "个人客户", CustomerType.PERSONAL),
    Segment("family", "家庭客户", CustomerType.PERSONAL),
    Segment("youth", "新势力 (15–26 岁)", CustomerType.PERSONAL),
    Segment("vip", "世界风高端客户", CustomerType.PERSONAL),
    Segment("enterprise", "集团客户", CustomerType.ENTERPRISE),
)

CN_ZONES = ZoneTable(
    name="cn_zones",
    description="被叫号码前缀 → 资费区 (longest prefix wins)",
    prefixes=(
        ("00", "international"),
        ("010", "national"),
        ("020", "national"),
        ("0755", "national"),
        ("0971", "national"),
        ("130", "mobile"),
        ("1380", "mobile"),
        ("1390", "mobile"),
    ),
)

COMMON_RULES = _starter("rules/common.tariff")

HOLIDAY_RULES = _starter("rules/holidays.tariff")


def _business(
    code: str, name: str, kind: BusinessKind, measure: UsageMeasure, unit: str = ""
) -> Business:
    return Business(code=code, name=name, kind=kind, usage_measure=measure, unit=unit)


BUSINESSES = (
    _business("local_voice", "本地通话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
    _business("ld_voice", "长途通话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
    _business("mobile_data", "移动数据", BusinessKind.BASIC, UsageMeasure.VOLUME, "MB"),
    _business("sms", "短信", BusinessKind.BASIC, UsageMeasure.COUNT, "message"),
    _business("caller_id", "来电显示", BusinessKind.VALUE_ADDED, UsageMeasure.NONE),
    _business("broadband_month", "宽带包月", BusinessKind.BASIC, UsageMeasure.NONE, "month"),
    _business("installation", "初装", BusinessKind.BASIC, UsageMeasure.NONE),
    _business("fixed_line", "固定电话", BusinessKind.BASIC, UsageMeasure.DURATION, "minute"),
)

MOBILE_BUSINESSES = ("local_voice", "ld_voice", "mobile_data", "sms")

MOBILE_BASIC = Product(
    code="mobile_basic",
    name="如意通 基础套餐",
    kind=ProductKind.MAIN,
    category="mobile",
    business_codes=MOBILE_BUSINESSES,
    owner_area_code="CN",
    area_codes=("CN",),
    tariff_plan="mobile_basic",
    tariff_overrides=(AreaTariffOverride("GD", "mobile_basic_gd"),),
)

YOUTH_PLAN = Product(
    code="youth_plan",
    name="新势力 39",
    kind=ProductKind.MAIN,
    category="mobile",
    description="15–26 岁青年客户套餐, 含 1 GB 国内流量",
    business_codes=MOBILE_BUSINESSES,
    owner_area_code="CN",
    audience=Audience((CustomerType.PERSONAL,), ("youth",)),
    area_codes=("CN",),
    tariff_plan="youth_39",
    channel_codes=("hall", "web", "sms", "agent"),
    valid_for=TimePeriod(start=datetime(2026, 1, 1, tzinfo=UTC)),
    rule_sources=(_starter("products/youth_plan.tariff"),),
)

BROADBAND = Product(
    code="broadband_basic",
    name="宽带包月 70 元",
    kind=ProductKind.MAIN,
    category="broadband",
    business_codes=("broadband_month", "installation"),
    owner_area_code="CN",
    area_codes=("GD", "BJ"),
    tariff_plan="broadband_70",
    channel_codes=("hall", "call_center", "web"),
    service_level="装机 48 小时内",
    resources=("address_in_installable_range",),
    rule_sources=(_starter("products/broadband_basic.tariff"),),
)

CALLER_ID = Product(
    code="caller_id_addon",
    name="来电显示",
    kind=ProductKind.ADD_ON,
    category="value_added",
    business_codes=("caller_id",),
    owner_area_code="CN",
    base_product_codes=("mobile_basic",),
    area_codes=("CN",),
    tariff_plan="caller_id_6",
)

QH_CAMPUS_CARD = Product(
    code="qh_campus_card",
    name="青海校园卡",
    kind=ProductKind.MAIN,
    category="mobile",
    description="西宁市内网内通话免费",
    business_codes=("local_voice", "mobile_data", "sms"),
    owner_area_code="QH",
    audience=Audience(segment_codes=("youth",)),
    area_codes=("QH_XN",),
    tariff_plan="qh_campus",
    channel_codes=("hall", "agent"),
    excludes_codes=("youth_plan",),
    rule_sources=(_starter("products/qh_campus_card.tariff"),),
)

FAMILY_PLAN = Product(
    code="family_plan",
    name="亲情1+",
    kind=ProductKind.MAIN,
    category="mobile",
    business_codes=MOBILE_BUSINESSES,
    owner_area_code="CN",
    audience=Audience((CustomerType.PERSONAL,), ("family",)),
    area_codes=("CN",),
    tariff_plan="family_mobile",
)

FIXED_LINE = Product(
    code="fixed_line_basic",
    name="固定电话",
    kind=ProductKind.MAIN,
    category="fixed",
    business_codes=("fixed_line", "installation"),
    owner_area_code="CN",
    area_codes=("CN",),
    tariff_plan="fixed_line",
)

FAMILY_BUNDLE = Combo(
    code="family_bundle",
    name="亲情1+ 融合套餐",
    owner_area_code="CN",
    category="family",
    description="固话 + 宽带 + 1 至 3 张手机卡, 一张家庭账单",
    members=(
        ComboMember("fixed_line_basic"),
        ComboMember("broadband_basic"),
        ComboMember("family_plan", min_count=1, max_count=3, default_count=2),
    ),
    audience=Audience(segment_codes=("family",)),
    area_codes=("GD", "BJ"),
    tariff_plan="family_bundle",
    channel_codes=("hall", "call_center", "account_manager"),
    rule_sources=(_starter("combos/family_bundle.tariff"),),
)

DEFINITIONS: tuple[Definition, ...] = (
    *BUSINESSES,
    MOBILE_BASIC,
    YOUTH_PLAN,
    BROADBAND,
    CALLER_ID,
    QH_CAMPUS_CARD,
    FAMILY_PLAN,
    FIXED_LINE,
    FAMILY_BUNDLE,
)


def sample_content(status: LifecycleStatus = LAUNCHED, version: int = 1) -> CatalogContent:
    """The sample catalog, every entity with the same status and version."""
    return CatalogContent.build(
        areas={a.code: a for a in AREAS},
        channels={c.code: c for c in CHANNELS},
        segments={s.code: s for s in SEGMENTS},
        zone_tables={CN_ZONES.name: CN_ZONES},
        rule_sources=(COMMON_RULES, HOLIDAY_RULES),
        entities={
            (d.entity_kind, d.code): VersionedEntity(d, status, version) for d in DEFINITIONS
        },
    )
