"""The catalog's one exception hierarchy; the gRPC edge maps each class to a status code once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with one field of the input, e.g. ("product.area_codes[2]", "unknown area")."""

    field: str
    description: str


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose."""


class ValidationError(CatalogError):
    """The input is malformed or refers to things that do not exist (INVALID_ARGUMENT)."""

    def __init__(self, violations: Iterable[Violation], message: str = "invalid input") -> None:
        self.violations = tuple(violations)
        self.message = message
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations[:5])
        more = len(self.violations) - 5
        if more > 0:
            summary += f"; and {more} more"
        super().__init__(f"{message}: {summary}" if summary else message)


class NotFound(CatalogError):
    """The entity, version or table named does not exist (NOT_FOUND)."""


class NoVersionInForce(NotFound):
    """No published version is in force at the instant asked: before the first publish, or
    a time before the first version's effective_from (NOT_FOUND)."""


class AlreadyExists(CatalogError):
    """An entity with that code already exists (ALREADY_EXISTS)."""


class StaleRevision(CatalogError):
    """The caller's revision is not the current one: someone else wrote first (ABORTED)."""

    def __init__(self, what: str, expected: int, current: int) -> None:
        self.expected = expected
        self.current = current
        super().__init__(
            f"{what} is at revision {current}, not {expected}: read it again and retry"
        )


class LifecycleViolation(CatalogError):
    """The operation is not allowed in the entity's lifecycle state (FAILED_PRECONDITION)."""


class PublishRejected(CatalogError):
    """The draft cannot be published as it is (FAILED_PRECONDITION, with every violation)."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations[:5])
        super().__init__(f"cannot publish: {summary}")


class ConcurrentWrite(CatalogError):
    """Another writer committed a conflicting change at the same time (ABORTED)."""


class StorageFault(CatalogError):
    """The catalog database failed the operation for a reason of its own, not the request's;
    the transaction was rolled back, so nothing was written."""


class StorageUnavailable(StorageFault):
    """The database cannot be reached or is shutting down, restarting or read-only for now;
    the same call may succeed if retried later (UNAVAILABLE)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the catalog database is unavailable: {reason}")


class StorageCorrupt(StorageFault):
    """The database file or its pages are damaged, or the file is not a database at all:
    retrying will not help; restore from a backup (DATA_LOSS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the catalog database is damaged or not a database: {reason}")


class StorageFull(StorageFault):
    """The database ran out of a resource it needs for this write: disk space, memory or
    connections; it works again once the operator frees some (RESOURCE_EXHAUSTED)."""

    def __init__(self, resource: str, reason: str) -> None:
        self.resource = resource
        super().__init__(f"the catalog database is out of {resource}: {reason}")
