"""Update* with an AIP-134 update_mask through a real server, on SQLite and PostgreSQL: the
fields the mask names change, every field outside it keeps its stored value (a property over
random masks), an empty mask changes the fields the request populates, "*" replaces the
whole entity, and a bad path is INVALID_ARGUMENT naming it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import field_mask_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.model import Audience, CustomerType, RuleSource, TimePeriod
from tariff.mappers import entities
from tariff.server import Running
from tariff.v1 import catalog_pb2, catalog_service_pb2_grpc
from tariff.v1 import catalog_service_pb2 as pb
from tests.service.test_catalog_api import failure, seed_catalog
from tests.support import catalogs

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub as Stub

INVALID = grpc.StatusCode.INVALID_ARGUMENT
YOUTH = catalogs.YOUTH_PLAN
#: The same product with every field a mask may name changed, in ways that stay valid in any
#: mix with the original (both in the sample catalog's areas, channels and segments).
OTHER = replace(
    YOUTH,
    name="新势力 59",
    description="另一档青年套餐",
    category="mobile_youth",
    business_codes=("local_voice", "mobile_data"),
    audience=Audience((CustomerType.PERSONAL, CustomerType.ENTERPRISE), ("youth", "personal")),
    area_codes=("GD", "QH"),
    tariff_plan="youth_59",
    channel_codes=("hall",),
    service_level="当日开通",
    resources=("sim_card",),
    valid_for=TimePeriod(
        start=datetime(2026, 2, 1, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC)
    ),
    requires_codes=("mobile_basic",),
    excludes_codes=("broadband_basic",),
    rule_sources=(RuleSource("products/youth_plan_b.tariff", "offer youth_plan {\n}\n"),),
)
#: Every path a mask may name, nested ones included.
PATHS = (
    "name",
    "description",
    "category",
    "business_codes",
    "audience",
    "audience.customer_types",
    "audience.segment_codes",
    "area_codes",
    "tariff_plan",
    "channel_codes",
    "service_level",
    "resources",
    "valid_for",
    "valid_for.start",
    "valid_for.end",
    "requires_codes",
    "excludes_codes",
    "rule_sources",
)
#: What is compared: each field, and the parts of those that masks reach into.
LEAVES = tuple(p for p in PATHS if p not in ("audience", "valid_for"))


def value(product: catalog_pb2.Product, path: str) -> bytes | str:
    """The path's value in `product`, comparable."""
    found: Any = product
    for part in path.split("."):
        found = getattr(found, part)
    if isinstance(found, str):
        return found
    if hasattr(found, "SerializeToString"):
        return bytes(found.SerializeToString(deterministic=True))
    return repr([i.SerializeToString() if hasattr(i, "ListFields") else i for i in found])


def covered(leaf: str, mask: set[str]) -> bool:
    """Whether the mask names `leaf` or a field that holds it."""
    parts = leaf.split(".")
    return any(".".join(parts[: n + 1]) in mask for n in range(len(parts)))


def opposite(stored: catalog_pb2.Product) -> catalog_pb2.Product:
    """A product differing from `stored` in every leaf: per leaf, OTHER's value where
    `stored` has YOUTH's, else YOUTH's."""
    youth, other = entities.product_to_proto(YOUTH), entities.product_to_proto(OTHER)
    out = catalog_pb2.Product()
    out.CopyFrom(youth)
    for leaf in LEAVES:
        source = other if value(stored, leaf) == value(youth, leaf) else youth
        field_mask_pb2.FieldMask(paths=[leaf]).MergeMessage(
            source, out, replace_message_field=True, replace_repeated_field=True
        )
    return out


async def test_an_update_with_a_mask_keeps_every_field_outside_it(
    catalog_stub: Stub, running: Running
) -> None:
    await seed_catalog(catalog_stub)
    assert all(value(entities.product_to_proto(OTHER), leaf) for leaf in LEAVES)
    for leaf in LEAVES:  # the two differ in every leaf
        youth, other = (entities.product_to_proto(p) for p in (YOUTH, OTHER))
        assert value(youth, leaf) != value(other, leaf), leaf

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(mask=st.sets(st.sampled_from(PATHS), min_size=1))
    def keeps_the_rest(stub: catalog_service_pb2_grpc.CatalogServiceStub, mask: set[str]) -> None:
        before = stub.GetProduct(pb.GetProductRequest(code="youth_plan")).product
        sent = opposite(before)
        request = pb.UpdateProductRequest(
            product=sent,
            expected_revision=before.meta.revision,
            update_mask=field_mask_pb2.FieldMask(paths=sorted(mask)),
        )
        reply = stub.UpdateProduct(request, timeout=10).product
        after = stub.GetProduct(pb.GetProductRequest(code="youth_plan")).product
        assert after == reply
        assert after.meta.revision == before.meta.revision + 1
        for leaf in LEAVES:
            expected = sent if covered(leaf, mask) else before
            assert value(after, leaf) == value(expected, leaf), (leaf, sorted(mask))

    def run() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            keeps_the_rest(catalog_service_pb2_grpc.CatalogServiceStub(channel))

    await asyncio.to_thread(run)


