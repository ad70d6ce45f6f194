"""A small filesystem that tests can fill up, for what a store does when the disk is full.

As root, a tmpfs of a few MiB mounted on a temporary directory: filling it with a file is a
real full disk (ENOSPC, so SQLite answers SQLITE_FULL "database or disk is full"). Where
mounting is refused (a container without CAP_SYS_ADMIN), the directory stays an ordinary one
and "full" is SQLite's own page limit (`PRAGMA max_page_count` at the database's current
size, set at the start of every transaction of any engine on a database there, the server's
and the command line's alike): the same SQLITE_FULL from the same driver, so the code under
test cannot tell the difference.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

MOUNT_SIZE = "16m"
_NO_LIMIT = 1_073_741_823  # SQLite's default max_page_count
_CHUNK = b"\0" * (256 * 1024)


class SmallDisk:
    """A directory whose filesystem `fill()` makes full and `free()` makes roomy again."""

    def __init__(self, root: Path, mounted: bool) -> None:
        self.root = root
        self.mounted = mounted
        self._filler = root / "filler.bin"
        self._page_limit = _NO_LIMIT

    def url(self, name: str = "catalog.sqlite") -> str:
        return f"sqlite:///{self.root / name}"

    def fill(self) -> None:
        """No room for one more page: the tmpfs filled to the last byte (each database's WAL
        checkpointed and emptied first, so a write cannot reuse its space), or the page limit
        set to the largest database's current size once vacuumed (no free pages either). Call it
        while no transaction is open."""
        databases = sorted(self.root.glob("*.sqlite"))
        if not self.mounted:
            for database in databases:
                _vacuum(database)  # no free pages left to reuse
            self._page_limit = max(_page_count(d) for d in databases)
            return
        for database in databases:
            _checkpoint(database)
        with self._filler.open("ab") as filler:
            try:
                while True:  # bounded by the filesystem's size
                    filler.write(_CHUNK)
                    filler.flush()
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
            # the last partial chunk: byte by byte until not one more fits
            with suppress(OSError):
                while True:  # bounded: a chunk at most
                    os.write(filler.fileno(), b"\0")
        assert self.free_bytes() < 4096, self.free_bytes()

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)
        self._page_limit = _NO_LIMIT

    def free_bytes(self) -> int:
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def limit_pages(self, connection: Connection) -> None:
        """The page-limit stand-in for a full disk, on a transaction beginning here."""
        database = connection.engine.url.database
        if database and Path(database).parent == self.root:
            connection.exec_driver_sql(f"PRAGMA max_page_count = {self._page_limit}")


def _page_count(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        count: int = connection.execute("PRAGMA page_count").fetchone()[0]
        return count
    finally:
        connection.close()


def _vacuum(database: Path) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("VACUUM")
    finally:
        connection.close()


def _checkpoint(database: Path) -> None:
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        connection.close()


def _mount(root: Path) -> bool:
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={MOUNT_SIZE}", "tariff-test", str(root)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("no tmpfs (%s): filling the disk is SQLite's page limit instead", error)
        return False
    return True


@contextmanager
def small_disk(tmp_path: Path, mount: bool = True) -> Iterator[SmallDisk]:
    """A SmallDisk under tmp_path (a tmpfs unless `mount` is false or mounting is refused),
    unmounted (and its files gone) afterwards."""
    root = tmp_path / "small-disk"
    root.mkdir()
    mounted = mount and _mount(root)
    disk = SmallDisk(root, mounted)
    if not mounted:
        event.listen(Engine, "begin", disk.limit_pages)
    try:
        yield disk
    finally:
        if not mounted:
            event.remove(Engine, "begin", disk.limit_pages)
        if mounted:
            done = subprocess.run(["umount", str(root)], capture_output=True, timeout=30)
            if done.returncode != 0:  # something still holds a file open: detach lazily
                subprocess.run(["umount", "-l", str(root)], capture_output=True, timeout=30)
