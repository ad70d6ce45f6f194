"""The grpc.aio server: services, health, reflection, error mapping and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from catalog.errors import StorageFault
from catalog.quote_store import SqlQuoteStore
from tariff import security
from tariff.bootstrap import App
from tariff.errors import ErrorMappingInterceptor
from tariff.ops.logs import event
from tariff.ops.metrics import METRICS
from tariff.ops.observe import ObservingInterceptor
from tariff.ops.reload import Listener, refresh_once
from tariff.servicers import governance
from tariff.servicers.catalog import CatalogServicer
from tariff.servicers.pricing import PricingServicer
from tariff.servicers.qualification import QualificationServicer
from tariff.servicers.rules import RulesServicer
from tariff.v1 import (
    catalog_service_pb2,
    catalog_service_pb2_grpc,
    pricing_service_pb2,
    pricing_service_pb2_grpc,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
    rules_service_pb2,
    rules_service_pb2_grpc,
)

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

CATALOG_SERVICE = catalog_service_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name
RULES_SERVICE = rules_service_pb2.DESCRIPTOR.services_by_name["RulesService"].full_name
QUALIFICATION_SERVICE = qualification_service_pb2.DESCRIPTOR.services_by_name[
    "QualificationService"
].full_name
PRICING_SERVICE = pricing_service_pb2.DESCRIPTOR.services_by_name["PricingService"].full_name
#: Services that answer from a published version: SERVING only once one exists.
NEEDS_VERSION = frozenset({QUALIFICATION_SERVICE, PRICING_SERVICE})
HEALTH_SECONDS = 1.0


@dataclass
class Running:
    """A started server and what it needs to report health and stop cleanly."""

    server: grpc.aio.Server
    port: int
    health: HealthServicer
    services: tuple[str, ...]
    app: App

    async def mark_serving(self) -> None:
        await self.health.set("", SERVING)
        await self.sync_health()

    async def sync_health(self) -> None:
        """Per service: SERVING, except those that need a published version while none
        exists (a load balancer must not send sales questions to an empty catalog)."""
        published = self.app.snapshots.timeline.latest() is not None
        for name in self.services:
            ready = published or name not in NEEDS_VERSION
            await self.health.set(name, SERVING if ready else NOT_SERVING)

    async def stop(self, grace: float) -> None:
        """Health NOT_SERVING first (load balancers drain), then let calls in flight finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_server(app: App, *, reuse_port: bool = False) -> Running:
    """Create and start the server on the configured address; port 0 picks a free port.

    Health answers NOT_SERVING until `mark_serving` is called (after the snapshots load).
    """
    settings = app.settings
    # catalog servicers run blocking store calls via asyncio.to_thread: size that pool
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="tariff-store")
    )
    options = [
        # one process: a second server on the port must fail, not share traffic; with
        # --processes the supervisor's children share it on purpose
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]
    if settings.max_connection_age_seconds > 0:  # clients reconnect, and re-resolve
        age_ms = int(settings.max_connection_age_seconds * 1000)
        options += [
            ("grpc.max_connection_age_ms", age_ms),
            ("grpc.max_connection_age_grace_ms", max(age_ms // 10, 1000)),
        ]
    server = grpc.aio.server(
        migration_thread_pool=ThreadPoolExecutor(max_workers=settings.workers),
        interceptors=[
            ObservingInterceptor(principal=security.current_principal),
            *security.interceptors(settings, app.catalog.governance.record),
            ErrorMappingInterceptor(),
        ],
        options=options,
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(
        CatalogServicer(app.catalog, app.snapshots), server
    )
    rules_service_pb2_grpc.add_RulesServiceServicer_to_server(
        RulesServicer(
            app.catalog, app.snapshots, app.clock, settings.zone, settings.max_rate_events
        ),
        server,
    )
    qualification_service_pb2_grpc.add_QualificationServiceServicer_to_server(
        QualificationServicer(app.snapshots, app.clock, settings.zone), server
    )
    pricing_service_pb2_grpc.add_PricingServiceServicer_to_server(
        PricingServicer(
            app.snapshots,
            app.clock,
            settings.zone,
            settings.max_rate_events,
            settings.max_response_bytes,
            settings.max_batch_rows,
            SqlQuoteStore(app.engine),
            security.current_principal,
        ),
        server,
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    governed = governance.add_to_server(app.catalog.governance, server)
    services = (CATALOG_SERVICE, RULES_SERVICE, QUALIFICATION_SERVICE, PRICING_SERVICE, governed)
    reflection.enable_server_reflection(
        (
            *services,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        address = f"{settings.host}:{settings.port}"
        credentials = security.server_credentials(settings)
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError:  # grpc's "Failed to bind": say it the way an operator reads it
        port = 0
    if port == 0:
        raise OSError(
            f"cannot listen on {settings.host}:{settings.port}: "
            "the address is in use or not available here"
        )
    await server.start()
    await health.set("", NOT_SERVING)
    return Running(server=server, port=port, health=health, services=services, app=app)


async def _refresh_forever(app: App, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(refresh_once, app.refresh, "poll")
        except StorageFault as fault:  # the database is away: one line, try again later
            log.warning("refreshing catalog versions failed: %s", fault)
        except Exception:  # a bug: keep its traceback, and keep serving
            log.exception("refreshing catalog versions failed")


async def _health_forever(running: Running) -> None:
    while True:
        await asyncio.sleep(HEALTH_SECONDS)
        await running.sync_health()


async def serve(
    app: App,
    *,
    on_ready: Callable[[int], None] | None = None,
    reuse_port: bool = False,
    console: tuple[str, int] | None = None,
) -> None:
    """Run until SIGTERM or SIGINT, then drain calls in flight for `grace_seconds`;
    `console` (host, port): the web console beside it (tariff.console)."""
    running = await start_server(app, reuse_port=reuse_port)
    await running.mark_serving()
    beside = None
    if console is not None:
        from tariff.console.app import run_beside

        beside = await run_beside(app, *console)
    if app.settings.metrics_port is not None:
        METRICS.watch(app.snapshots, app.clock)
        METRICS.serve(app.settings.metrics_port, app.settings.metrics_host)
        log.info(
            "metrics on http://%s:%d/metrics", app.settings.metrics_host, app.settings.metrics_port
        )
    log.info("serving on %s:%d", app.settings.host, running.port)
    if on_ready is not None:
        on_ready(running.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(_health_forever(running))]
    if app.settings.refresh_seconds > 0:
        tasks.append(asyncio.create_task(_refresh_forever(app, app.settings.refresh_seconds)))
    listener = None
    if app.engine.url.get_backend_name() == "postgresql":  # publishes elsewhere: at once
        listener = Listener(app.engine, app.refresh).start()
    try:
        await stop.wait()
        log.info("stopping: draining calls for up to %.1f s", app.settings.grace_seconds)
    finally:
        started = time.perf_counter()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await running.stop(app.settings.grace_seconds)
        if beside is not None:
            await beside.stop()
        if listener is not None:
            await asyncio.to_thread(listener.stop)
        app.close()
        seconds = time.perf_counter() - started
        event(log, f"drained in {seconds:.2f} s", event="drain", duration_ms=round(seconds * 1000))
