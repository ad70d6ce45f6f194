"""What rules may refer to: the catalog's names (`CatalogNames`) and one module's own
declarations (`Scope`).

`CatalogNames` is a plain frozen description with no dependency on `catalog`: another module
builds it from a catalog's content; tests build it by hand with `CatalogNames.of(...)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar

from dsl.nodes import (
    AttributeDecl,
    BandsDecl,
    CalendarDecl,
    Example,
    Module,
    Node,
    OfferDecl,
    PlanDecl,
    ZonesDecl,
)

__all__ = [
    "AreaName",
    "CatalogNames",
    "GroupSlot",
    "MemberSlot",
    "OfferKind",
    "OfferName",
    "Scope",
    "UsageMeasure",
]

OfferKind = Literal["main", "add_on", "combo"]
UsageMeasure = Literal["duration", "volume", "count", "none"]


K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T", bound=Node)


def _frozen(items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> Mapping[K, V]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True)
class AreaName:
    """An area code and its parent's ("" for the root)."""

    code: str
    parent: str = ""


@dataclass(frozen=True, slots=True)
class MemberSlot:
    """A combo's structural member: `low`..`high` lines of `offer`."""

    offer: str
    low: int = 1
    high: int = 1


@dataclass(frozen=True, slots=True)
class GroupSlot:
    """A combo's choice group: `low`..`high` lines taken among `offers`."""

    name: str
    offers: tuple[str, ...]
    low: int = 1
    high: int = 1


@dataclass(frozen=True, slots=True)
class OfferName:
    """An offer: its kind, its tariff plan ("" when none) and, for combos, its structure."""

    code: str
    kind: OfferKind = "main"
    plan: str = ""
    members: tuple[MemberSlot, ...] = ()
    groups: tuple[GroupSlot, ...] = ()

    def member_codes(self) -> frozenset[str]:
        codes = {m.offer for m in self.members}
        for group in self.groups:
            codes.update(group.offers)
        return frozenset(codes)


