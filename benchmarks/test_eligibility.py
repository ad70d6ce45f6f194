"""Workloads `list_offers` and `check_cart`: the qualification engine in process, over a
generated catalog of 100 to 10,000 offers (areas x channels x segments, 4 rules per offer,
1 combo per 100 offers), 64 varied sale contexts in the catalog's cities.

`list_offers`: ListEligibleOffers' engine (first page of 100), variant `indexed` (the
version's pre-indexed, cached candidates) against the baseline `scan` (the same checks and
the same compiled rules over every offer of the catalog, hand-written without indexes: what
pre-indexing saves). The build benchmark records the per-call p50 and p90 (issue 5's goal:
p50 <= 1 ms at 10,000 offers) in `extra_info`.

`check_cart`: CheckEligibility's engine on 5-item carts (offers drawn from each context's
candidates, so some qualify and some do not), variant `full` (every reason, proposal and
alternate) against the baseline `bare` (only the yes/no any engine must compute: area,
channel, audience, validity and the compiled rules per item).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Sequence

import pytest

from benchmarks.conftest import Measure
from benchmarks.support.catalogs import bench_sale_catalog, sales
from catalog.model import LifecycleStatus
from rules.listing import list_offers
from rules.offer_checks import item_facts, market_reasons
from rules.qualification import check_cart, sale_facts
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog

SIZES = {"gate": (1_000,), "full": (100, 1_000, 10_000)}
PAGE = 100
CART = 5


@pytest.fixture(scope="module")
def catalog(size: int) -> SaleCatalog:
    return bench_sale_catalog(size)


@pytest.fixture(scope="module")
def contexts(catalog: SaleCatalog) -> list[Sale]:
    return sales(catalog.content)


def scan(catalog: SaleCatalog, sale: Sale) -> list[str]:
    """The first page without indexes: every offer, in code order, checked plainly."""
    facts = sale_facts(catalog, sale)
    lineage = set(catalog.tree.lineage(sale.area))
    areas = catalog.book.env.areas
    found: list[str] = []
    for code in sorted(catalog.offers):  # the baseline re-sorts, as a scan would
        offer = catalog.offers[code]
        if catalog.status[code] is not LifecycleStatus.LAUNCHED:
            continue
        if not lineage & set(offer.area_codes or (offer.owner_area_code,)):
            continue
        if offer.channel_codes and sale.channel not in offer.channel_codes:
            continue
        segments = offer.audience.segment_codes
        if segments and not sale.customer.segments & set(segments):
            continue
        types = offer.audience.customer_types
        if types and (sale.customer.type not in {t.value for t in types}):
            continue
        if not offer.valid_for.contains(sale.time):
            continue
        candidate = catalog.candidate(code)  # the same compiled rules as the engine
        if candidate.bases and sale.held.isdisjoint(candidate.bases):
            continue
        own = item_facts(facts, CartItem("", code)) if candidate.reads_item else facts
        if not candidate.admits(own, areas):
            continue
        found.append(code)
        if len(found) == PAGE:
            break
    return found


def list_all(catalog: SaleCatalog, contexts: Sequence[Sale]) -> list[list[str]]:
    return [
        [o.offer.code for o in list_offers(catalog, s, page_size=PAGE).offers] for s in contexts
    ]


def scan_all(catalog: SaleCatalog, contexts: Sequence[Sale]) -> list[list[str]]:
    return [scan(catalog, s) for s in contexts]


def test_list_indexed(
    measure: Measure, size: int, catalog: SaleCatalog, contexts: list[Sale]
) -> None:
    bench = measure("list_offers", "indexed", size=size, items=len(contexts))
    pages = bench(list_all, catalog, contexts)
    assert pages == scan_all(catalog, contexts)
    assert sum(map(len, pages)) > 0
    timings = []
    for sale in contexts * 5:
        started = time.perf_counter()
        list_offers(catalog, sale, page_size=PAGE)
        timings.append(time.perf_counter() - started)
    timings.sort()
    bench.extra_info["p50_ms"] = round(statistics.median(timings) * 1000, 4)
    bench.extra_info["p90_ms"] = round(timings[int(len(timings) * 0.9)] * 1000, 4)
    bench.extra_info["listed_per_call"] = round(statistics.mean(map(len, pages)), 1)


def test_list_scan(measure: Measure, size: int, catalog: SaleCatalog, contexts: list[Sale]) -> None:
    bench = measure("list_offers", "scan", size=size, items=len(contexts))
    pages = bench(scan_all, catalog, contexts)
    assert len(pages) == len(contexts)


def carts(catalog: SaleCatalog, contexts: Sequence[Sale], seed: int = 9) -> list[list[CartItem]]:
    """5 main products per context, from those sold there (so reasons vary)."""
    rng = random.Random(seed)
    mains = sorted(c for c, k in catalog.kinds.items() if k == "main")
    found = []
    for sale in contexts:
        here = [c.code for c in catalog.candidates(sale, kind="main")] or mains
        picks = [rng.choice(here) if rng.random() < 0.7 else rng.choice(mains) for _ in range(CART)]
        found.append([CartItem(str(i + 1), code) for i, code in enumerate(picks)])
    return found


def check_all(
    catalog: SaleCatalog, contexts: Sequence[Sale], cart_list: Sequence[list[CartItem]]
) -> list[bool]:
    return [check_cart(catalog, s, c).qualified for s, c in zip(contexts, cart_list, strict=True)]


def bare(catalog: SaleCatalog, sale: Sale, cart: Sequence[CartItem]) -> bool:
    facts = sale_facts(catalog, sale, {i.offer_code: 1 for i in cart})
    areas = catalog.book.env.areas
    ok = True
    for item in cart:
        offer = catalog.offers[item.offer_code]
        if market_reasons(catalog, offer, sale):
            ok = False
            continue
        if not catalog.candidate(offer.code).admits(item_facts(facts, item), areas):
            ok = False
    return ok


def bare_all(
    catalog: SaleCatalog, contexts: Sequence[Sale], cart_list: Sequence[list[CartItem]]
) -> list[bool]:
    return [bare(catalog, s, c) for s, c in zip(contexts, cart_list, strict=True)]


def test_check_full(
    measure: Measure, size: int, catalog: SaleCatalog, contexts: list[Sale]
) -> None:
    cart_list = carts(catalog, contexts)
    bench = measure("check_cart", "full", size=size, items=len(contexts))
    answers = bench(check_all, catalog, contexts, cart_list)
    assert answers == bare_all(catalog, contexts, cart_list)
    assert any(answers) or not all(answers)


def test_check_bare(
    measure: Measure, size: int, catalog: SaleCatalog, contexts: list[Sale]
) -> None:
    cart_list = carts(catalog, contexts)
    bench = measure("check_cart", "bare", size=size, items=len(contexts))
    answers = bench(bare_all, catalog, contexts, cart_list)
    assert len(answers) == len(contexts)
