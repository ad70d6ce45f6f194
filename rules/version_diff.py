"""What changed between two catalogs as a reviewer reads it: per offer, its prices, its
eligibility and its composition, then the rule files line by line (`tariff diff`, the
DiffCatalogVersions RPC and the console's diff page all call `version_diff`).

Rules are compared as syntax trees (spans and comments are not part of a node's equality),
so re-formatting a file changes its lines but no offer; what an item says is shown as its
source text with comments dropped and whitespace collapsed. An offer's prices are its plan
and overrides (catalog data) and the items of the plans they name: settings, prices, option
groups, alterations and usage blocks, each keyed by what names it. A file that does not
parse contributes no rules to either side (its lines still show).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from catalog import codec
from catalog.content import CatalogContent
from catalog.diff import Change, ChangeType, diff, to_json
from catalog.model import Combo, EntityKind, Product
from dsl import nodes as n
from dsl.diagnostics import DslError
from dsl.parser import parse

#: Context lines around each changed hunk of a rule file.
CONTEXT_LINES = 2


class Aspect(enum.Enum):
    PRICES = "prices"
    ELIGIBILITY = "eligibility"
    COMPOSITION = "composition"
    DETAILS = "details"  # names, descriptions and other catalog fields


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One item of an offer: `before`/`after` as written ("" when absent)."""

    aspect: Aspect
    item: str
    change_type: ChangeType
    before: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class OfferChange:
    code: str
    kind: str  # "product" or "combo"
    change_type: ChangeType
    items: tuple[ItemChange, ...] = ()


@dataclass(frozen=True, slots=True)
class FileChange:
    """A rule file that differs; `owner` is "kind:code", or "" for the catalog's own."""

    path: str
    owner: str
    change_type: ChangeType
    lines: tuple[str, ...]  # a unified diff without its two header lines


@dataclass(frozen=True, slots=True)
class VersionDiff:
    entities: tuple[Change, ...]
    offers: tuple[OfferChange, ...]
    files: tuple[FileChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.entities or self.offers or self.files)


def version_diff(before: CatalogContent, after: CatalogContent) -> VersionDiff:
    """Everything that differs from `before` to `after`, offers and files by code and path."""
    old, new = _Rules.of(before), _Rules.of(after)
    return VersionDiff(
        entities=tuple(diff(before, after)),
        offers=tuple(_offers(before, after, old, new)),
        files=tuple(_files(before, after)),
    )


# -- the rule sets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    """The offer blocks and plans of one catalog, with the text each came from."""

    offers: Mapping[str, tuple[n.OfferDecl, str]]
    plans: Mapping[str, tuple[n.PlanDecl, str]]

    @staticmethod
    def of(content: CatalogContent) -> _Rules:
        offers: dict[str, tuple[n.OfferDecl, str]] = {}
        plans: dict[str, tuple[n.PlanDecl, str]] = {}
        for _, source in content.all_rule_sources():
            try:
                module = parse(source.text, source.path)
            except DslError:
                continue
            for decl in module.declarations:
                if isinstance(decl, n.OfferDecl):
                    offers.setdefault(decl.code, (decl, source.text))
                elif isinstance(decl, n.PlanDecl):
                    plans.setdefault(decl.name, (decl, source.text))
        return _Rules(offers, plans)


