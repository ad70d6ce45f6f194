"""Checks a definition against the catalog it will live in, collecting every violation.

Used on every write (against the working draft) and again on publish (against the content of
the version being built), so a version never refers to something it does not contain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from catalog.areas import AreaTree
from catalog.content import CatalogContent, EntityKey
from catalog.errors import Violation
from catalog.model import (
    Area,
    AreaLevel,
    Business,
    Combo,
    Definition,
    EntityKind,
    LifecycleStatus,
    Product,
    ProductKind,
    RuleSource,
    TimePeriod,
    ZoneTable,
)

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
AREA_CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
PATH_PATTERN = re.compile(r"[\w\-.]+(/[\w\-.]+)*\.tariff")
PREFIX_PATTERN = re.compile(r"[0-9]{1,32}")
MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_SOURCE_BYTES = 1 << 20
MAX_LIST = 10_000


def _close_matches(word: str, candidates: Iterable[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


def check_code(
    code: str, where: str, pattern: re.Pattern[str] = CODE_PATTERN
) -> Iterator[Violation]:
    if not pattern.fullmatch(code):
        shape = "lower_snake ASCII, starting with a letter, at most 64 characters"
        if pattern is AREA_CODE_PATTERN:
            shape = "UPPER_SNAKE ASCII, starting with a letter, at most 32 characters"
        yield Violation(where, f"{code!r} is not a valid code ({shape})")


def _check_text(value: str, where: str, *, required: bool, limit: int) -> Iterator[Violation]:
    if required and not value.strip():
        yield Violation(where, "must not be empty")
    if len(value) > limit:
        yield Violation(where, f"is longer than {limit} characters")


def _check_unique(values: Iterable[str], where: str) -> Iterator[Violation]:
    seen: set[str] = set()
    items = list(values)
    if len(items) > MAX_LIST:
        yield Violation(where, f"has more than {MAX_LIST} items")
    for i, value in enumerate(items):
        if value in seen:
            yield Violation(f"{where}[{i}]", f"{value!r} is listed twice")
        seen.add(value)


def _check_period(period: TimePeriod, where: str) -> Iterator[Violation]:
    if period.start and period.end and period.end <= period.start:
        yield Violation(f"{where}.end", "must be later than start")


def check_rule_sources(
    sources: Iterable[RuleSource], where: str, taken: dict[str, str]
) -> Iterator[Violation]:
    """Paths well formed, unique in the catalog (`taken`: path -> owner label), text bounded."""
    seen: set[str] = set()
    for i, source in enumerate(sources):
        at = f"{where}[{i}]"
        if not PATH_PATTERN.fullmatch(source.path) or ".." in source.path.split("/"):
            yield Violation(
                f"{at}.path",
                f"{source.path!r} must be a relative path of letters, digits, '-', '_', '.' "
                "and '/' ending in .tariff",
            )
        if source.path in seen:
            yield Violation(f"{at}.path", f"{source.path!r} is attached twice")
        elif source.path in taken:
            yield Violation(
                f"{at}.path", f"{source.path!r} is already used by {taken[source.path]}"
            )
        seen.add(source.path)
        if len(source.text.encode("utf-8")) > MAX_SOURCE_BYTES:
            yield Violation(f"{at}.text", f"is larger than {MAX_SOURCE_BYTES} bytes")


def source_owners(content: CatalogContent, skip: tuple[EntityKind, str] | None) -> dict[str, str]:
    """Every attached rule source path -> who owns it, leaving out `skip`'s own sources."""
    owners: dict[str, str] = {}
    for key, source in content.all_rule_sources():
        if key is None:
            owners[source.path] = "the catalog"
        elif key != skip:
            owners[source.path] = f"{key[0].value} {key[1]!r}"
    return owners


