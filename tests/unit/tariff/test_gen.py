"""`tariff.gen`: synthetic catalogs and usage are deterministic, sized as asked and consistent
with the catalog (every reference resolves, every rule checks)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from catalog import bundle
from catalog.content import CatalogContent
from catalog.model import LifecycleStatus, Product, ProductKind
from rules.checking import check_catalog
from tariff.gen import USAGE_HEADER, CatalogSpec, UsageSpec, generate_catalog, write_usage

SPEC = CatalogSpec(offers=50, areas=4, seed=11, rules_per_offer=3, combos=5, zone_prefixes=60)


@pytest.fixture(scope="module")
def content() -> CatalogContent:
    return generate_catalog(SPEC)


def _usage(content: CatalogContent, spec: UsageSpec) -> str:
    out = io.StringIO()
    write_usage(content, spec, out)
    return out.getvalue()


def test_same_seed_same_bytes_other_seed_differs(content: CatalogContent) -> None:
    again = bundle.bundle_files(generate_catalog(SPEC))
    assert bundle.bundle_files(content) == again
    other = CatalogSpec(offers=50, areas=4, seed=12, rules_per_offer=3, combos=5)
    assert bundle.bundle_files(generate_catalog(other)) != again


def test_sizes_are_honoured(content: CatalogContent) -> None:
    businesses, products, combos = content.counts()
    assert (businesses, products, combos) == (9, 50, 5)
    provinces = [a for a in content.areas.values() if a.level.value == "province"]
    assert sorted(a.code for a in provinces) == ["P01", "P02", "P03", "P04"]
    assert all(a.parent_code in content.areas for a in content.areas.values() if a.parent_code)
    assert len(content.zone_tables["zones"].prefixes) == 60
    assert sorted(content.channels) == sorted(
        ["hall", "call_center", "web", "sms", "agent", "account_manager"]
    )
    assert sorted(content.segments) == ["enterprise", "family", "personal", "vip", "youth"]
    assert {e.status for e in content.entities.values()} == {LifecycleStatus.LAUNCHED}


def test_offers_have_realistic_shape(content: CatalogContent) -> None:
    products = list(content.products())
    assert {p.category for p in products} == {"mobile", "broadband", "fixed", "value_added"}
    owners = Counter(p.owner_area_code == "CN" for p in products)
    assert owners[True] > 0
    assert owners[False] > owners[True]
    for product in products:
        if product.kind is ProductKind.ADD_ON:
            assert product.base_product_codes
        if product.owner_area_code != "CN":
            assert all(a.startswith(product.owner_area_code) for a in product.area_codes)
        offer_text = product.rule_sources[0].text
        assert f"offer {product.code} {{" in offer_text
        assert offer_text.count(" else ") == SPEC.rules_per_offer
        assert f"plan {product.tariff_plan} " in offer_text


def test_zone_prefixes_nest(content: CatalogContent) -> None:
    prefixes = [p for p, _ in content.zone_tables["zones"].prefixes]
    nested = [p for p in prefixes if any(p != q and p.startswith(q) for q in prefixes)]
    assert len(nested) > len(prefixes) // 2
    zones = {z for _, z in content.zone_tables["zones"].prefixes}
    assert {"national", "mobile"} <= zones
    assert any(z.startswith("intl_") for z in zones)


def test_bundle_reads_back_and_checks_without_problems(
    content: CatalogContent, tmp_path: Path
) -> None:
    bundle.write_directory(content, tmp_path / "b")
    read = bundle.read_path(tmp_path / "b")
    assert read.counts() == content.counts()
    result = check_catalog(read)
    assert result.ok, [d.message for d in result.diagnostics]
    assert not result.diagnostics


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="--offers"):
        generate_catalog(CatalogSpec(offers=-1, areas=2, seed=1))
    with pytest.raises(ValueError, match="--subscribers"):
        _usage(generate_catalog(SPEC), UsageSpec(events=1, subscribers=0, seed=1))


def test_usage_is_deterministic_and_consistent(content: CatalogContent) -> None:
    spec = UsageSpec(events=3000, subscribers=40, seed=5)
    text = _usage(content, spec)
    assert text == _usage(content, spec)
    assert text != _usage(content, UsageSpec(events=3000, subscribers=40, seed=6))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(text.splitlines()[0].split(",")) == USAGE_HEADER
    assert len(rows) == 3000
    assert len({r["subscriber_id"] for r in rows}) <= 40
    businesses = {b.code for b in content.businesses()}
    kinds: Counter[str] = Counter()
    for row in rows:
        offer = content.offer(row["offer_code"])
        assert offer is not None
        assert row["business_code"] in businesses
        assert isinstance(offer, Product)
        assert row["business_code"] in offer.business_codes
        assert row["start_time"].startswith("2026-03-")
        assert row["start_time"].endswith("+08:00")
        assert row["origin_area_code"] in content.areas
        assert row["roaming"] in ("true", "false")
        kind = {"mobile_data": "data", "sms": "sms"}.get(row["business_code"], "voice")
        kinds[kind] += 1
        if kind == "voice":
            assert int(row["duration_ms"]) > 0
            assert row["destination"].isdigit()
        elif kind == "data":
            assert int(row["volume_bytes"]) > 0
        else:
            assert int(row["count"]) >= 1
    assert abs(kinds["voice"] / 3000 - 0.55) < 0.04
    assert abs(kinds["data"] / 3000 - 0.35) < 0.04
    assert abs(kinds["sms"] / 3000 - 0.10) < 0.03
    nights = sum(r["start_time"][11:13] in ("02", "03", "04") for r in rows)
    days = sum(r["start_time"][11:13] in ("09", "10", "11") for r in rows)
    assert days > 3 * nights


def test_zero_events_writes_only_the_header(content: CatalogContent) -> None:
    text = _usage(content, UsageSpec(events=0, subscribers=1, seed=1))
    assert text == ",".join(USAGE_HEADER) + "\n"


@pytest.mark.parametrize("seed", [1, 7, 23, 101])
def test_every_seed_gives_rules_that_check_clean(seed: int) -> None:
    """The zones the generated tariffs name always exist (a seed once left out `local`)."""
    generated = generate_catalog(CatalogSpec(offers=40, areas=4, seed=seed, combos=2))
    result = check_catalog(generated)
    assert result.ok, [d for d in result.diagnostics if d.severity == "error"][:3]
