"""What an operator lives through, on a real `tariff serve` process: the server killed (-9)
in the middle of a publish, the disk filling up under the command line, and the PostgreSQL
server restarted under a running server.

After a kill the store holds the version wholly or not at all: every version listed loads and
matches its hash and counts, and the draft is byte for byte as it was (no version) or exactly
what that publish makes of it (the version); a new server then starts on it and serves.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import URL, Engine, select, text
from sqlalchemy.engine import make_url

from catalog import codec
from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo, Entry, LifecycleStatus
from catalog.publishing import plan_publish
from catalog.services import draft_content
from catalog.sqlstore import (
    SqlUnitOfWork,
    area_table,
    channel_table,
    create_engine_for,
    entity_table,
    rule_source_table,
    segment_table,
    zone_table_table,
)
from tariff.bootstrap import bootstrap
from tariff.cli import main
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.settings import Settings
from tariff.v1 import (
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    pricing_service_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2_grpc,
)
from tests.support.databases import DATABASE_PREFIX, migrated_database, postgres_server_url
from tests.support.disks import small_disk
from tests.support.priced import CHECK, QUOTE, local_call, priced_starter
from tests.support.served import ServerProcess, server_process, start_server

STARTER = Path(__file__).resolve().parents[2] / "examples" / "starter"

OFFERS = 150  # publish takes ~1 s here: long enough to be killed at several points
TIMED = (0.35, 0.85)  # when to kill, as fractions of a publish left alone
NO_REFRESH = {"TARIFF_REFRESH_SECONDS": "0"}


# --- the store, read back as it is on disk -------------------------------------------------


Rows = dict[str, list[tuple[Any, ...]]]
DRAFT_TABLES = (
    entity_table,
    area_table,
    channel_table,
    segment_table,
    zone_table_table,
    rule_source_table,
)


@dataclass
class Stored:
    """Everything in a store: the draft's raw rows and its entries, the versions."""

    draft_rows: Rows  # every table of the draft, row by row, in key order
    entries: list[Entry]
    reference: CatalogContent
    versions: list[CatalogVersionInfo]
    contents: dict[int, CatalogContent]


def read_store(url: str) -> Stored:
    engine = create_engine_for(url)
    try:
        rows: Rows = {}
        with engine.connect() as connection:
            for table in DRAFT_TABLES:
                ordered = select(table).order_by(*table.primary_key.columns)
                rows[table.name] = [tuple(r) for r in connection.execute(ordered)]
        with SqlUnitOfWork(engine) as uow:
            repo = uow.catalog
            versions = repo.list_versions()
            contents = {v.number: repo.load_version_content(v.number) for v in versions}
            return Stored(rows, repo.list_entries(), draft_content(repo), versions, contents)
    finally:
        engine.dispose()


def assert_whole(before: Stored, after: Stored) -> bool:
    """The store after a publish that may have been killed: True when the version is there
    (wholly), False when it is not (at all)."""
    for info in after.versions:  # every version complete and readable
        content = after.contents[info.number]
        assert codec.content_hash(content) == info.content_hash, info
        assert content.counts() == (info.business_count, info.product_count, info.combo_count)
    numbers = [v.number for v in after.versions]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    if len(after.versions) == len(before.versions):
        assert after.draft_rows == before.draft_rows  # byte for byte
        return False
    assert len(after.versions) == len(before.versions) + 1
    info = after.versions[-1]
    plan = plan_publish(before.entries, before.reference, info.published_at)
    assert after.contents[info.number] == plan.content
    changed = {(e.kind, e.code): e for e in plan.changed_entries}
    assert changed, "the publish launches entities: its draft writes are checked too"
    assert after.entries == [changed.get((e.kind, e.code), e) for e in before.entries]
    for name, rows in after.draft_rows.items():
        if name != entity_table.name:
            assert rows == before.draft_rows[name], name
    return True


def in_test_catalog() -> CatalogContent:
    """A generated catalog whose every entity is ready to launch: a publish writes the
    version and updates every entry, in one transaction."""
    content = generate_catalog(CatalogSpec(offers=OFFERS, areas=4, seed=5))
    entities = {
        key: dataclasses.replace(entity, status=LifecycleStatus.IN_TEST)
        for key, entity in content.entities.items()
    }
    return dataclasses.replace(content, entities=entities)


def load(url: str, content: CatalogContent) -> None:
    app = bootstrap(Settings(database_url=url, refresh_seconds=0))
    try:
        app.catalog.import_content(content)
    finally:
        app.close()


# --- copies of one prepared store, one per kill -------------------------------------------


