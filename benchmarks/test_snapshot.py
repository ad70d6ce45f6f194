"""Workload `snapshot`: installing a published version — its stored document decoded into the
domain model and indexed by area, channel and segment (catalog.snapshot) — at several catalog
sizes (offers). Rules are compiled by `dsl_compile`; this is the catalog side.

Variants: `build` (json.loads + codec.decode_content + Snapshot) and the baseline
`json_decode` (json.loads of the same document: the floor of reading a version at all). The
build benchmark also records memory (tracemalloc): what a snapshot keeps, per 10k offers, and
the peak while building it.
"""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime

import pytest

from benchmarks.conftest import Measure
from catalog.codec import decode_content, dumps, encode_content
from catalog.model import CatalogVersionInfo
from catalog.snapshot import Snapshot
from tariff.gen.catalogs import CatalogSpec, generate_catalog

SIZES = {"gate": (100, 1_000), "full": (100, 1_000, 10_000, 100_000)}
MOMENT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def document(size: int) -> str:
    spec = CatalogSpec(offers=size, areas=max(4, size // 200), seed=5, combos=max(1, size // 100))
    return dumps(encode_content(generate_catalog(spec)))


def install(document: str) -> Snapshot:
    content = decode_content(json.loads(document))
    info = CatalogVersionInfo(
        number=1,
        effective_from=MOMENT,
        published_at=MOMENT,
        description="bench",
        content_hash="",
        business_count=sum(1 for _ in content.businesses()),
        product_count=0,
        combo_count=0,
    )
    return Snapshot(info, content)


def rounds(size: int) -> int:
    return 3 if size >= 100_000 else 5


def test_build(measure: Measure, size: int, document: str) -> None:
    bench = measure("snapshot", "build", size=size)
    snapshot = bench.pedantic(install, (document,), rounds=rounds(size))
    assert len(snapshot.offers) >= size
    del snapshot
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = install(document)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept.offers
    per_10k = 10_000 / len(kept.offers)
    bench.extra_info["retained_mb_per_10k_offers"] = round((retained - before) * per_10k / 2**20, 2)
    bench.extra_info["peak_mb_per_10k_offers"] = round((peak - before) * per_10k / 2**20, 2)


def test_json_decode(measure: Measure, size: int, document: str) -> None:
    bench = measure("snapshot", "json_decode", size=size)
    data = bench.pedantic(json.loads, (document,), rounds=rounds(size))
    assert data
