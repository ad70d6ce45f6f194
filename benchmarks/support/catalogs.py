"""The generated catalogs and sale contexts the eligibility and quote workloads share, so the
in-process and the over-gRPC measurements ask the same questions of the same catalog."""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta, timezone

from catalog.content import CatalogContent
from catalog.model import AreaLevel, CatalogVersionInfo
from dsl.context import CustomerFacts
from rules.sale import Sale
from rules.sale_catalog import SaleCatalog
from tariff.gen.catalogs import CatalogSpec, generate_catalog

SEED = 23
SALE_TIME = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=8)))
CHANNELS = ("hall", "web", "call_center", "agent", "sms", "account_manager")
SEGMENTS = ("personal", "family", "youth", "vip", "enterprise")
INFO = CatalogVersionInfo(
    1, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "bench", "", 0, 0, 0
)


@functools.cache
def bench_catalog(offers: int) -> CatalogContent:
    """`offers` offers over about offers/50 areas (at least 4 provinces), 1 combo per 100."""
    spec = CatalogSpec(
        offers=offers, areas=max(4, offers // 50), seed=SEED, combos=max(1, offers // 100)
    )
    return generate_catalog(spec)


@functools.cache
def bench_sale_catalog(offers: int) -> SaleCatalog:
    return SaleCatalog(INFO, bench_catalog(offers))


def sales(content: CatalogContent, count: int = 64, seed: int = 5) -> list[Sale]:
    """Varied sale contexts in the catalog's cities: customers of every segment and age."""
    rng = random.Random(seed)
    cities = sorted(a.code for a in content.areas.values() if a.level is AreaLevel.CITY)
    found = []
    for _ in range(count):
        segment = rng.choice(SEGMENTS)
        customer = CustomerFacts(
            type="enterprise" if segment == "enterprise" else "personal",
            segments=frozenset({segment}),
            age=rng.randint(16, 70),
            vip_level=rng.choice((0, 0, 1, 2, 3)),
            tenure_months=rng.randint(0, 120),
            credit_class=rng.choice(("A", "B", "C")),
        )
        found.append(Sale(customer, rng.choice(cities), rng.choice(CHANNELS), SALE_TIME))
    return found
