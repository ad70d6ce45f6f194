"""The editor's JSON endpoints: check as you type, format, examples, load and save.

Bodies are JSON `{path, text[, revision]}` at most a rule file's size (plus framing); a
refusal answers `{"error": ...}` with a 4xx status and writes nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from catalog.errors import CatalogError, StaleRevision, ValidationError
from catalog.versions import DRAFT
from tariff.console.state import Console
from tariff.console.workbench import (
    MAX_FILE_BYTES,
    ConsoleRefusal,
    check_file,
    checked_text,
    decode_upload,
    find_file,
    format_or_diagnose,
    run_file_examples,
    save_file,
)

MAX_BODY = 4 * MAX_FILE_BYTES + 4096  # JSON escapes may grow a text up to 6x; refused later


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    too_large = f"the request is too large: at most {limit:,} bytes (nothing was changed)"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ConsoleRefusal(too_large, 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ConsoleRefusal(too_large, 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict[str, Any]:
    try:
        asked = json.loads(await _body(request))
    except (ValueError, UnicodeDecodeError):
        raise ConsoleRefusal("the request is not JSON") from None
    if not isinstance(asked, dict) or not isinstance(asked.get("path"), str):
        raise ConsoleRefusal("the request must be {path, text}")
    return asked


def _refused(error: Exception, status: int = 400) -> JSONResponse:
    if isinstance(error, ConsoleRefusal):
        status = error.status
    problems = []
    if isinstance(error, ValidationError):
        problems = [f"{v.field}: {v.description}" for v in error.violations]
    return JSONResponse({"error": str(error), "problems": problems}, status_code=status)


async def check(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        asked = await _json(request)
        text = checked_text(asked.get("text"))
    except ConsoleRefusal as error:
        return _refused(error)
    content = await asyncio.to_thread(console.app.catalog.content, DRAFT)
    found = await asyncio.to_thread(check_file, content, asked["path"], text)
    return JSONResponse({"diagnostics": found})


async def format_text(request: Request) -> Response:
    try:
        asked = await _json(request)
        text = checked_text(asked.get("text"))
        return JSONResponse(await asyncio.to_thread(format_or_diagnose, asked["path"], text))
    except ConsoleRefusal as error:
        return _refused(error)


async def examples(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        asked = await _json(request)
        whole = bool(asked.get("all"))
        text = None if whole else checked_text(asked.get("text"))
    except ConsoleRefusal as error:
        return _refused(error)
    content = await asyncio.to_thread(console.app.catalog.content, DRAFT)
    path = None if whole else asked["path"]
    return JSONResponse(await asyncio.to_thread(run_file_examples, content, path, text))


async def save(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        asked = await _json(request)
        text = checked_text(asked.get("text"))
        revision = str(asked.get("revision", ""))
        saved = await asyncio.to_thread(
            save_file, console.app.catalog, asked["path"], text, revision
        )
    except StaleRevision as error:
        message = f"{error} — someone saved this file after you opened it; nothing was saved"
        return JSONResponse({"error": message, "stale": True}, status_code=409)
    except (ConsoleRefusal, CatalogError) as error:
        return _refused(error)
    content = await asyncio.to_thread(console.app.catalog.content, DRAFT)
    found = await asyncio.to_thread(check_file, content, saved.source.path, saved.source.text)
    return JSONResponse({"revision": saved.revision, "diagnostics": found})


async def upload(request: Request) -> Response:
    """A file from the PM's disk, decoded for the editor (not saved): raw bytes in."""
    name = request.query_params.get("name", "file")[:200]
    try:
        data = await _body(request, MAX_FILE_BYTES + 1)
        return JSONResponse({"text": decode_upload(data, name)})
    except ConsoleRefusal as error:
        return _refused(error)


async def current(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        file = await asyncio.to_thread(
            find_file, console.app.catalog, request.query_params.get("path", "")
        )
    except ConsoleRefusal as error:
        return _refused(error)
    return JSONResponse({"text": file.source.text, "revision": file.revision})
