"""The catalog's domain model: plain immutable values, no I/O, no SQLAlchemy, pydantic or gRPC.

Definitions (Business, Product, Combo) are what a product manager writes; `EntityState` is the
bookkeeping the store keeps beside each one (lifecycle, revision, version). Everything is frozen
so a published snapshot can be shared by concurrent requests without copying.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class LifecycleStatus(enum.Enum):
    """TM Forum TMF620 lifecycle names; see `catalog.lifecycle` for the transitions."""

    IN_DESIGN = "in_design"
    IN_TEST = "in_test"
    LAUNCHED = "launched"
    RETIRED = "retired"
    OBSOLETE = "obsolete"


class BusinessKind(enum.Enum):
    BASIC = "basic"
    VALUE_ADDED = "value_added"
    THIRD_PARTY = "third_party"


class UsageMeasure(enum.Enum):
    """How usage of a business is counted when rated (ms, bytes or events)."""

    NONE = "none"
    DURATION = "duration"
    VOLUME = "volume"
    COUNT = "count"


class ProductKind(enum.Enum):
    MAIN = "main"
    ADD_ON = "add_on"


class CustomerType(enum.Enum):
    PERSONAL = "personal"
    ENTERPRISE = "enterprise"


class AreaLevel(enum.Enum):
    NATION = "nation"
    PROVINCE = "province"
    CITY = "city"


class ChannelKind(enum.Enum):
    HALL = "hall"
    CALL_CENTER = "call_center"
    SELF_SERVICE = "self_service"
    SMS = "sms"
    PARTNER = "partner"
    ACCOUNT_MANAGER = "account_manager"


class EntityKind(enum.Enum):
    BUSINESS = "business"
    PRODUCT = "product"
    COMBO = "combo"


@dataclass(frozen=True, slots=True)
class RuleSource:
    """DSL text attached to the catalog or to one entity; `path` is unique in the catalog."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class TimePeriod:
    """TM Forum validFor: `start` inclusive, `end` exclusive, None = open. Always tz-aware."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, instant: datetime) -> bool:
        if self.start is not None and instant < self.start:
            return False
        return self.end is None or instant < self.end


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may buy: empty tuples mean anyone."""

    customer_types: tuple[CustomerType, ...] = ()
    segment_codes: tuple[str, ...] = ()

    def admits_segment(self, segment_code: str) -> bool:
        return not self.segment_codes or segment_code in self.segment_codes


@dataclass(frozen=True, slots=True)
class AreaTariffOverride:
    """A province's own tariff plan for an offer, in force in that area and below it."""

    area_code: str
    tariff_plan: str


@dataclass(frozen=True, slots=True)
class Business:
    """Business (业务): the smallest element a tariff can be attached to."""

    code: str
    name: str
    kind: BusinessKind
    usage_measure: UsageMeasure
    unit: str = ""
    description: str = ""
    rule_sources: tuple[RuleSource, ...] = ()

    entity_kind = EntityKind.BUSINESS


@dataclass(frozen=True, slots=True)
class Product:
    """Product (产品): businesses plus the six marketing attributes."""

    code: str
    name: str
    kind: ProductKind
    business_codes: tuple[str, ...]
    owner_area_code: str
    category: str = ""
    description: str = ""
    base_product_codes: tuple[str, ...] = ()
    audience: Audience = field(default_factory=Audience)
    area_codes: tuple[str, ...] = ()
    tariff_plan: str = ""
    tariff_overrides: tuple[AreaTariffOverride, ...] = ()
    channel_codes: tuple[str, ...] = ()
    service_level: str = ""
    resources: tuple[str, ...] = ()
    valid_for: TimePeriod = field(default_factory=TimePeriod)
    requires_codes: tuple[str, ...] = ()
    excludes_codes: tuple[str, ...] = ()
    rule_sources: tuple[RuleSource, ...] = ()

    entity_kind = EntityKind.PRODUCT


@dataclass(frozen=True, slots=True)
class ComboMember:
    """A member slot: `max_count` 0 means "same as min_count"."""

    offer_code: str
    min_count: int = 1
    max_count: int = 0
    default_count: int = 0

    @property
    def upper(self) -> int:
        return self.max_count or self.min_count


@dataclass(frozen=True, slots=True)
class ChoiceGroup:
    """Pick between min_count and max_count (0 = min_count) of `offer_codes`."""

    name: str
    offer_codes: tuple[str, ...]
    min_count: int = 1
    max_count: int = 0

    @property
    def upper(self) -> int:
        return self.max_count or self.min_count


@dataclass(frozen=True, slots=True)
class Combo:
    """Combo product (组合产品): a bundle of main products (or nested combos)."""

    code: str
    name: str
    owner_area_code: str
    members: tuple[ComboMember, ...]
    category: str = ""
    description: str = ""
    choice_groups: tuple[ChoiceGroup, ...] = ()
    audience: Audience = field(default_factory=Audience)
    area_codes: tuple[str, ...] = ()
    tariff_plan: str = ""
    tariff_overrides: tuple[AreaTariffOverride, ...] = ()
    channel_codes: tuple[str, ...] = ()
    service_level: str = ""
    valid_for: TimePeriod = field(default_factory=TimePeriod)
    requires_codes: tuple[str, ...] = ()
    excludes_codes: tuple[str, ...] = ()
    rule_sources: tuple[RuleSource, ...] = ()

    entity_kind = EntityKind.COMBO

    def member_codes(self) -> tuple[str, ...]:
        """Every offer the combo can contain: member slots and choice-group alternatives."""
        codes = [m.offer_code for m in self.members]
        for group in self.choice_groups:
            codes.extend(group.offer_codes)
        return tuple(dict.fromkeys(codes))


Offer = Product | Combo
Definition = Business | Product | Combo


@dataclass(frozen=True, slots=True)
class Area:
    """A node of the sales-area tree: nation -> province -> city."""

    code: str
    name: str
    level: AreaLevel
    parent_code: str = ""


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    name: str
    kind: ChannelKind


@dataclass(frozen=True, slots=True)
class Segment:
    code: str
    name: str
    customer_type: CustomerType | None = None


@dataclass(frozen=True, slots=True)
class ZoneTable:
    """Destination prefixes -> zone name; `prefixes` sorted by prefix, each prefix once."""

    name: str
    prefixes: tuple[tuple[str, str], ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class EntityState:
    """Bookkeeping of one entity's working copy.

    `revision` is the optimistic-concurrency token (+1 on every write); `version` counts
    published contents (0 = never published); `published` is the content of the latest
    published version, kept so that an in-progress redesign does not leak into a publish.
    """

    status: LifecycleStatus
    revision: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One entity of the working draft: its definition, state and last published content."""

    definition: Definition
    state: EntityState
    published: Definition | None = None
    published_status: LifecycleStatus | None = None

    @property
    def kind(self) -> EntityKind:
        return self.definition.entity_kind

    @property
    def code(self) -> str:
        return self.definition.code


@dataclass(frozen=True, slots=True)
class VersionedEntity:
    """An entity as it stands in a published catalog version."""

    definition: Definition
    status: LifecycleStatus
    version: int


@dataclass(frozen=True, slots=True)
class CatalogVersionInfo:
    """Header of a published version; its content lives in `CatalogContent`."""

    number: int
    effective_from: datetime
    published_at: datetime
    description: str
    content_hash: str
    business_count: int
    product_count: int
    combo_count: int
