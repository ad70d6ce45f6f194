"""The console's Starlette application and how it runs: beside the gRPC server in its event
loop (`tariff serve --console-port`), or alone against a database (`tariff console`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tariff.bootstrap import App
from tariff.console import api, pages
from tariff.console.access import Guard
from tariff.console.state import Console
from tariff.security.roles import Role

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
R, AU = Role.READER, Role.AUTHOR


def create_app(app: App) -> Starlette:
    """Every route with the role it needs (tariff.security.roles' names): reading needs
    reader; checking, editing, simulating and submitting need author; approving and
    publishing need approver (checked per action on the review page)."""
    console = Console.of(app)
    guard = Guard(console.access)
    routes = [
        Route("/", guard(R, pages.index)),
        Route("/offer/{kind}/{code}", guard(R, pages.offer), methods=["GET", "POST"]),
        Route("/diff", guard(R, pages.diff_page)),
        Route("/edit", guard(R, pages.edit)),
        Route("/simulate", guard(AU, pages.simulate), methods=["GET", "POST"]),
        Route("/review", guard(R, pages.review), methods=["GET", "POST"]),
        Route("/api/file", guard(R, api.current)),
        Route("/api/check", guard(AU, api.check), methods=["POST"]),
        Route("/api/format", guard(AU, api.format_text), methods=["POST"]),
        Route("/api/examples", guard(AU, api.examples), methods=["POST"]),
        Route("/api/upload", guard(AU, api.upload), methods=["POST"]),
        Route("/api/save", guard(AU, api.save), methods=["POST"]),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    web = Starlette(routes=routes)
    web.state.console = console
    return web


def server(app: App, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(app), host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(config)


class Beside:
    """The console running in the gRPC server's loop; `stop` ends it."""

    def __init__(self, web: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self._web = web
        self._task = task

    async def stop(self) -> None:
        self._web.should_exit = True
        await self._task


async def run_beside(app: App, host: str, port: int) -> Beside:
    """Start the console in the running loop (the gRPC server's, which owns the signals)."""
    web = server(app, host, port)
    web.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(web.serve())
    while not web.started:
        if task.done():
            task.result()  # raises the bind error
            raise OSError(f"the console could not listen on {host}:{port}")
        await asyncio.sleep(0.02)
    log.info("console on http://%s:%d/", host, port)
    return Beside(web, task)


def run_alone(app: App, host: str, port: int, on_ready: object = None) -> None:
    """`tariff console`: serve until SIGINT/SIGTERM."""
    web = server(app, host, port)
    if callable(on_ready):

        async def main() -> None:
            task = asyncio.create_task(web.serve())
            while not web.started and not task.done():
                await asyncio.sleep(0.02)
            if web.started:
                on_ready(port)
            await task

        asyncio.run(main())
    else:
        web.run()
