"""DiffCatalogVersions through a real server on 127.0.0.1 over the demo catalog: per offer
what changed in prices, eligibility and composition, then the rule files line by line - the
answer rules.version_diff gives `tariff diff`, in JSON a grpcurl user reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import json_format

from tariff.bootstrap import App, bootstrap
from tariff.cli import load_demo
from tariff.settings import Settings
from tariff.v1 import catalog_pb2, catalog_service_pb2_grpc, common_pb2
from tariff.v1 import catalog_service_pb2 as pb

if TYPE_CHECKING:
    from tariff.v1.catalog_service_pb2_grpc import CatalogServiceAsyncStub


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    settings = Settings(host="127.0.0.1", port=0, database_url=database_url, refresh_seconds=0)
    application = await asyncio.to_thread(bootstrap, settings)
    await asyncio.to_thread(load_demo, application)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
async def catalog(channel: grpc.aio.Channel) -> CatalogServiceAsyncStub:
    return catalog_service_pb2_grpc.CatalogServiceStub(channel)


async def edit_rules(stub: CatalogServiceAsyncStub, code: str, old: str, new: str) -> None:
    """Rewrite `old` as `new` in product `code`'s own rule file, in the draft."""
    ref = catalog_pb2.EntityRef(kind=catalog_pb2.ENTITY_KIND_PRODUCT, code=code)
    read = await stub.GetProduct(pb.GetProductRequest(code=code))
    [source] = [s for s in read.product.rule_sources if s.path.endswith(f"{code}.tariff")]
    assert old in source.text
    await stub.AttachRuleSources(
        pb.AttachRuleSourcesRequest(
            target=ref,
            sources=[common_pb2.RuleSource(path=source.path, text=source.text.replace(old, new))],
            expected_revision=read.product.meta.revision,
        )
    )


async def test_live_against_the_draft_per_offer_then_line_by_line(
    catalog: CatalogServiceAsyncStub,
) -> None:
    same = await catalog.DiffCatalogVersions(pb.DiffCatalogVersionsRequest())
    assert (list(same.offer_changes), list(same.rule_file_changes)) == ([], [])

    await edit_rules(catalog, "mobile_39", "rate * *: 0.20 per minute", "rate * *: 0.25 per minute")
    await edit_rules(catalog, "youth_plan", "between 15 and 26", "between 15 and 28")
    reply = await catalog.DiffCatalogVersions(pb.DiffCatalogVersionsRequest())

    offers = {o.offer_code: o for o in reply.offer_changes}
    assert set(offers) == {"mobile_39", "youth_plan"}
    [rate] = [i for i in offers["mobile_39"].items if i.aspect == pb.OFFER_ASPECT_PRICES]
    assert rate.change_type == pb.CHANGE_TYPE_MODIFIED
    assert "0.20 per minute" in rate.before
    assert "0.25 per minute" in rate.after
    eligibility = {i.item: i for i in offers["youth_plan"].items}
    assert eligibility["rule age"].aspect == pb.OFFER_ASPECT_ELIGIBILITY
    assert "between 15 and 28" in eligibility["rule age"].after

    files = {f.owner: f for f in reply.rule_file_changes}
    assert set(files) == {"product:mobile_39", "product:youth_plan"}
    lines = list(files["product:mobile_39"].diff_lines)
    assert lines[0].startswith("@@ ")
    assert any(line.startswith("+") and "0.25 per minute" in line for line in lines)

    # what grpcurl / buf curl print: names and enum names, no bytes to decode
    shown = json.loads(json_format.MessageToJson(reply, ensure_ascii=False))
    first = shown["offerChanges"][0]
    assert first["offerCode"] == "mobile_39"
    aspects = {i["aspect"]: i for i in first["items"]}
    assert aspects["OFFER_ASPECT_PRICES"]["changeType"] == "CHANGE_TYPE_MODIFIED"
    assert aspects["OFFER_ASPECT_ELIGIBILITY"]["item"] == "status"  # edited: in design again
    assert shown["ruleFileChanges"][0]["changeType"] == "CHANGE_TYPE_MODIFIED"

    versions = pb.DiffCatalogVersionsRequest(
        base=common_pb2.VersionSelector(version=1), target=common_pb2.VersionSelector(version=1)
    )
    assert (await catalog.DiffCatalogVersions(versions)).offer_changes == []
