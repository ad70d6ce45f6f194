"""Filtering and paging for catalog listings; pure functions over definitions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from catalog.areas import AreaTree
from catalog.errors import ValidationError, Violation
from catalog.model import Combo, Definition, LifecycleStatus, Product

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class CatalogFilter:
    """Optional filters combined with AND; empty means "no filter"."""

    area_code: str = ""
    channel_code: str = ""
    segment_code: str = ""
    statuses: frozenset[LifecycleStatus] = frozenset()
    category: str = ""


def sold_in(offer: Product | Combo, area_code: str, tree: AreaTree) -> bool:
    """Listed for the area or an area above it; no listed areas = the owner's whole area."""
    listed = offer.area_codes or (offer.owner_area_code,)
    lineage = tree.lineage(area_code)
    return any(code in lineage for code in listed)


def matches(
    definition: Definition, status: LifecycleStatus, flt: CatalogFilter, tree: AreaTree
) -> bool:
    if flt.statuses and status not in flt.statuses:
        return False
    if not isinstance(definition, Product | Combo):
        return True
    if flt.category and definition.category != flt.category:
        return False
    if flt.area_code and not sold_in(definition, flt.area_code, tree):
        return False
    if (
        flt.channel_code
        and definition.channel_codes
        and flt.channel_code not in definition.channel_codes
    ):
        return False
    return not (flt.segment_code and not definition.audience.admits_segment(flt.segment_code))


def paginate(
    items: Sequence[T], key: Callable[[T], str], page_size: int, page_token: str
) -> tuple[list[T], str]:
    """Keyset paging over items sorted by `key`: the token is the last key of the page."""
    if page_size < 0:
        raise ValidationError([Violation("page_size", "must not be negative")])
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    after = _decode_token(page_token) if page_token else None
    start = 0
    if after is not None:
        start = next((i for i, item in enumerate(items) if key(item) > after), len(items))
    page = list(items[start : start + size])
    more = start + size < len(items)
    return page, (_encode_token(key(page[-1])) if more and page else "")


def _encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationError(
            [Violation("page_token", "not a token this service issued")]
        ) from None