class DefinitionChecker:
    """Checks definitions against one catalog (the draft, or a version being published)."""

    def __init__(self, content: CatalogContent, *, for_publish: bool = False) -> None:
        self.content = content
        self.tree = content.area_tree()
        self.for_publish = for_publish
        self._path_owners: dict[str, list[tuple[EntityKey | None, str]]] | None = None

    def _owners_of(self, definition: Definition) -> dict[str, str]:
        """`source_owners(content, definition's key)` for the definition's own paths only:
        the catalog's owners are indexed once, so checking every entity of an import is
        linear in the catalog rather than quadratic."""
        if self._path_owners is None:
            index: dict[str, list[tuple[EntityKey | None, str]]] = {}
            for key, source in self.content.all_rule_sources():
                label = "the catalog" if key is None else f"{key[0].value} {key[1]!r}"
                index.setdefault(source.path, []).append((key, label))
            self._path_owners = index
        skip = (definition.entity_kind, definition.code)
        owners: dict[str, str] = {}
        for source in definition.rule_sources:
            for key, label in reversed(self._path_owners.get(source.path, ())):
                if key is None or key != skip:
                    owners[source.path] = label  # the last owner wins, as in source_owners
                    break
        return owners

    def check(self, definition: Definition) -> list[Violation]:
        kind = definition.entity_kind.value
        found = list(check_code(definition.code, f"{kind}.code"))
        found += _check_text(definition.name, f"{kind}.name", required=True, limit=MAX_NAME)
        found += _check_text(
            definition.description, f"{kind}.description", required=False, limit=MAX_DESCRIPTION
        )
        if not self.for_publish:
            owners = self._owners_of(definition)
            found += check_rule_sources(definition.rule_sources, f"{kind}.rule_sources", owners)
        if isinstance(definition, Business):
            return found
        if isinstance(definition, Product):
            found += self._check_product(definition)
        else:
            found += self._check_combo(definition)
        return found

    # -- references -------------------------------------------------------------------

    def _status(self, kind: EntityKind, code: str) -> LifecycleStatus | None:
        return self.content.status_of(kind, code)

    def _missing(self, kind: EntityKind, code: str, where: str) -> Iterator[Violation]:
        status = self._status(kind, code)
        if status is None:
            codes = [c for k, c in self.content.entities if k is kind]
            yield Violation(where, f"unknown {kind.value} {code!r}{_close_matches(code, codes)}")
        elif status is LifecycleStatus.OBSOLETE:
            yield Violation(where, f"{kind.value} {code!r} is obsolete")

    def _offer_kind(self, code: str) -> EntityKind | None:
        for kind in (EntityKind.PRODUCT, EntityKind.COMBO):
            if self._status(kind, code) is not None:
                return kind
        return None

    def _missing_offer(self, code: str, where: str) -> Iterator[Violation]:
        kind = self._offer_kind(code)
        if kind is None:
            codes = [c for k, c in self.content.entities if k is not EntityKind.BUSINESS]
            yield Violation(
                where, f"unknown product or combo {code!r}{_close_matches(code, codes)}"
            )
        else:
            yield from self._missing(kind, code, where)

    def _check_area(self, code: str, where: str, owner: str) -> Iterator[Violation]:
        if code not in self.tree:
            yield Violation(where, f"unknown area {code!r}{_close_matches(code, self.tree.areas)}")
        elif owner in self.tree and not self.tree.contains(owner, code):
            yield Violation(where, f"area {code!r} is outside the owner area {owner!r}")

    def _check_offer_common(self, offer: Product | Combo, kind: str) -> Iterator[Violation]:
        owner = offer.owner_area_code
        if owner not in self.tree:
            yield Violation(
                f"{kind}.owner_area_code",
                f"unknown area {owner!r}{_close_matches(owner, self.tree.areas)}",
            )
        elif self.tree.areas[owner].level is AreaLevel.CITY:
            yield Violation(
                f"{kind}.owner_area_code", "must be the nation (HQ) or a province catalog"
            )
        yield from _check_unique(offer.area_codes, f"{kind}.area_codes")
        for i, code in enumerate(offer.area_codes):
            yield from self._check_area(code, f"{kind}.area_codes[{i}]", owner)
        for i, override in enumerate(offer.tariff_overrides):
            yield from self._check_area(
                override.area_code, f"{kind}.tariff_overrides[{i}].area_code", owner
            )
            if not override.tariff_plan.strip():
                yield Violation(f"{kind}.tariff_overrides[{i}].tariff_plan", "must not be empty")
        yield from _check_unique(
            [o.area_code for o in offer.tariff_overrides], f"{kind}.tariff_overrides"
        )
        yield from _check_unique(offer.channel_codes, f"{kind}.channel_codes")
        for i, code in enumerate(offer.channel_codes):
            if code not in self.content.channels:
                hint = _close_matches(code, self.content.channels)
                yield Violation(f"{kind}.channel_codes[{i}]", f"unknown channel {code!r}{hint}")
        segments = offer.audience.segment_codes
        yield from _check_unique(segments, f"{kind}.audience.segment_codes")
        for i, code in enumerate(segments):
            if code not in self.content.segments:
                hint = _close_matches(code, self.content.segments)
                yield Violation(
                    f"{kind}.audience.segment_codes[{i}]", f"unknown segment {code!r}{hint}"
                )
        yield from _check_period(offer.valid_for, f"{kind}.valid_for")
        yield from _check_unique(offer.requires_codes, f"{kind}.requires_codes")
        yield from _check_unique(offer.excludes_codes, f"{kind}.excludes_codes")
        for field, codes in (
            ("requires_codes", offer.requires_codes),
            ("excludes_codes", offer.excludes_codes),
        ):
            for i, code in enumerate(codes):
                where = f"{kind}.{field}[{i}]"
                if code == offer.code:
                    yield Violation(where, "an offer cannot refer to itself")
                else:
                    yield from self._missing_offer(code, where)
        for code in sorted(set(offer.requires_codes) & set(offer.excludes_codes)):
            yield Violation(f"{kind}.excludes_codes", f"{code!r} is both required and excluded")

    def _check_product(self, product: Product) -> Iterator[Violation]:
        yield from self._check_offer_common(product, "product")
        if not product.business_codes:
            yield Violation("product.business_codes", "a product needs at least one business")
        yield from _check_unique(product.business_codes, "product.business_codes")
        for i, code in enumerate(product.business_codes):
            yield from self._missing(EntityKind.BUSINESS, code, f"product.business_codes[{i}]")
        yield from _check_unique(product.base_product_codes, "product.base_product_codes")
        if product.kind is ProductKind.ADD_ON and not product.base_product_codes:
            yield Violation(
                "product.base_product_codes", "an add-on needs at least one base product"
            )
        if product.kind is ProductKind.MAIN and product.base_product_codes:
            yield Violation("product.base_product_codes", "only add-ons have base products")
        for i, code in enumerate(product.base_product_codes):
            where = f"product.base_product_codes[{i}]"
            if code == product.code:
                yield Violation(where, "an offer cannot refer to itself")
                continue
            missing = list(self._missing(EntityKind.PRODUCT, code, where))
            yield from missing
            base = self.content.get(EntityKind.PRODUCT, code)
            if not missing and base is not None:
                definition = base.definition
                if isinstance(definition, Product) and definition.kind is not ProductKind.MAIN:
                    yield Violation(where, f"base {code!r} is an add-on, not a main product")

    def _check_combo(self, combo: Combo) -> Iterator[Violation]:
        yield from self._check_offer_common(combo, "combo")
        if not combo.members and not combo.choice_groups:
            yield Violation("combo.members", "a combo needs at least one member")
        yield from _check_unique([m.offer_code for m in combo.members], "combo.members")
        for i, member in enumerate(combo.members):
            where = f"combo.members[{i}]"
            yield from self._check_member(combo, member.offer_code, f"{where}.offer_code")
            if member.min_count < 0 or member.max_count < 0 or member.default_count < 0:
                yield Violation(where, "counts must not be negative")
            if member.max_count and member.max_count < member.min_count:
                yield Violation(f"{where}.max_count", "must not be less than min_count")
            if member.upper == 0:
                yield Violation(where, "a member that can never be chosen (max 0)")
            if member.default_count and not (
                member.min_count <= member.default_count <= member.upper
            ):
                yield Violation(f"{where}.default_count", "must lie between min and max")
        yield from _check_unique([g.name for g in combo.choice_groups], "combo.choice_groups")
        for i, group in enumerate(combo.choice_groups):
            where = f"combo.choice_groups[{i}]"
            yield from check_code(group.name, f"{where}.name")
            if not group.offer_codes:
                yield Violation(f"{where}.offer_codes", "a choice group needs alternatives")
            yield from _check_unique(group.offer_codes, f"{where}.offer_codes")
            for j, code in enumerate(group.offer_codes):
                # value-added extras (亲情1+ "+ value-added services") are chosen in groups
                yield from self._check_member(
                    combo, code, f"{where}.offer_codes[{j}]", allow_add_on=True
                )
            if group.min_count < 0 or group.max_count < 0:
                yield Violation(where, "counts must not be negative")
            if group.max_count and group.max_count < group.min_count:
                yield Violation(f"{where}.max_count", "must not be less than min_count")
            if group.min_count > len(group.offer_codes):
                yield Violation(
                    f"{where}.min_count", "asks for more picks than the group has alternatives"
                )
        yield from self._check_cycle(combo)

    def _check_member(
        self, combo: Combo, code: str, where: str, *, allow_add_on: bool = False
    ) -> Iterator[Violation]:
        if code == combo.code:
            yield Violation(where, "a combo cannot contain itself")
            return
        missing = list(self._missing_offer(code, where))
        yield from missing
        if missing:
            return
        member = self.content.get(EntityKind.PRODUCT, code)
        if member is not None:
            definition = member.definition
            if (
                isinstance(definition, Product)
                and definition.kind is not ProductKind.MAIN
                and not allow_add_on
            ):
                yield Violation(
                    where,
                    f"{code!r} is an add-on; member slots take main products "
                    "(add-ons go in a choice group)",
                )

    def _check_cycle(self, combo: Combo) -> Iterator[Violation]:
        """Nested combos must not contain, directly or not, the combo being written."""
        graph: dict[str, tuple[str, ...]] = {
            c.code: c.member_codes() for c in self.content.combos()
        }
        graph[combo.code] = combo.member_codes()
        path: list[str] = []
        on_path: set[str] = set()
        done: set[str] = set()

        def visit(code: str) -> list[str] | None:
            if code in on_path:
                return [*path[path.index(code) :], code]
            if code in done or code not in graph:
                return None
            path.append(code)
            on_path.add(code)
            for child in graph[code]:
                cycle = visit(child)
                if cycle:
                    return cycle
            path.pop()
            on_path.discard(code)
            done.add(code)
            return None

        cycle = visit(combo.code)
        if cycle:
            yield Violation("combo.members", "combos contain each other: " + " -> ".join(cycle))