def written(node: n.Node, text: str) -> str:
    """The node's source text, comments dropped and whitespace collapsed."""
    span = node.span
    lines = text.split("\n")[span.line - 1 : span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        lines = [lines[0][span.column - 1 : span.end_column - 1]]
    else:
        lines[0] = lines[0][span.column - 1 :]
        lines[-1] = lines[-1][: span.end_column - 1]
    return " ".join(" ".join(_uncommented(line).split()) for line in lines).strip()


def _uncommented(line: str) -> str:
    """The line up to a `#` outside a string or backquoted name."""
    quote, escaped = "", False
    for i, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in '"`':
            quote = char
        elif char == "#":
            return line[:i]
    return line


# -- offers -----------------------------------------------------------------------------------

_ELIGIBILITY_FIELDS = (
    "audience",
    "area_codes",
    "channel_codes",
    "valid_for",
    "requires_codes",
    "excludes_codes",
    "base_product_codes",
)
_COMPOSITION_FIELDS = ("members", "choice_groups")
_PRICE_FIELDS = ("tariff_plan", "tariff_overrides")
_SKIPPED_FIELDS = ("rule_sources", "code")

Offer = Product | Combo


def _offer_entities(content: CatalogContent) -> dict[str, tuple[str, Offer, str]]:
    """code -> (kind, definition, status)."""
    found: dict[str, tuple[str, Offer, str]] = {}
    for (kind, code), entity in content.entities.items():
        definition = entity.definition
        if kind is EntityKind.PRODUCT and isinstance(definition, Product):
            found[code] = ("product", definition, entity.status.value)
        elif kind is EntityKind.COMBO and isinstance(definition, Combo):
            found[code] = ("combo", definition, entity.status.value)
    return found


def _offers(
    before: CatalogContent, after: CatalogContent, old: _Rules, new: _Rules
) -> Iterator[OfferChange]:
    a, b = _offer_entities(before), _offer_entities(after)
    for code in sorted(a.keys() | b.keys()):
        if code not in b:
            yield OfferChange(code, a[code][0], ChangeType.REMOVED)
        elif code not in a:
            yield OfferChange(code, b[code][0], ChangeType.ADDED)
        else:
            items = tuple(_offer_items(code, a[code], b[code], old, new))
            if items:
                yield OfferChange(code, b[code][0], ChangeType.MODIFIED, items)


def _offer_items(
    code: str,
    before: tuple[str, Offer, str],
    after: tuple[str, Offer, str],
    old: _Rules,
    new: _Rules,
) -> Iterator[ItemChange]:
    _, old_offer, old_status = before
    _, new_offer, new_status = after
    if old_status != new_status:
        yield _item(Aspect.ELIGIBILITY, "status", old_status, new_status)
    yield from _catalog_fields(old_offer, new_offer)
    old_decl, new_decl = old.offers.get(code), new.offers.get(code)
    yield from _eligibility(old_decl, new_decl)
    yield from _composition(old_decl, new_decl)
    for label, old_plan, new_plan in _plan_pairs(old_offer, new_offer):
        yield from _plan_items(label, old.plans.get(old_plan), new.plans.get(new_plan))


def _item(aspect: Aspect, item: str, before: str, after: str) -> ItemChange:
    if not before:
        return ItemChange(aspect, item, ChangeType.ADDED, "", after)
    if not after:
        return ItemChange(aspect, item, ChangeType.REMOVED, before, "")
    return ItemChange(aspect, item, ChangeType.MODIFIED, before, after)


def _catalog_fields(before: Offer, after: Offer) -> Iterator[ItemChange]:
    names = [f for f in type(after).__dataclass_fields__ if f not in _SKIPPED_FIELDS]
    for name in names:
        old = getattr(before, name, None)
        new = getattr(after, name, None)
        if old == new:
            continue
        if name in _ELIGIBILITY_FIELDS:
            aspect = Aspect.ELIGIBILITY
        elif name in _COMPOSITION_FIELDS:
            aspect = Aspect.COMPOSITION
        elif name in _PRICE_FIELDS:
            aspect = Aspect.PRICES
        else:
            aspect = Aspect.DETAILS
        yield ItemChange(aspect, name, ChangeType.MODIFIED, _json(old), _json(new))


def _json(value: object) -> str:
    return "" if value is None else to_json(codec.encode(value))


#: Items by key: a node (shown as written) or a text of its own (settings).
Keyed = list[tuple[str, n.Node | str]]


def _keyed_changes(
    aspect: Aspect, old: Keyed, new: Keyed, old_text: str, new_text: str
) -> Iterator[ItemChange]:
    """Items matched by key, in the newer order (then the removed ones)."""
    a, b = dict(old), dict(new)
    order = [k for k, _ in new] + [k for k, _ in old if k not in b]
    for key in dict.fromkeys(order):
        x, y = a.get(key), b.get(key)
        if x is not None and y is not None and x == y:
            continue
        yield _item(aspect, key, _shown(x, old_text), _shown(y, new_text))


def _shown(value: n.Node | str | None, text: str) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else written(value, text)


def _eligibility(
    old: tuple[n.OfferDecl, str] | None, new: tuple[n.OfferDecl, str] | None
) -> Iterator[ItemChange]:
    old_keyed, new_keyed = _eligibility_keys(old), _eligibility_keys(new)
    yield from _keyed_changes(
        Aspect.ELIGIBILITY, old_keyed, new_keyed, old[1] if old else "", new[1] if new else ""
    )


def _eligibility_keys(decl: tuple[n.OfferDecl, str] | None) -> Keyed:
    if decl is None or decl[0].eligibility is None:
        return []
    block = decl[0].eligibility
    if block.mode == "all":
        return [(f"rule {r.name}", r) for r in block.rules]
    return [(f"first[{i}]", b) for i, b in enumerate(block.branches, start=1)]


def _composition(
    old: tuple[n.OfferDecl, str] | None, new: tuple[n.OfferDecl, str] | None
) -> Iterator[ItemChange]:
    """Composition rules have no names: a rule is kept when an equal one is on both sides."""
    a = list(old[0].composition.rules) if old and old[0].composition else []
    b = list(new[0].composition.rules) if new and new[0].composition else []
    old_text, new_text = old[1] if old else "", new[1] if new else ""
    for rule in a:
        if rule not in b:
            yield _item(Aspect.COMPOSITION, "rule", written(rule, old_text), "")
    for rule in b:
        if rule not in a:
            yield _item(Aspect.COMPOSITION, "rule", "", written(rule, new_text))


def _plan_pairs(before: Offer, after: Offer) -> Iterator[tuple[str, str, str]]:
    """(label, plan before, plan after): the offer's own plan, then each area's override."""
    yield "", before.tariff_plan, after.tariff_plan
    a = {o.area_code: o.tariff_plan for o in before.tariff_overrides}
    b = {o.area_code: o.tariff_plan for o in after.tariff_overrides}
    for area in sorted(a.keys() | b.keys()):
        yield f"{area}: ", a.get(area, ""), b.get(area, "")


def _plan_items(
    label: str, old: tuple[n.PlanDecl, str] | None, new: tuple[n.PlanDecl, str] | None
) -> Iterator[ItemChange]:
    keyed_old = [(label + k, v) for k, v in _plan_keys(old[0])] if old else []
    keyed_new = [(label + k, v) for k, v in _plan_keys(new[0])] if new else []
    yield from _keyed_changes(
        Aspect.PRICES, keyed_old, keyed_new, old[1] if old else "", new[1] if new else ""
    )


def _plan_keys(plan: n.PlanDecl) -> Keyed:
    keyed: Keyed = []
    for item in plan.items:
        if isinstance(item, n.Price):
            keyed.append((f"price {item.name}", item))
        elif isinstance(item, n.OptionGroup):
            keyed.append((f"option {item.name}", item))
        elif isinstance(item, n.Alteration):
            if item.name:
                keyed.append((f"{item.kind} {item.name}", item))
            else:
                target = (
                    f"{item.target.offer + '.' if item.target.offer else ''}{item.target.price}"
                )
                keyed.append((f"{item.kind} {target}", item))
        elif isinstance(item, n.Usage):
            keyed += _usage_keys(item)
        else:
            keyed.append((type(item).__name__.lower(), item))
    return keyed


def _usage_keys(usage: n.Usage) -> Keyed:
    """A usage block item by item: its settings, each rate (by its patterns and `when`),
    allowance, tier table, cap and rounding."""
    head = f"usage {usage.business}"
    settings = [
        f"zones {usage.zones}" if usage.zones else "",
        f"bands {usage.bands}" if usage.bands else "",
        f'time zone "{usage.time_zone}"' if usage.time_zone else "",
        "split at band edges" if usage.split else "",
    ]
    keyed: Keyed = [(head, "; ".join(s for s in settings if s) or "(no settings)")]
    seen: dict[str, int] = {}
    for rate in usage.rates:
        key = f"{head}: rate {rate.zone.text} {rate.band.text}"
        if rate.condition is not None:
            seen[key] = seen.get(key, 0) + 1
            key += f" when[{seen[key]}]"
        keyed.append((key, rate))
    keyed += [(f"{head}: allowance {a.name}", a) for a in usage.allowances]
    if usage.tiers is not None:
        keyed.append((f"{head}: tiers", usage.tiers))
    keyed += [(f"{head}: cap[{i}]", cap) for i, cap in enumerate(usage.caps, start=1)]
    if usage.rounding is not None:
        keyed.append((f"{head}: rounding", usage.rounding))
    return keyed


# -- rule files -------------------------------------------------------------------------------


def _sources(content: CatalogContent) -> dict[str, tuple[str, str]]:
    """path -> (owner, text)."""
    return {
        source.path: ("" if key is None else f"{key[0].value}:{key[1]}", source.text)
        for key, source in content.all_rule_sources()
    }


def _files(before: CatalogContent, after: CatalogContent) -> Iterator[FileChange]:
    a, b = _sources(before), _sources(after)
    for path in sorted(a.keys() | b.keys()):
        old, new = a.get(path), b.get(path)
        if old is not None and new is not None and old[1] == new[1]:
            continue
        if new is None:
            change, owner = ChangeType.REMOVED, old[0] if old else ""
        elif old is None:
            change, owner = ChangeType.ADDED, new[0]
        else:
            change, owner = ChangeType.MODIFIED, new[0]
        yield FileChange(
            path, owner, change, line_diff(old[1] if old else "", new[1] if new else "")
        )


def line_diff(before: str, after: str, context: int = CONTEXT_LINES) -> tuple[str, ...]:
    """A unified diff of two texts: `@@` hunk headers, then ` `, `-` and `+` lines."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=context)
    return tuple(line for i, line in enumerate(lines) if i >= 2)


def render_text(found: VersionDiff, before: str, after: str) -> Iterable[str]:
    """The diff for a terminal: offers first, then the other catalog changes, then files."""
    if found.empty:
        yield f"no differences between {before} and {after}"
        return
    for offer in found.offers:
        yield f"{offer.kind} {offer.code}: {offer.change_type.value}"
        for aspect in Aspect:
            items = [i for i in offer.items if i.aspect is aspect]
            if items:
                yield f"  {aspect.value}:"
            for item in items:
                yield "    " + _item_line(item)
    others = [c for c in found.entities if c.kind not in ("product", "combo")]
    if others:
        yield "catalog:"
        for change in others:
            yield f"  {change.kind} {change.code}: {change.change_type.value}"
            for f in change.fields:
                yield f"    {f.path}: {f.before or '(none)'} -> {f.after or '(none)'}"
    for file in found.files:
        owner = f" ({file.owner})" if file.owner else ""
        yield f"--- {file.path}{owner}: {file.change_type.value}"
        yield from file.lines


def _item_line(item: ItemChange) -> str:
    if item.change_type is ChangeType.ADDED:
        return f"+ {item.item}: {item.after}"
    if item.change_type is ChangeType.REMOVED:
        return f"- {item.item}: {item.before}"
    return f"~ {item.item}: {item.before} -> {item.after}"


def to_dict(found: VersionDiff) -> dict[str, object]:
    """`tariff diff --format json`: the RPC's answer in plain JSON."""
    return {
        "offers": [
            {
                "code": o.code,
                "kind": o.kind,
                "change": o.change_type.value,
                "items": [
                    {
                        "aspect": i.aspect.value,
                        "item": i.item,
                        "change": i.change_type.value,
                        "before": i.before,
                        "after": i.after,
                    }
                    for i in o.items
                ],
            }
            for o in found.offers
        ],
        "changes": [
            {
                "kind": c.kind,
                "code": c.code,
                "change": c.change_type.value,
                "fields": [
                    {"path": f.path, "before": f.before, "after": f.after} for f in c.fields
                ],
            }
            for c in found.entities
        ],
        "files": [
            {
                "path": f.path,
                "owner": f.owner,
                "change": f.change_type.value,
                "lines": list(f.lines),
            }
            for f in found.files
        ],
    }
