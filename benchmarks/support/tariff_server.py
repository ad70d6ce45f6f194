"""The real server for end-to-end benchmarks: a generated catalog of `--offers` offers
imported into a fresh SQLite file, published (effective 2026-01-01), served by `tariff
serve`'s own start-up path on 127.0.0.1. Prints the port once it serves.

Run as `python -m benchmarks.support.tariff_server --offers 1000` in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.support.catalogs import bench_catalog
from tariff import security
from tariff.bootstrap import bootstrap
from tariff.server import start_server
from tariff.settings import Settings
from tests.support.quote_catalog import quote_content

EFFECTIVE = datetime(2026, 1, 1, tzinfo=UTC)


async def serve(
    offers: int, quotes: bool = False, token_keys: Path | None = None, no_auth: bool = False
) -> None:
    if no_auth:  # the same server without the authentication interceptor at all
        security.interceptors = lambda *args, **kwargs: []
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.sqlite'}"
        settings = Settings(
            host="127.0.0.1", port=0, database_url=url, refresh_seconds=0, token_keys=token_keys
        )
        app = await asyncio.to_thread(bootstrap, settings)
        content = quote_content() if quotes else bench_catalog(offers)
        await asyncio.to_thread(app.catalog.import_content, content)
        await asyncio.to_thread(app.catalog.publish, EFFECTIVE, "benchmark catalog")
        running = await start_server(app)
        await running.mark_serving()
        sys.stdout.write(f"{running.port}\n")
        sys.stdout.flush()
        await running.server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=1000, help="a generated catalog's size")
    parser.add_argument("--quotes", action="store_true", help="serve the quote tests' catalog")
    parser.add_argument("--token-keys", type=Path, help="accept bearer tokens of this key file")
    parser.add_argument("--no-auth", action="store_true", help="no authentication interceptor")
    args = parser.parse_args()
    asyncio.run(serve(args.offers, args.quotes, args.token_keys, args.no_auth))


if __name__ == "__main__":
    main()
