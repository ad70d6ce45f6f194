"""One table of ErrorInfo reasons (docs/api.md, "Error reasons"): every exception the edge
maps has a documented reason with the documented code, every documented reason is one the
code can send, and no reason is a Python class name."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2

import tariff.server  # noqa: F401  (imports every servicer, which register their errors)
from catalog.audit import ReviewRefused
from catalog.errors import (
    AlreadyExists,
    LifecycleViolation,
    NotFound,
    NoVersionInForce,
    StaleRevision,
    ValidationError,
    Violation,
)
from tariff.errors import CANNOT_PRICE, ERRORS, NOT_ELIGIBLE, RAISED_REASONS, Refused, rich_status

API = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def documented_reasons() -> dict[str, grpc.StatusCode]:
    """docs/api.md's table: reason -> status code."""
    text = API.read_text(encoding="utf-8")
    section = text.split("#### Error reasons", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([A-Z_]+) \| .+ \|$", section, flags=re.MULTILINE)
    assert rows, "docs/api.md has no reasons table"
    table = {reason: grpc.StatusCode[code] for reason, code in rows}
    assert len(table) == len(rows), "a reason is listed twice"
    return table


def sent_reasons() -> dict[str, grpc.StatusCode]:
    """Every reason the edge can put in an ErrorInfo, with its status code."""
    found = {reason: code for code, reason in ERRORS.values()}
    found.update(RAISED_REASONS)
    return found


def test_the_code_sends_exactly_the_documented_reasons() -> None:
    assert sent_reasons() == documented_reasons()


def test_reasons_are_upper_snake_not_class_names() -> None:
    for reason in documented_reasons():
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", reason), reason


def _reason(exc: Exception, code: grpc.StatusCode) -> str:
    info = error_details_pb2.ErrorInfo()
    assert rich_status(exc, code).details[0].Unpack(info)
    assert info.domain == "tariff.v1"
    return str(info.reason)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValidationError([Violation("product.code", "bad")]), "INVALID_ARGUMENT"),
        (NotFound("product 'x' does not exist"), "NOT_FOUND"),
        (NoVersionInForce("no catalog version is in force at 2020-01-01"), "NO_VERSION_IN_FORCE"),
        (AlreadyExists("product 'x' already exists"), "ALREADY_EXISTS"),
        (StaleRevision("product 'x'", 1, 2), "STALE_REVISION"),
        (LifecycleViolation("nothing to publish"), "LIFECYCLE"),
        (ReviewRefused("not approved yet"), "REVIEW_REFUSED"),
        (Refused("cart not eligible", reason=NOT_ELIGIBLE), "NOT_ELIGIBLE"),
        (Refused("cannot price", reason=CANNOT_PRICE), "CANNOT_PRICE"),
    ],
)
def test_the_most_specific_class_names_the_reason(error: Exception, reason: str) -> None:
    from tariff.errors import status_for

    code = status_for(error)
    assert code is not None
    assert _reason(error, code) == reason
    assert documented_reasons()[reason] == code
