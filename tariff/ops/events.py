"""Catalog events an operator wants to see: installing a version (at start-up, after a
publish, on reload) is logged with its duration and counted in the metrics, with the
resident memory the process grew by (the snapshot's measured footprint)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from tariff.ops.logs import event
from tariff.ops.metrics import METRICS, Metrics

log = logging.getLogger("tariff.catalog")

S = TypeVar("S")
#: Why versions are being installed now: "start-up", "publish" or "reload".
TRIGGER: contextvars.ContextVar[str] = contextvars.ContextVar("install_trigger", default="start-up")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def triggered(why: str) -> Iterator[None]:
    """Installs inside the block are counted and logged as `why`."""
    token = TRIGGER.set(why)
    try:
        yield
    finally:
        TRIGGER.reset(token)


def observed_build(
    build: Callable[[CatalogVersionInfo, CatalogContent], S], metrics: Metrics = METRICS
) -> Callable[[CatalogVersionInfo, CatalogContent], S]:
    """`build` (a snapshot registry's), timed, measured and logged per version."""

    def timed(info: CatalogVersionInfo, content: CatalogContent) -> S:
        trigger = TRIGGER.get()
        before, started = resident_bytes(), time.perf_counter()
        snapshot = build(info, content)
        seconds = time.perf_counter() - started
        grown = max(resident_bytes() - before, 0)
        metrics.install.labels(trigger).observe(seconds)
        metrics.snapshot_bytes.labels(str(info.number)).set(grown)
        event(
            log,
            f"installed catalog version {info.number}",
            event="install",
            trigger=trigger,
            catalog_version=info.number,
            duration_ms=round(seconds * 1000, 1),
            entities=len(content.entities),
            rss_grown_bytes=grown,
        )
        return snapshot

    return timed
