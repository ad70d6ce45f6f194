"""Rich error details: what a client needs to react without parsing messages."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2

from catalog.errors import LifecycleViolation, StaleRevision
from tariff.errors import rich_status


def test_a_stale_revision_names_the_current_one() -> None:
    status = rich_status(StaleRevision("product youth_plan", 3, 5), grpc.StatusCode.ABORTED)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert dict(info.metadata) == {"expected_revision": "3", "current_revision": "5"}


def test_a_lifecycle_refusal_is_a_precondition_failure() -> None:
    error = LifecycleViolation("youth_plan is obsolete: it never changes again")
    status = rich_status(error, grpc.StatusCode.FAILED_PRECONDITION)
    failure = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(failure) for d in status.details)
    [violation] = failure.violations
    assert (violation.subject, violation.description) == ("lifecycle", str(error))