def check_areas(areas: Iterable[Area], existing: Iterable[Area]) -> list[Violation]:
    """A batch of areas merged into the existing tree must still be one tree."""
    incoming = list(areas)
    merged = {a.code: a for a in existing}
    found: list[Violation] = []
    for i, area in enumerate(incoming):
        where = f"areas[{i}]"
        found += check_code(area.code, f"{where}.code", AREA_CODE_PATTERN)
        found += _check_text(area.name, f"{where}.name", required=True, limit=MAX_NAME)
        merged[area.code] = area
    found += _check_unique([a.code for a in incoming], "areas")
    for i, area in enumerate(incoming):
        where = f"areas[{i}]"
        if area.level is AreaLevel.NATION:
            if area.parent_code:
                found.append(Violation(f"{where}.parent_code", "the nation has no parent"))
            continue
        parent = merged.get(area.parent_code)
        if parent is None:
            found.append(
                Violation(f"{where}.parent_code", f"unknown parent area {area.parent_code!r}")
            )
            continue
        expected = AreaLevel.NATION if area.level is AreaLevel.PROVINCE else AreaLevel.PROVINCE
        if parent.level is not expected:
            found.append(
                Violation(
                    f"{where}.parent_code",
                    f"a {area.level.value} belongs to a {expected.value}, "
                    f"not a {parent.level.value}",
                )
            )
    nations = [a.code for a in merged.values() if a.level is AreaLevel.NATION]
    if len(nations) > 1:
        found.append(Violation("areas", f"only one nation allowed, found {', '.join(nations)}"))
    for code in AreaTree(merged.values()).cycle_members():
        found.append(Violation("areas", f"area {code!r} is its own ancestor"))
    return found


