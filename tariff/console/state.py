"""What the console's routes share: the running service (tariff.bootstrap.App), who may do
what, and the live and draft catalogs simulations read."""

from __future__ import annotations

from dataclasses import dataclass

from tariff.bootstrap import App
from tariff.console.access import Access
from tariff.console.simulation import Catalogs


@dataclass
class Console:
    app: App
    access: Access
    catalogs: Catalogs

    @classmethod
    def of(cls, app: App) -> Console:
        return cls(
            app,
            Access(app.settings),
            Catalogs(app.catalog, app.snapshots, app.clock),
        )
