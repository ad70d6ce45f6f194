"""Instant reload on PostgreSQL: a publish sends NOTIFY, every server LISTENs and installs the
new version at once; polling (`TARIFF_REFRESH_SECONDS`) stays as the fallback and is all
SQLite has.

A notification is a hint, the store's version list is the truth (NOTIFY is delivered at
commit, only to sessions listening then): a notified server re-reads the list, and after a
lost connection it re-reads once more when it is back, so a publish missed meanwhile is
picked up then. The listener holds its own autocommit connection (psycopg's `notifies()`
keeps the connection busy) in a daemon thread, outside the request path.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tariff.ops.logs import event

log = logging.getLogger("tariff.reload")

CHANNEL = "tariff_versions"
RETRY_SECONDS = (0.5, 1, 2, 5, 10)  # backoff between reconnects, the last one repeated
_LOCK = threading.Lock()


def refresh_once(refresh: Callable[[], None], why: str) -> None:
    """Run `refresh` (App.refresh) alone: the poller and the listener never overlap."""
    started = time.perf_counter()
    with _LOCK:
        refresh()
    seconds = time.perf_counter() - started
    log.debug("catalog versions re-read (%s) in %.3f s", why, seconds)


def notify_published(engine: Engine, number: int) -> None:
    """Tell every listening server that version `number` was published (PostgreSQL only; a
    failure is logged, not raised: the others still find it by polling)."""
    if engine.url.get_backend_name() != "postgresql":
        return
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": CHANNEL, "payload": str(number)})  # fmt: skip
            connection.commit()
    except Exception:  # the publish itself succeeded; polling is the fallback
        log.warning("could not NOTIFY the publish of version %d", number, exc_info=True)


def libpq_url(engine: Engine) -> str:
    """The engine's URL as psycopg takes it (no SQLAlchemy driver suffix)."""
    url = make_url(engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """LISTEN on `CHANNEL` and call `refresh` for each notification, reconnecting forever."""

    def __init__(self, engine: Engine, refresh: Callable[[], None]) -> None:
        self._url = libpq_url(engine)
        self._refresh = refresh
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tariff-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as error:  # a database restart: wait, reconnect, re-read
                self.connected.clear()
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("LISTEN connection lost (%s); retrying in %.1f s", error, wait)
                self._stop.wait(wait)

    def _listen(self) -> None:
        with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self.connected.set()
            refresh_once(self._refresh, "listening")  # what was published while away
            event(log, "listening for published catalog versions", event="listen")
            while not self._stop.is_set():
                for note in connection.notifies(timeout=1.0):
                    started = time.perf_counter()
                    refresh_once(self._refresh, "notified")
                    event(
                        log,
                        f"reloaded on NOTIFY of version {note.payload}",
                        event="reload",
                        notified_version=note.payload,
                        duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    )