def check_zone_table(table: ZoneTable) -> list[Violation]:
    found = list(check_code(table.name, "table.name"))
    seen: set[str] = set()
    for i, (prefix, zone) in enumerate(table.prefixes):
        where = f"table.prefixes[{i}]"
        if not PREFIX_PATTERN.fullmatch(prefix):
            found.append(Violation(f"{where}.prefix", f"{prefix!r} must be 1 to 32 digits"))
        if prefix in seen:
            found.append(Violation(f"{where}.prefix", f"{prefix!r} is listed twice"))
        seen.add(prefix)
        found += check_code(zone, f"{where}.zone")
        if len(found) > 100:
            found.append(Violation("table.prefixes", "too many problems; stopped after 100"))
            break
    return found


def validate_definition(content: CatalogContent, definition: Definition) -> list[Violation]:
    """One definition as the draft RPCs write it, checked against `content` (the draft) by
    the checker `validate_catalog` runs on every entity; paths as the request names them."""
    return DefinitionChecker(content).check(definition)


def validate_catalog(
    content: CatalogContent,
    incoming: CatalogContent | None = None,
    keys: Iterable[EntityKey] | None = None,
    *,
    existing_areas: Iterable[Area] = (),
    for_publish: bool = False,
) -> list[Violation]:
    """The one validator of catalog data, collecting every violation.

    `content` is the catalog as it will be (the draft after an import, the version being
    published); `incoming` is what is written into it (a bundle; default: all of `content`),
    whose areas (merged into `existing_areas`), zone tables and rule sources are checked;
    `keys` are the entities whose definitions are checked against `content` (default: every
    entity of `incoming`). Import calls it on the merged draft, `tariff check BUNDLE` on the
    bundle as an import into an empty store would (`catalog.services.check_bundle`), publish
    on the version being built (`for_publish`: only published things may be referred to);
    the draft RPCs check their one definition with the same checker (`validate_definition`).
    """
    incoming = content if incoming is None else incoming
    found = check_areas(incoming.areas.values(), existing_areas)
    for name, table in incoming.zone_tables.items():
        found += [
            Violation(f"zone table {name!r}: {v.field}", v.description)
            for v in check_zone_table(table)
        ]
    checker = DefinitionChecker(content, for_publish=for_publish)
    for key in incoming.entities if keys is None else keys:
        kind, code = key
        found += [
            Violation(f"{kind.value}:{code}: {v.field}", v.description)
            for v in checker.check(content.entities[key].definition)
        ]
    offers = {code for kind, code in incoming.entities if kind is EntityKind.PRODUCT}
    for kind, code in incoming.entities:
        if kind is EntityKind.COMBO and code in offers:
            found.append(Violation(f"combo:{code}", f"code is already used by product {code!r}"))
    found += [
        Violation(f"catalog: {v.field}", v.description)
        for v in check_rule_sources(incoming.rule_sources, "rule_sources", {})
    ]
    if for_publish:
        found += _shared_source_paths(content)
    return found


def _shared_source_paths(content: CatalogContent) -> list[Violation]:
    owners: dict[str, str] = {}
    found: list[Violation] = []
    for key, source in content.all_rule_sources():
        owner = "the catalog" if key is None else f"{key[0].value} {key[1]!r}"
        if source.path in owners:
            found.append(
                Violation(
                    f"rule source {source.path!r}",
                    f"attached to both {owners[source.path]} and {owner}",
                )
            )
        owners[source.path] = owner
    return found


def check_publishable(content: CatalogContent) -> list[Violation]:
    """Every entity of a version being built must be consistent with that version alone
    (`validate_catalog` with `for_publish`)."""
    return validate_catalog(content, for_publish=True)