@dataclass(frozen=True, slots=True)
class CatalogNames:
    """Everything of the catalog rules may name. Build with `of(...)` or `empty()`."""

    areas: Mapping[str, str] = field(default_factory=_frozen)  # code -> parent code
    channels: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    offers: Mapping[str, OfferName] = field(default_factory=_frozen)
    businesses: Mapping[str, UsageMeasure] = field(default_factory=_frozen)
    zone_tables: Mapping[str, frozenset[str]] = field(default_factory=_frozen)  # -> zone names
    plans: frozenset[str] = frozenset()  # plans referenced by offers' tariff_plan
    #: offers by the plan they use, in `offers` order (derived: checking every plan of a
    #: 10k-offer catalog scanned every offer per plan)
    by_plan: Mapping[str, tuple[OfferName, ...]] = field(
        init=False, repr=False, compare=False, default_factory=_frozen
    )

    def __post_init__(self) -> None:
        users: dict[str, list[OfferName]] = {}
        for offer in self.offers.values():
            users.setdefault(offer.plan, []).append(offer)
        by_plan = MappingProxyType({plan: tuple(found) for plan, found in users.items()})
        object.__setattr__(self, "by_plan", by_plan)

    @classmethod
    def empty(cls) -> CatalogNames:
        return cls()

    @classmethod
    def of(
        cls,
        *,
        areas: Iterable[AreaName | str] = (),
        channels: Iterable[str] = (),
        segments: Iterable[str] = (),
        offers: Iterable[OfferName] = (),
        businesses: Mapping[str, UsageMeasure] | Iterable[tuple[str, UsageMeasure]] = (),
        zone_tables: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]] = (),
        plans: Iterable[str] = (),
    ) -> CatalogNames:
        """`areas` as `AreaName`s (or bare codes for roots); `plans` adds to the plans the
        offers name."""
        area_map: dict[str, str] = {}
        for area in areas:
            node = AreaName(area) if isinstance(area, str) else area
            area_map[node.code] = node.parent
        offer_map = {offer.code: offer for offer in offers}
        tables = zone_tables.items() if isinstance(zone_tables, Mapping) else zone_tables
        plan_names = set(plans) | {o.plan for o in offer_map.values() if o.plan}
        return cls(
            areas=_frozen(area_map),
            channels=frozenset(channels),
            segments=frozenset(segments),
            offers=_frozen(offer_map),
            businesses=_frozen(businesses),
            zone_tables=_frozen((name, frozenset(zones)) for name, zones in tables),
            plans=frozenset(plan_names),
        )

    def lineage(self, area: str) -> tuple[str, ...]:
        """The area then its ancestors (bounded: a cycle in the data stops the walk)."""
        chain: list[str] = []
        current = area
        while current and current in self.areas and current not in chain:
            chain.append(current)
            current = self.areas[current]
        return tuple(chain)

    def offers_of_kind(self, *kinds: OfferKind) -> list[str]:
        return sorted(code for code, offer in self.offers.items() if offer.kind in kinds)

    def combos_using_plan(self, plan: str) -> list[OfferName]:
        return [o for o in self.by_plan.get(plan, ()) if o.kind == "combo"]

    def offers_using_plan(self, plan: str) -> list[OfferName]:
        return list(self.by_plan.get(plan, ()))

    def all_zones(self) -> frozenset[str]:
        found: set[str] = set()
        for zones in self.zone_tables.values():
            found |= zones
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a module (or, merged, a whole rule set) declares, by name. The first declaration
    of a name wins; `duplicates` lists the later ones (kind, name, node)."""

    offers: Mapping[str, OfferDecl] = field(default_factory=_frozen)
    plans: Mapping[str, PlanDecl] = field(default_factory=_frozen)
    calendars: Mapping[str, CalendarDecl] = field(default_factory=_frozen)
    bands: Mapping[str, BandsDecl] = field(default_factory=_frozen)
    zones: Mapping[str, ZonesDecl] = field(default_factory=_frozen)
    attributes: Mapping[str, AttributeDecl] = field(default_factory=_frozen)  # "customer.x"
    examples: Mapping[str, Example] = field(default_factory=_frozen)
    duplicates: tuple[tuple[str, str, Node, str], ...] = ()

    @classmethod
    def of(cls, module: Module) -> Scope:
        return cls.merge([module])

    @classmethod
    def merge(cls, modules: Iterable[Module]) -> Scope:
        """The declarations of several modules; duplicates across them are listed too (with
        the module path of the later one, in `duplicates`)."""
        tables: dict[str, dict[str, Node]] = {
            kind: {}
            for kind in ("offer", "plan", "calendar", "bands", "zones", "attribute", "example")
        }
        duplicates: list[tuple[str, str, Node, str]] = []

        path = ""

        def add(kind: str, name: str, node: Node) -> None:
            table = tables[kind]
            if name in table:
                duplicates.append((kind, name, node, path))
            else:
                table[name] = node

        for module in modules:
            path = module.path
            for decl in module.declarations:
                if isinstance(decl, OfferDecl):
                    add("offer", decl.code, decl)
                    for example in decl.examples:
                        add("example", example.name, example)
                elif isinstance(decl, PlanDecl):
                    add("plan", decl.name, decl)
                    for example in decl.examples:
                        add("example", example.name, example)
                elif isinstance(decl, CalendarDecl):
                    add("calendar", decl.name, decl)
                elif isinstance(decl, BandsDecl):
                    add("bands", decl.name, decl)
                elif isinstance(decl, ZonesDecl):
                    add("zones", decl.name, decl)
                elif isinstance(decl, AttributeDecl):
                    add("attribute", f"{decl.owner}.{decl.name}", decl)
                else:
                    add("example", decl.name, decl)
        return cls(
            offers=_typed(tables["offer"], OfferDecl),
            plans=_typed(tables["plan"], PlanDecl),
            calendars=_typed(tables["calendar"], CalendarDecl),
            bands=_typed(tables["bands"], BandsDecl),
            zones=_typed(tables["zones"], ZonesDecl),
            attributes=_typed(tables["attribute"], AttributeDecl),
            examples=_typed(tables["example"], Example),
            duplicates=tuple(duplicates),
        )


def _typed(table: Mapping[str, Node], kind: type[T]) -> Mapping[str, T]:
    return _frozen((name, node) for name, node in table.items() if isinstance(node, kind))