class Copies:
    """Fresh copies of a prepared store: a file copy (SQLite) or a database made from it as
    a template (PostgreSQL); dropped at the end."""

    def __init__(self, base: str, tmp_path: Path) -> None:
        self.base = make_url(base)
        self.tmp_path = tmp_path
        self.made: list[str] = []

    def make(self) -> str:
        if self.base.get_backend_name() == "sqlite":
            source = Path(str(self.base.database))
            target = self.tmp_path / f"copy{len(self.made)}.sqlite"
            target.write_bytes(source.read_bytes())  # closed, so the WAL is checkpointed
            url = f"sqlite:///{target}"
        else:
            name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
            with _admin() as admin, admin.connect() as connection:
                connection.execute(
                    text(f'CREATE DATABASE "{name}" TEMPLATE "{self.base.database}"')
                )
            url = self.base.set(database=name).render_as_string(hide_password=False)
        self.made.append(url)
        return url

    def drop(self) -> None:
        if self.base.get_backend_name() == "sqlite":
            return
        with _admin() as admin, admin.connect() as connection:
            for url in self.made:
                name = make_url(url).database
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _admin() -> Iterator[Engine]:
    engine = create_engine_for(postgres_server_url().render_as_string(hide_password=False))
    engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()


def publish_call(server: ServerProcess) -> tuple[grpc.Channel, grpc.Future[Any]]:
    channel = grpc.insecure_channel(server.address)
    stub = catalog_service_pb2_grpc.CatalogServiceStub(channel)
    request = catalog_service_pb2.PublishCatalogRequest(description="killed?")
    return channel, stub.PublishCatalog.future(request, timeout=120)


