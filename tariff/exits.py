"""The exit statuses of every `tariff` command: one table (README, "Exit statuses"), so a
script tests the same number for the same situation whichever command it ran.

Errors are mapped here once, by class (and by gRPC status code for a call to a server),
the way `tariff.errors` maps them to gRPC statuses for the service.
"""

from __future__ import annotations

import grpc

from catalog.errors import (
    AlreadyExists,
    CatalogError,
    NotFound,
    StorageUnavailable,
    ValidationError,
)

OK = 0
FINDINGS = 1  # check/test/fmt --check found errors or failing examples; a cart not qualified
USAGE = 2  # bad usage or input: flags, dates, files, a request the server calls invalid
NOT_FOUND = 3  # a version, entity, file or store that does not exist
UNREACHABLE = 4  # no server answers at --server, or the database cannot be reached

#: status -> the first words of its meaning in README's "Exit statuses" table (a test walks it).
TABLE: dict[int, str] = {
    OK: "done",
    FINDINGS: "findings",
    USAGE: "bad usage or input",
    NOT_FOUND: "not found",
    UNREACHABLE: "unreachable",
}

_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: USAGE,
    grpc.StatusCode.OUT_OF_RANGE: USAGE,
    grpc.StatusCode.NOT_FOUND: NOT_FOUND,
    grpc.StatusCode.UNAVAILABLE: UNREACHABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: UNREACHABLE,
}


def for_rpc(code: grpc.StatusCode | None) -> int:
    """A failed call's exit status: the request's fault (2), a missing thing (3), no server
    (4); anything else the server refused (FAILED_PRECONDITION, PERMISSION_DENIED...) is 1."""
    return _BY_CODE.get(code, FINDINGS) if code is not None else FINDINGS


def for_error(exc: BaseException) -> int:
    """The exit status for an exception that ended a command (tariff.cli.main)."""
    if isinstance(exc, grpc.RpcError):
        return for_rpc(exc.code())
    if isinstance(exc, StorageUnavailable):
        return UNREACHABLE
    if isinstance(exc, (NotFound, FileNotFoundError)):
        return NOT_FOUND
    if isinstance(exc, (ValidationError, AlreadyExists)):
        return USAGE
    if isinstance(exc, CatalogError):
        return FINDINGS  # refused as the catalog stands: lifecycle, publish, storage faults
    if isinstance(exc, (ValueError, OSError)):
        return USAGE
    return FINDINGS
