"""A small filesystem that tests can fill up, for what a store does when the disk is full.

As root, a tmpfs of a few MiB mounted on a temporary directory: filling it with a file is a
real full disk (ENOSPC, so SQLite answers SQLITE_FULL "database or disk is full"). Where
mounting is refused (a container without CAP_SYS_ADMIN), the directory stays an ordinary one
and "full" is SQLite's own page limit (`PRAGMA max_page_count` at the current size, applied
to every transaction of an attached engine): the same SQLITE_FULL from the same driver, so the
code under test cannot tell the difference.
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
from typing import Any

from sqlalchemy import Engine, event

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
        self._engines: list[Engine] = []

    def url(self, name: str = "catalog.sqlite") -> str:
        return f"sqlite:///{self.root / name}"

    def attach(self, engine: Engine) -> None:
        """Let `fill()` reach this engine when there is no tmpfs (a no-op on a tmpfs)."""
        if self.mounted:
            return

        def limit(connection: Any) -> None:
            connection.exec_driver_sql(f"PRAGMA max_page_count = {self._page_limit}")

        event.listen(engine, "begin", limit)
        self._engines.append(engine)

    def fill(self) -> None:
        """No room for one more page: the tmpfs filled to the last byte (each database's WAL
        checkpointed and emptied first), or the page limit set to each attached database's
        current size. Call it while no transaction is open."""
        if not self.mounted:
            assert self._engines, "attach the store's engine first"
            sizes = []
            for engine in self._engines:
                with engine.connect() as connection:
                    sizes.append(connection.exec_driver_sql("PRAGMA page_count").scalar_one())
            self._page_limit = max(sizes)
            return
        for database in self.root.glob("*.sqlite"):
            # an emptied WAL: a write must find new space, not reuse what a checkpoint left
            checkpoint = sqlite3.connect(database)
            try:
                checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                checkpoint.close()
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
    try:
        yield SmallDisk(root, mounted)
    finally:
        if mounted:
            done = subprocess.run(["umount", str(root)], capture_output=True, timeout=30)
            if done.returncode != 0:  # something still holds a file open: detach lazily
                subprocess.run(["umount", "-l", str(root)], capture_output=True, timeout=30)