def _writing(url: str) -> Callable[[], bool]:
    """Whether the publish is writing: on PostgreSQL, a transaction of the store's database
    has written (it has an xid); on SQLite, the WAL grows (the commit is being written:
    nothing else writes once the server is up)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() == "sqlite":
        wal = Path(f"{name}-wal")
        return lambda: wal.exists() and wal.stat().st_size > 0

    def check() -> bool:
        with _admin() as admin, admin.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = :name AND backend_xid IS NOT NULL"
                ),
                {"name": name},
            ).scalar_one()
        return bool(found)

    return check


def kill_during_publish(
    url: str, tmp_path: Path, name: str, delay: float, trigger: Callable[[], bool] | None = None
) -> bool:
    """Start a server on the store, ask it to publish, SIGKILL it `delay` s later (or as soon
    as `trigger` says so, `delay` at most). True if the publish had answered by then."""
    server = start_server(url, tmp_path, NO_REFRESH, name)
    try:
        channel, answer = publish_call(server)
        deadline = time.monotonic() + delay
        if trigger is None:
            time.sleep(delay)
        else:
            while time.monotonic() < deadline and not trigger():  # bounded by the delay
                time.sleep(0.002)
        server.kill()
        try:
            answer.result(timeout=30)
        except grpc.RpcError:
            return False
        finally:
            channel.close()
        return True
    finally:
        server.kill()


def assert_serves(url: str, tmp_path: Path, stored: Stored) -> None:
    """A new server on the store comes up, lists its versions and can publish the draft
    (again, if the killed publish had landed: then there is nothing new to publish)."""
    with (
        server_process(url, tmp_path, NO_REFRESH, "after") as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        health = health_pb2_grpc.HealthStub(channel)
        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=30)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        listed = stub.ListCatalogVersions(
            catalog_service_pb2.ListCatalogVersionsRequest(), timeout=30
        )
        assert sorted(v.number for v in listed.versions) == [v.number for v in stored.versions]
        request = catalog_service_pb2.PublishCatalogRequest(description="after the kill")
        if stored.versions:
            with pytest.raises(grpc.RpcError) as caught:
                stub.PublishCatalog(request, timeout=120)
            assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
            assert "nothing to publish" in (caught.value.details() or "")
        else:
            published = stub.PublishCatalog(request, timeout=120)
            assert published.version.number == 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.getfixturevalue("postgres_server")
    return str(request.param)


def test_kill_9_during_publish_leaves_the_version_whole_or_absent(
    backend: str, tmp_path: Path
) -> None:
    with migrated_database(backend, tmp_path) as base:
        load(base, in_test_catalog())
        before = read_store(base)
        copies = Copies(base, tmp_path)
        try:
            # a publish left alone (here, in process): how long one takes, what it leaves
            calibration = copies.make()
            app = bootstrap(Settings(database_url=calibration, refresh_seconds=0))
            try:
                started = time.monotonic()
                assert app.catalog.publish(None, "left alone").info.number == 1
                took = time.monotonic() - started
            finally:
                app.close()
            assert assert_whole(before, read_store(calibration)) is True
            outcomes: list[tuple[str, float, bool, bool]] = []
            for i, fraction in enumerate(TIMED):
                url = copies.make()
                answered = kill_during_publish(url, tmp_path, f"kill{i}", fraction * took)
                landed = assert_whole(before, read_store(url))
                outcomes.append((f"kill{i}", round(fraction * took, 2), answered, landed))
            url = copies.make()  # and once the publish is seen writing
            answered = kill_during_publish(url, tmp_path, "writing", 2 * took, _writing(url))
            outcomes.append(("writing", 0, answered, assert_whole(before, read_store(url))))
            print(f"publish took {took:.2f} s; (kill, delay, answered, landed): {outcomes}")
            assert_serves(url, tmp_path, read_store(url))
            assert_whole(before, read_store(url))
        finally:
            copies.drop()


# --- the disk fills up under the command line ---------------------------------------------


@pytest.mark.parametrize("mount", [True, False], ids=["tmpfs", "page-limit"])
def test_cli_writes_on_a_full_disk_are_one_line_and_change_nothing(
    mount: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bigger = tmp_path / "bigger"  # the starter bundle with a zone table of ~1 MB
    shutil.copytree(STARTER, bigger)
    zones = bigger / "zones" / "cn_zones.csv"
    rows = "".join(f"86{i:08d},national\n" for i in range(40_000))
    zones.write_text(zones.read_text(encoding="utf-8") + rows, encoding="utf-8")
    with small_disk(tmp_path, mount) as disk:
        if mount and not disk.mounted:
            pytest.skip("mounting a tmpfs was refused; the page-limit case covers the error")
        db = ["--database-url", disk.url()]
        assert main(["bundle", "import", str(STARTER), *db]) == 0
        before = read_store(disk.url())
        capsys.readouterr()
        disk.fill()
        assert main(["bundle", "import", str(bigger), *db]) == 1
        # on a tmpfs, the process opening the database already fails to grow its WAL index
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith("tariff: error: the catalog database is out of disk space: ")
        disk.free()
        assert read_store(disk.url()).draft_rows == before.draft_rows
        assert main(["bundle", "import", str(bigger), *db]) == 0
        assert main(["publish", "--effective-from", "2026-01-01T00:00:00Z", *db]) == 0
        after = read_store(disk.url())
        assert [v.number for v in after.versions] == [1]
        assert len(after.contents[1].zone_tables["cn_zones"].prefixes) > 40_000


# --- PostgreSQL restarted under a running server -------------------------------------------

SMALL_ZONES = catalog_service_pb2.PutZoneTableRequest(
    table=catalog_pb2.ZoneTable(
        name="extra", prefixes=[catalog_pb2.ZonePrefix(prefix="0086", zone="national")]
    )
)
FEE, RATE = Decimal("39.00"), Decimal("0.10")


def rate_request() -> pricing_service_pb2.RateRequest:
    return pricing_service_pb2.RateRequest(events=[local_call("call0001", datetime.now(UTC))])


#: How the test stops and starts the PostgreSQL server (override for another setup, e.g. a
#: container: TARIFF_TEST_POSTGRES_STOP="docker stop pg").
STOP = os.environ.get("TARIFF_TEST_POSTGRES_STOP", "pg_ctlcluster 15 main stop -m fast")
START = os.environ.get("TARIFF_TEST_POSTGRES_START", "pg_ctlcluster 15 main start")
OUTAGE_SECONDS = 1.5  # how long the test keeps the server down
BACK_SECONDS = 30  # the bound on PostgreSQL and then the store coming back
Code = grpc.StatusCode


def _postgres(command: str) -> None:
    """Run a stop/start command; without the rights to, fail under CI, skip elsewhere."""
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60)
    except OSError as error:
        reason, ok = f"{command!r} cannot run: {error}", False
    else:
        reason, ok = f"{command!r} failed: {done.stderr.strip()}", done.returncode == 0
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this test may not be skipped)")
        pytest.skip(reason)


def _wait_for_postgres() -> None:
    deadline = time.monotonic() + BACK_SECONDS
    while time.monotonic() < deadline:  # bounded by the deadline
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], timeout=10)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    pytest.fail(f"PostgreSQL did not come back within {BACK_SECONDS} s")


@dataclass
class Calls:
    """What a loop of calls saw: answers, and the status code of every failure."""

    answered: list[float] = dataclasses.field(default_factory=list)  # monotonic times
    failed: list[tuple[float, str]] = dataclasses.field(default_factory=list)


def _keep_calling(call: Callable[[], None], calls: Calls, stop: threading.Event) -> None:
    for _ in range(100_000):  # bounded; ends at `stop` long before
        if stop.is_set():
            return
        try:
            call()
        except grpc.RpcError as error:
            calls.failed.append((time.monotonic(), f"{error.code().name}: {error.details()}"))
        else:
            calls.answered.append(time.monotonic())
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.restarts_postgres
def test_postgres_restarted_under_a_running_server(postgres_server: URL, tmp_path: Path) -> None:
    """Stops and starts the whole PostgreSQL server: it ends every connection to it, other
    tests' too (deselect with -m "not restarts_postgres" while others use the server)."""
    with migrated_database("postgres", tmp_path) as url:
        load(url, priced_starter(FEE, RATE))
        app = bootstrap(Settings(database_url=url, refresh_seconds=0))
        try:
            app.catalog.publish(codec.parse_instant("2026-01-01T00:00:00Z"), "v1")
        finally:
            app.close()
        with (
            server_process(url, tmp_path, {"TARIFF_REFRESH_SECONDS": "1"}) as server,
            grpc.insecure_channel(server.address) as channel,
        ):
            catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
            pricing = pricing_service_pb2_grpc.PricingServiceStub(channel)
            qualification = qualification_service_pb2_grpc.QualificationServiceStub(channel)

            def hot() -> None:  # the sales calls: answered from the versions in memory
                quote = pricing.Quote(QUOTE, timeout=10)
                assert quote.catalog_version == 1
                rated = pricing.Rate(rate_request(), timeout=10)
                [result] = rated.results
                assert result.status == pricing_service_pb2.RATING_STATUS_RATED, result
                assert result.charge.nanos == 100_000_000  # one minute at 0.10
                checked = qualification.CheckEligibility(CHECK, timeout=10)
                assert checked.qualified

            def store() -> None:  # calls that need the database
                catalog.ListCatalogVersions(
                    catalog_service_pb2.ListCatalogVersionsRequest(), timeout=10
                )

            hot()
            store()
            stop = threading.Event()
            hot_calls, store_calls = Calls(), Calls()
            loops = [
                threading.Thread(target=_keep_calling, args=(hot, hot_calls, stop)),
                threading.Thread(target=_keep_calling, args=(store, store_calls, stop)),
            ]
            for loop in loops:
                loop.start()
            try:
                _postgres(STOP)
                try:
                    down = time.monotonic()
                    with pytest.raises(grpc.RpcError) as caught:
                        catalog.PutZoneTable(SMALL_ZONES, timeout=10)
                    assert caught.value.code() is Code.UNAVAILABLE, caught.value
                    assert (caught.value.details() or "").startswith(
                        "the catalog database is unavailable: "
                    )
                    time.sleep(OUTAGE_SECONDS)
                    up = time.monotonic()
                finally:
                    _postgres(START)
                    _wait_for_postgres()
                deadline = time.monotonic() + BACK_SECONDS
                while True:  # the store back without restarting the server, in bounded time
                    try:
                        catalog.PutZoneTable(SMALL_ZONES, timeout=10)
                        break
                    except grpc.RpcError as error:
                        if error.code() is not Code.UNAVAILABLE or time.monotonic() > deadline:
                            raise
                    time.sleep(0.2)
                time.sleep(0.5)
            finally:
                stop.set()
                for loop in loops:
                    loop.join(30)
            assert hot_calls.failed == []
            assert any(down < t < up for t in hot_calls.answered), "no sales call in the outage"
            codes = {reason.split(":", 1)[0] for _, reason in store_calls.failed}
            assert codes <= {"UNAVAILABLE"}, store_calls.failed
            assert store_calls.answered[-1] > up  # answering again
            # another process publishes: the server's refresh, failing during the outage,
            # picks it up again (within a bounded time)
            other = bootstrap(Settings(database_url=url, refresh_seconds=0))
            try:
                other.catalog.import_content(priced_starter(Decimal(49), RATE))
                assert other.catalog.publish(None, "v2").info.number == 2
            finally:
                other.close()
            deadline = time.monotonic() + BACK_SECONDS
            while pricing.Quote(QUOTE, timeout=10).catalog_version != 2:  # bounded
                assert time.monotonic() < deadline, "version 2 never reached the server"
                time.sleep(0.2)
        assert "unexpected error" not in server.output()  # no INTERNAL, ever
