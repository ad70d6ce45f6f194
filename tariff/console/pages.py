"""The console's server-rendered pages (Jinja2, autoescaped): browse the catalog, an offer
with its prices, the rule editor, simulations, review and publishing, version diffs."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from catalog.audit import ReviewRefused
from catalog.content import CatalogContent
from catalog.errors import CatalogError, NotFound, ValidationError
from catalog.lifecycle import TRANSITIONS
from catalog.model import EntityKind, LifecycleStatus
from catalog.versions import DRAFT, Selector, VersionNumber
from rules.version_diff import version_diff
from tariff.console.access import COOKIE
from tariff.console.charts import difference_chart
from tariff.console.labels import LANGUAGES, labels
from tariff.console.offers import offer_prices
from tariff.console.state import Console
from tariff.console.workbench import ConsoleRefusal, find_file
from tariff.errors import Refused
from tariff.mappers.money import money_text
from tariff.quote_cli import PERIODS, PRICE_TYPES
from tariff.security.identities import Principal, Unauthenticated
from tariff.security.roles import Role

MAX_USAGE_BYTES = 64 * 1024 * 1024

_ENV = Environment(
    loader=PackageLoader("tariff.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["money"] = money_text


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lang", "en")
    return asked if asked in LANGUAGES else "en"


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = language(request)
    console: Console = request.app.state.console
    principal = getattr(request.state, "principal", None)
    html = _ENV.get_template(template).render(
        t=labels(lang),
        lang=lang,
        other_lang="en" if lang == "zh" else "zh",
        path=request.url.path,
        principal=principal,
        local=console.access.local,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if "lang" in request.query_params:
        response.set_cookie("lang", lang, samesite="strict", httponly=True)
    return response


def render_refusal(request: Request, status: int, message: str) -> Response:
    return page(request, "refusal.html", status, message=message)


def _violations(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [f"{v.field}: {v.description}" for v in error.violations]
    if isinstance(error, Refused):
        return [f"{v.field}: {v.description}" for v in error.violations]
    return list(getattr(error, "problems", []) or [])


# -- browsing ---------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    console: Console = request.app.state.console
    service = console.app.catalog
    content = await asyncio.to_thread(service.content, DRAFT)
    versions = await asyncio.to_thread(service.list_versions)
    kinds = {
        kind.value: [e.definition for (k, _), e in content.entities.items() if k is kind]
        for kind in EntityKind
    }
    statuses = {code: e.status.value for (_, code), e in content.entities.items()}
    return page(
        request,
        "index.html",
        kinds=kinds,
        statuses=statuses,
        content=content,
        versions=list(reversed(versions)),
    )


async def offer(request: Request) -> Response:
    console: Console = request.app.state.console
    kind, code = request.path_params["kind"], request.path_params["code"]
    values: dict[str, Any] = {}
    try:
        entity_kind = EntityKind(kind)
        if request.method == "POST":
            values = await _transition(request, entity_kind, code)
        listed = await asyncio.to_thread(console.app.catalog.get, entity_kind, code)
        draft = await asyncio.to_thread(console.catalogs.draft)
    except (ValueError, NotFound):
        return render_refusal(request, 404, f"the draft has no {kind} {code!r}")
    prices = offer_prices(draft, code) if entity_kind is not EntityKind.BUSINESS else None
    return page(
        request,
        "offer.html",
        kind=kind,
        listed=listed,
        d=listed.definition,
        prices=prices,
        files=[s.path for s in listed.definition.rule_sources],
        moves=sorted(s.name for s in TRANSITIONS[listed.status]),
        **values,
    )


async def _transition(request: Request, kind: EntityKind, code: str) -> dict[str, Any]:
    """Move the entity along its lifecycle (author; the store checks the revision)."""
    console: Console = request.app.state.console
    principal: Principal = request.state.principal
    form = await request.form(max_files=0, max_fields=4)
    if not principal.may(Role.AUTHOR):
        return {"error": f"{principal.name!r} may not change the draft: it needs the role 'author'"}
    try:
        to = LifecycleStatus[str(form.get("to", ""))]
        revision = int(str(form.get("revision", "")))
        moved = await asyncio.to_thread(console.app.catalog.transition, kind, code, to, revision)
    except (KeyError, ValueError):
        return {"error": "name a lifecycle status and the revision you saw"}
    except CatalogError as error:
        return {"error": str(error)}
    return {"done": f"{code} is now {moved.status.name}"}


async def diff_page(request: Request) -> Response:
    console: Console = request.app.state.console
    service = console.app.catalog
    versions = await asyncio.to_thread(service.list_versions)
    before = request.query_params.get("before") or (str(versions[-1].number) if versions else "")
    after = request.query_params.get("after") or "draft"
    try:
        older, newer = (_selector(x) for x in (before, after))
        a = await asyncio.to_thread(service.content, older) if older else CatalogContent()
        b = await asyncio.to_thread(service.content, newer or DRAFT)
    except (ConsoleRefusal, CatalogError) as error:
        return render_refusal(request, 400, str(error))
    found = await asyncio.to_thread(version_diff, a, b)  # as `tariff diff` and the RPC
    return page(
        request,
        "diff.html",
        versions=versions,
        before=before,
        after=after,
        offers=found.offers,
        changes=[c for c in found.entities if c.kind not in ("product", "combo")],
        files=found.files,
        empty=found.empty,
    )


def _selector(text: str) -> Selector | None:
    if text in ("", "none"):
        return None
    if text == "draft":
        return DRAFT
    if text.isdigit():
        return VersionNumber(int(text))
    raise ConsoleRefusal(f"{text!r} is not a version number or draft")


# -- editing ----------------------------------------------------------------------------------


async def edit(request: Request) -> Response:
    console: Console = request.app.state.console
    path = request.query_params.get("path", "")
    try:
        file = await asyncio.to_thread(find_file, console.app.catalog, path)
    except ConsoleRefusal as error:
        content = await asyncio.to_thread(console.app.catalog.content, DRAFT)
        paths = [s.path for _, s in content.all_rule_sources()]
        if path:
            return render_refusal(request, 404, str(error))
        return page(request, "files.html", paths=paths)
    return page(request, "edit.html", file=file)


# -- simulation -------------------------------------------------------------------------------


async def simulate(request: Request) -> Response:
    console: Console = request.app.state.console
    content = await asyncio.to_thread(console.app.catalog.content, DRAFT)
    values: dict[str, Any] = {"content": content, "form": {}, "quoted": None, "shadow": None}
    if request.method == "POST":
        form = await request.form(max_files=1, max_fields=20, max_part_size=MAX_USAGE_BYTES)
        action = str(form.get("action", ""))
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        values["form"] = fields
        try:
            if action == "quote":
                values["quoted"] = await asyncio.to_thread(_quote, console, fields)
            elif action == "shadow":
                upload = form.get("usage")
                if upload is None or isinstance(upload, str) or not upload.filename:
                    raise ConsoleRefusal("choose a usage file to rate")
                data = await upload.read(MAX_USAGE_BYTES + 1)
                if len(data) > MAX_USAGE_BYTES:
                    raise ConsoleRefusal(f"the usage file is larger than {MAX_USAGE_BYTES:,} bytes")
                report = await asyncio.to_thread(_shadow, console, upload.filename, data)
                values["shadow"] = report
                values["chart"] = difference_chart(report["by_product"], "offer")
            else:
                raise ConsoleRefusal(f"unknown action {action!r}")
        except (ConsoleRefusal, CatalogError, Refused, ValueError, OSError) as error:
            values["error"] = str(error)
            values["problems"] = _violations(error)
    return page(request, "simulate.html", **values, types=PRICE_TYPES, periods=PERIODS)


def _quote(console: Console, fields: dict[str, str]) -> dict[str, Any]:
    from tariff.console.simulation import quote

    catalog = console.catalogs.side(fields.get("catalog", "draft"))
    response = quote(catalog, fields, console.app.clock(), console.app.settings.zone)
    return {"response": response, "version": catalog.number}


def _shadow(console: Console, filename: str, data: bytes) -> dict[str, Any]:
    from tariff.console.simulation import shadow

    live, draft = console.catalogs.live(), console.catalogs.draft()
    suffix = "".join(Path(filename).suffixes[-2:]) or ".csv"
    with tempfile.TemporaryDirectory(prefix="tariff-console-") as directory:
        usage = Path(directory) / f"usage{suffix}"
        usage.write_bytes(data)
        report = shadow(live, draft, usage, console.app.settings.zone)
    report["file"] = filename
    return report


# -- review -----------------------------------------------------------------------------------


async def review(request: Request) -> Response:
    console: Console = request.app.state.console
    governance = console.app.catalog.governance
    values: dict[str, Any] = {}
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=5)
        action = str(form.get("action", ""))
        try:
            values["done"] = await asyncio.to_thread(
                _review_action,
                console,
                request.state.principal,
                action,
                str(form.get("description", "")),
            )
        except (ReviewRefused, CatalogError, ConsoleRefusal) as error:
            values["error"] = str(error)
            values["problems"] = [f"{v.field}: {v.description}" for v in _listed(error)]
    found, current = await asyncio.to_thread(governance.review)
    versions = await asyncio.to_thread(console.app.catalog.list_versions)
    return page(request, "review.html", review=found, current=current, versions=versions, **values)


def _listed(error: Exception) -> list[Any]:
    return list(getattr(error, "violations", []) or [])


def _review_action(console: Console, principal: Principal, action: str, description: str) -> str:
    """Submit (author), approve or publish (approver): each role checked here, deny by
    default, then the governance use case (four eyes and the review's freshness)."""
    needs = {"submit": Role.AUTHOR, "approve": Role.APPROVER, "publish": Role.APPROVER}
    role = needs.get(action)
    if role is None:
        raise ConsoleRefusal(f"unknown action {action!r}")
    if not principal.may(role):
        raise ConsoleRefusal(
            f"{principal.name!r} may not {action}: it needs the role {role.value!r}"
        )
    catalog = console.app.catalog
    if action == "submit":
        found = catalog.governance.submit()
        return f"submitted by {found.submitted_by}"
    if action == "approve":
        found = catalog.governance.approve()
        return f"approved by {found.approved_by}"
    published = catalog.publish(None, description or "published from the console")
    return f"published version {published.info.number}"


# -- signing in -------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if request.method == "GET":
        return page(request, "login.html", target=target)
    form = await request.form(max_files=0, max_fields=3)
    token = str(form.get("token", ""))
    try:
        principal = console.access.verify(token)
    except Unauthenticated as error:
        return page(request, "login.html", 401, target=target, error=str(error))
    request.state.principal = principal
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
