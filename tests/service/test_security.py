"""Security through real gRPC over TLS on 127.0.0.1: tokens, roles, mTLS, local mode.

Certificates are made in the test (tests/support/certs.py) and tokens signed with a key file
made in the test; every call goes through the real server and its interceptors.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tariff import security
from tariff.security import identities
from tariff.security.roles import METHOD_ROLES, Role, granted
from tariff.security.tokens import KeyRing, new_ring
from tariff.server import Running
from tariff.settings import Settings
from tariff.v1 import (
    catalog_service_pb2,
    governance_service_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
    rules_service_pb2,
)
from tests.support.databases import migrated_database
from tests.support.secured import Pki, Served, bearer, make_keys, make_pki, served, token

FILES = (
    catalog_service_pb2,
    governance_service_pb2,
    pricing_service_pb2,
    qualification_service_pb2,
    rules_service_pb2,
)
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED

#: a sample of every service's methods, of every role
SAMPLE = (
    "/tariff.v1.QualificationService/CheckEligibility",
    "/tariff.v1.PricingService/Quote",
    "/tariff.v1.PricingService/RateStream",
    "/tariff.v1.CatalogService/ListProducts",
    "/tariff.v1.CatalogService/GetCatalogVersion",
    "/tariff.v1.CatalogService/CreateProduct",
    "/tariff.v1.CatalogService/ImportCatalogBundle",
    "/tariff.v1.CatalogService/PublishCatalog",
    "/tariff.v1.RulesService/CheckRules",
    "/tariff.v1.RulesService/Simulate",
    "/tariff.v1.GovernanceService/GetReview",
    "/tariff.v1.GovernanceService/SubmitForReview",
    "/tariff.v1.GovernanceService/ApproveDraft",
    "/tariff.v1.GovernanceService/ListAuditEntries",
)


def _methods() -> dict[str, Any]:
    """Full method name -> its method descriptor, for every tariff.v1 service."""
    found = {}
    for module in FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found[f"/{service.full_name}/{method.name}"] = method
    return found


METHODS = _methods()


async def call(channel: grpc.aio.Channel, method: str, metadata: Any = ()) -> grpc.StatusCode:
    """Call `method` with an empty request; the status code it ends with."""
    descriptor = METHODS[method]
    request = message_factory.GetMessageClass(descriptor.input_type)()
    try:
        if descriptor.client_streaming:
            stream = channel.stream_stream(
                method,
                request_serializer=type(request).SerializeToString,
                response_deserializer=None,
            )
            async for _ in stream(iter([request]), metadata=metadata, timeout=20):
                pass
        else:
            unary = channel.unary_unary(
                method,
                request_serializer=type(request).SerializeToString,
                response_deserializer=None,
            )
            await unary(request, metadata=metadata, timeout=20)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def details_of(channel: grpc.aio.Channel, method: str, metadata: Any = ()) -> str:
    descriptor = METHODS[method]
    request = message_factory.GetMessageClass(descriptor.input_type)()
    unary = channel.unary_unary(
        method, request_serializer=type(request).SerializeToString, response_deserializer=None
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(request, metadata=metadata, timeout=20)
    return caught.value.details() or ""


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, KeyRing]:
    return make_keys(tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Any:
    with migrated_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
async def tls_tokens(sqlite_url: str, pki: Pki, keys: tuple[Path, KeyRing]) -> Any:
    async with served(sqlite_url, pki, token_keys=keys[0]) as server:
        yield server


def test_every_rpc_has_a_role_and_the_table_names_only_real_rpcs() -> None:
    assert set(METHODS) == set(METHOD_ROLES)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_is_allowed_and_refused_by_the_table(
    tls_tokens: Served, keys: tuple[Path, KeyRing], role: Role
) -> None:
    metadata = bearer(token(keys[1], f"someone-{role.value}", role))
    async with tls_tokens.channel() as channel:
        for method in SAMPLE:
            code = await call(channel, method, metadata)
            if METHOD_ROLES[method] in granted([role]):
                assert code not in (DENIED, UNAUTHENTICATED), (role, method, code)
            else:
                assert code is DENIED, (role, method, code)


async def test_refusal_names_the_role_needed(
    tls_tokens: Served, keys: tuple[Path, KeyRing]
) -> None:
    metadata = bearer(token(keys[1], "shop", Role.READER))
    async with tls_tokens.channel() as channel:
        details = await details_of(channel, "/tariff.v1.CatalogService/CreateProduct", metadata)
    assert "'shop'" in details
    assert "role 'author'" in details


async def test_missing_expired_tampered_and_foreign_tokens_are_unauthenticated(
    tls_tokens: Served, keys: tuple[Path, KeyRing]
) -> None:
    ring = keys[1]
    good = token(ring, "alice", Role.ADMIN)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    same_kid, other_kid = new_ring("k1"), new_ring("k9")  # secrets of nobody's key file
    cases = {
        "no credentials": (),
        "token expired": bearer(token(ring, "alice", Role.ADMIN, ttl=60, at=_hours_ago(2))),
        "does not verify": bearer(f"{header}.{forged}.{signature}"),  # payload changed
        "signature does not verify": bearer(token(same_kid, "alice", Role.ADMIN)),
        "unknown key": bearer(token(other_kid, "alice", Role.ADMIN)),
        "malformed": bearer("not-a-jwt"),
        "Bearer": (("authorization", "Basic YWxpY2U6c2VjcmV0"),),
    }
    async with tls_tokens.channel() as channel:
        for words, metadata in cases.items():
            method = "/tariff.v1.CatalogService/ListProducts"
            assert await call(channel, method, metadata) is UNAUTHENTICATED, words
            assert words in await details_of(channel, method, metadata)
            stream = "/tariff.v1.PricingService/RateStream"  # streams are guarded alike
            assert await call(channel, stream, metadata) is UNAUTHENTICATED, words
        assert await call(channel, "/tariff.v1.CatalogService/ListProducts", bearer(good)) is (
            grpc.StatusCode.OK
        )


def _hours_ago(hours: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) - timedelta(hours=hours)


async def test_health_and_reflection_stay_open_and_say_the_mode(tls_tokens: Served) -> None:
    async with tls_tokens.channel() as channel:
        call_ = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        reply = await call_
        metadata = dict(await call_.initial_metadata())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert metadata["tariff-security"] == "tokens; tls"
    async with tls_tokens.channel() as channel:  # no token either
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = {
            s.name
            async for reply_ in stub.ServerReflectionInfo(iter([request]))
            for s in reply_.list_services_response.service
        }
    assert "tariff.v1.GovernanceService" in names


async def test_local_mode_says_so_in_health(running: Running, channel: grpc.aio.Channel) -> None:
    call_ = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    await call_
    metadata = dict(await call_.initial_metadata())
    assert metadata["tariff-security"].startswith("local; plaintext")


async def test_rotation_old_and_new_keys_verify_until_the_old_one_is_removed(
    tls_tokens: Served, keys: tuple[Path, KeyRing], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identities, "RELOAD_SECONDS", 0.0)
    path, old_ring = keys
    old = bearer(token(old_ring, "alice", Role.READER))
    rotated = old_ring.with_new_key("k2")
    rotated.save(path)
    new = bearer(token(rotated, "alice", Role.READER))
    method = "/tariff.v1.CatalogService/ListProducts"
    async with tls_tokens.channel() as channel:
        assert await call(channel, method, old) is grpc.StatusCode.OK
        assert await call(channel, method, new) is grpc.StatusCode.OK
        KeyRing({"k2": rotated.keys["k2"]}, "k2").save(path)
        _touch_later(path)
        assert await call(channel, method, old) is UNAUTHENTICATED
        assert await call(channel, method, new) is grpc.StatusCode.OK


def _touch_later(path: Path) -> None:
    """A modification time the server has not seen (file systems keep coarse times)."""
    import os

    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))


async def test_mtls_refuses_a_client_without_a_certificate_and_maps_subjects(
    sqlite_url: str, pki: Pki, tmp_path: Path
) -> None:
    subjects = tmp_path / "subjects.json"
    subjects.write_text(
        json.dumps({"O=Carrier,CN=billing-gw": {"principal": "billing", "roles": ["reader"]}})
    )
    async with served(
        sqlite_url, pki, tls_client_ca=pki.authority.cert, client_subjects=subjects
    ) as server:
        async with server.channel() as bare:
            code = await call(bare, "/tariff.v1.CatalogService/ListProducts")
        assert code is grpc.StatusCode.UNAVAILABLE  # the TLS handshake fails: no call at all
        async with server.channel(cert=pki.client) as billing:
            assert await call(billing, "/tariff.v1.CatalogService/ListProducts") is (
                grpc.StatusCode.OK
            )
            assert await call(billing, "/tariff.v1.CatalogService/CreateProduct") is DENIED
        async with server.channel(cert=pki.stranger) as stranger:
            method = "/tariff.v1.CatalogService/ListProducts"
            assert await call(stranger, method) is UNAUTHENTICATED
            assert "maps to no principal" in await details_of(stranger, method)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"host": "0.0.0.0"}, "plaintext"),
        ({"host": "0.0.0.0", "tls_cert": Path("c"), "tls_key": Path("k")}, "no identities"),
        ({"client_subjects": Path("s.json")}, "needs --tls-client-ca"),
    ],
)
def test_unsafe_starts_are_refused(overrides: dict[str, Any], words: str) -> None:
    with pytest.raises(security.SecurityConfigError, match=words):
        security.check(Settings(**overrides))


def test_insecure_allows_plaintext_elsewhere_and_loopback_is_local_by_default() -> None:
    security.check(Settings(host="0.0.0.0", insecure=True))
    security.check(Settings(host="127.0.0.1"))
    assert security.mode(Settings()).startswith("local; plaintext")


async def test_the_cli_calls_a_tls_server_with_a_token(
    tls_tokens: Served, keys: tuple[Path, KeyRing], capsys: pytest.CaptureFixture[str]
) -> None:
    from tariff.cli import main

    argv = [
        "eligible", "list", "--server", tls_tokens.target, "--area", "GD_SZ",
        "--channel", "hall", "--tls-ca", str(tls_tokens.pki.authority.cert), "--json",
    ]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 1  # no token: refused
    assert "UNAUTHENTICATED" in capsys.readouterr().err
    reader = token(keys[1], "shop", Role.READER)
    assert await asyncio.to_thread(main, [*argv, "--token", reader]) == 3  # authenticated:
    assert "NOT_FOUND" in capsys.readouterr().err  # the empty catalog has no version


async def test_the_python_example_client_takes_a_token_and_a_ca(
    tls_tokens: Served, keys: tuple[Path, KeyRing]
) -> None:
    import sys

    from tariff.cli import load_demo

    await asyncio.to_thread(load_demo, tls_tokens.app)
    script = Path(__file__).resolve().parents[2] / "examples" / "eligible_offers.py"
    argv = [str(script), "GD_SZ", "hall", "--address", tls_tokens.target]
    argv += ["--tls-ca", str(tls_tokens.pki.authority.cert)]

    async def run(*extra: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, *extra, stdout=PIPE, stderr=PIPE, env=_env()
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, out, err = await run()
    assert code != 0
    assert "UNAUTHENTICATED" in err
    code, out, err = await run("--token", token(keys[1], "crm", Role.READER))
    assert code == 0, err
    assert "mobile_59" in out


def _env() -> dict[str, str]:
    import os

    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": root, "TARIFF_TOKEN": ""}


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--host", "0.0.0.0"], "refusing to serve 0.0.0.0 in plaintext"),
        (["--tls-cert", "missing.crt", "--tls-key", "missing.key"], "cannot read the TLS key"),
        (["--token-keys", "missing.json"], "cannot read the token key file"),
    ],
)
async def test_tariff_serve_refuses_unsafe_or_broken_security_in_one_line_before_the_store(
    tmp_path: Path, flags: list[str], words: str
) -> None:
    import sys

    database = tmp_path / "never.sqlite"
    argv = ["serve", "--port", "0", "--processes", "1", "--database-url", f"sqlite:///{database}"]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tariff.cli", *argv, *flags, stdout=PIPE, stderr=PIPE, env=_env()
    )
    _, raw = await process.communicate()
    assert process.returncode == 2  # bad settings: README, Exit statuses
    err = raw.decode()
    assert words in err
    assert len(err.strip().splitlines()) == 1
    assert not database.exists()


def test_insecure_is_warned_once_per_start(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(host="192.0.2.18", insecure=True)  # TEST-NET: never bound here
    with caplog.at_level(logging.WARNING, logger="tariff.security"):
        security.check(settings)  # as `tariff serve` does before loading the catalog
        security.interceptors(settings)  # as create_server does
    said = [r for r in caplog.records if "--insecure" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]