async def test_an_empty_mask_changes_what_is_given_and_star_replaces_all(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    renamed = catalog_pb2.Product(code="youth_plan", name="新势力 49")
    reply = await stub.UpdateProduct(pb.UpdateProductRequest(product=renamed, expected_revision=1))
    kept = entities.product_to_proto(replace(YOUTH, name="新势力 49"))
    assert value(reply.product, "rule_sources") == value(kept, "rule_sources")  # not dropped
    assert reply.product.name == "新势力 49"
    for leaf in LEAVES:
        assert value(reply.product, leaf) == value(kept, leaf), leaf
    whole = entities.product_to_proto(
        replace(YOUTH, description="", rule_sources=(), channel_codes=())
    )
    star = await stub.UpdateProduct(
        pb.UpdateProductRequest(
            product=whole, expected_revision=2, update_mask=field_mask_pb2.FieldMask(paths=["*"])
        )
    )
    assert (star.product.description, list(star.product.rule_sources)) == ("", [])
    assert not star.product.channel_codes
    assert star.product.meta.revision == 3


async def test_status_and_meta_in_a_mask_are_ignored(catalog_stub: Stub) -> None:
    await seed_catalog(catalog_stub)
    sent = entities.product_to_proto(replace(YOUTH, name="x"))
    sent.status = catalog_pb2.LIFECYCLE_STATUS_RETIRED
    reply = await catalog_stub.UpdateProduct(
        pb.UpdateProductRequest(
            product=sent,
            expected_revision=1,
            update_mask=field_mask_pb2.FieldMask(paths=["status", "meta", "name"]),
        )
    )
    assert reply.product.name == "x"
    assert reply.product.status == catalog_pb2.LIFECYCLE_STATUS_IN_DESIGN
    assert reply.product.meta.revision == 2


async def test_a_bad_path_is_invalid_argument_naming_it(catalog_stub: Stub) -> None:
    await seed_catalog(catalog_stub)
    sent = entities.product_to_proto(YOUTH)
    paths = ["name", "nmae", "code", "valid_for.middle", "rule_sources.path", "*"]
    refused = await failure(
        catalog_stub.UpdateProduct(
            pb.UpdateProductRequest(
                product=sent,
                expected_revision=1,
                update_mask=field_mask_pb2.FieldMask(paths=paths),
            )
        )
    )
    assert refused.code is INVALID
    assert refused.fields == [f"updateMask.paths[{i}]" for i in range(1, 6)]
    assert "'nmae' is not a field: tariff.v1.Product has no field 'nmae'" in refused.details
    got = await catalog_stub.GetProduct(pb.GetProductRequest(code="youth_plan"))
    assert got.product.meta.revision == 1  # nothing changed


async def test_business_and_combo_updates_keep_what_the_mask_leaves_out(
    catalog_stub: Stub,
) -> None:
    stub = catalog_stub
    await seed_catalog(stub)
    mask = field_mask_pb2.FieldMask(paths=["name"])
    business = entities.business_to_proto(replace(catalogs.BUSINESSES[0], name="市话", unit=""))
    b = await stub.UpdateBusiness(
        pb.UpdateBusinessRequest(business=business, expected_revision=1, update_mask=mask)
    )
    assert (b.business.name, b.business.unit) == ("市话", "minute")
    combo = catalog_pb2.Combo(code="family_bundle", name="亲情1+ 新版")
    c = await stub.UpdateCombo(
        pb.UpdateComboRequest(combo=combo, expected_revision=1, update_mask=mask)
    )
    stored = entities.combo_to_proto(catalogs.FAMILY_BUNDLE)
    assert c.combo.name == "亲情1+ 新版"
    assert list(c.combo.rule_sources) == list(stored.rule_sources)
    assert list(c.combo.members) == list(stored.members)
    missing = await failure(
        stub.UpdateCombo(
            pb.UpdateComboRequest(
                combo=catalog_pb2.Combo(code="no_such_combo", name="x"),
                expected_revision=1,
                update_mask=mask,
            )
        )
    )
    assert missing.code is grpc.StatusCode.NOT_FOUND
