"""Prometheus metrics of a server process (prometheus_client), served on `--metrics-port`.

Families (all prefixed `tariff_`):
- `rpc_calls_total{method,code}` and `rpc_duration_seconds{method}`: every call, by the
  observing interceptor (tariff.ops.observe), not by the servicers;
- `rated_events_total{status,reason}`: what Rate and RateStream answered, per event;
- `quoted_carts_total{outcome}`: Quote answers (priced, refused, invalid, ...);
- `catalog_versions_installed`, `catalog_version_in_force`, `catalog_version_latest`:
  read from the snapshots at scrape time;
- `catalog_install_seconds{trigger}` and `catalog_publish_seconds`: how long installing a
  version (start-up, publish, reload) and publishing take;
- `catalog_snapshot_bytes{version}`: resident memory the process grew by while installing
  each installed version (the snapshot's footprint, measured, not estimated);
- and prometheus_client's own `process_*` (CPU, resident memory, open files).

With `--processes N` each child serves its own metrics on `metrics_port + index` (a scrape
config lists them, or a pushgateway-free multiprocess setup is left to the operator).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from catalog.snapshot import SnapshotRegistry

#: Latency buckets (seconds): sub-millisecond quotes to multi-second batches.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The process's metric families in one registry (tests make their own)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)  # process_*: CPU seconds, resident memory, open files
        PlatformCollector(registry=r)
        self.calls = Counter(
            "tariff_rpc_calls",
            "RPCs answered, by method and status code",
            ("method", "code"),
            registry=r,
        )
        self.duration = Histogram(
            "tariff_rpc_duration_seconds",
            "RPC latency in the server, by method",
            ("method",),
            buckets=BUCKETS,
            registry=r,
        )
        self.rated = Counter(
            "tariff_rated_events",
            "usage events answered by Rate/RateStream",
            ("status", "reason"),
            registry=r,
        )
        self.quoted = Counter(
            "tariff_quoted_carts", "carts Quote answered, by outcome", ("outcome",), registry=r
        )
        self.install = Histogram(
            "tariff_catalog_install_seconds",
            "time to install a catalog version",
            ("trigger",),
            buckets=BUCKETS,
            registry=r,
        )
        self.publish = Histogram(
            "tariff_catalog_publish_seconds",
            "time to publish the draft (check, store, install)",
            buckets=BUCKETS,
            registry=r,
        )
        self.snapshot_bytes = Gauge(
            "tariff_catalog_snapshot_bytes",
            "resident memory the process grew by installing each installed version",
            ("version",),
            registry=r,
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._versions: _Versions | None = None

    def call(self, method: str, code: str, seconds: float) -> None:
        """One answered call (children cached: `labels()` is the costly part)."""
        pair = self._children.get((method, code))
        if pair is None:
            pair = self._children[method, code] = (
                self.calls.labels(method, code),
                self.duration.labels(method),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    def watch(self, snapshots: SnapshotRegistry[Any], clock: Callable[[], datetime]) -> None:
        """Report `snapshots`' versions at every scrape (the last registry watched)."""
        if self._versions is None:
            self._versions = _Versions(snapshots, clock)
            self.registry.register(self._versions)
        else:
            self._versions.snapshots, self._versions.clock = snapshots, clock

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve /metrics over HTTP in a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)


class _Versions(Collector):
    def __init__(self, snapshots: SnapshotRegistry[Any], clock: Callable[[], datetime]) -> None:
        self.snapshots = snapshots
        self.clock = clock

    def collect(self) -> Any:
        timeline = self.snapshots.timeline
        installed = GaugeMetricFamily(
            "tariff_catalog_versions_installed", "catalog versions installed in memory"
        )
        installed.add_metric([], len(self.snapshots.installed()))
        in_force = timeline.in_force(self.clock())
        force = GaugeMetricFamily(
            "tariff_catalog_version_in_force", "the catalog version in force now (0: none)"
        )
        force.add_metric([], in_force.number if in_force is not None else 0)
        latest = timeline.latest()
        last = GaugeMetricFamily(
            "tariff_catalog_version_latest", "the newest published catalog version (0: none)"
        )
        last.add_metric([], latest.number if latest is not None else 0)
        return [installed, force, last]


#: The process's metrics: the interceptor, the catalog events and /metrics share them.
METRICS = Metrics()
