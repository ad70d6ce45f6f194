"""A demo store with token keys, and the console over it in process (Starlette's TestClient:
real routes, real service layer, real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tariff.bootstrap import App, bootstrap
from tariff.cli import load_demo
from tariff.console.access import COOKIE
from tariff.console.app import create_app
from tariff.security.roles import Role
from tariff.security.tokens import KeyRing
from tariff.settings import Settings
from tests.support.secured import make_keys, token


@dataclass
class Store:
    app: App
    ring: KeyRing
    keys: Path

    def client(self, who: str = "", *roles: Role) -> TestClient:
        client = TestClient(create_app(self.app), follow_redirects=False)
        if who:
            client.cookies.set(COOKIE, token(self.ring, who, *roles))
        return client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    keys, ring = make_keys(tmp_path)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'console.sqlite'}", token_keys=keys)
    app = bootstrap(settings)
    load_demo(app)
    try:
        yield Store(app, ring, keys)
    finally:
        app.close()
