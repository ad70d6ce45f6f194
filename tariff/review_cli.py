"""`tariff review submit|approve|show`: the draft's review, through a running server.

    tariff review submit  --server HOST:PORT --token "$AUTHOR_TOKEN"
    tariff review approve --server HOST:PORT --token "$APPROVER_TOKEN"
    tariff review show    --server HOST:PORT

Then an approver publishes (PublishCatalog). Four eyes: the approver must not be an author
of the draft (docs/operations.md "Security").
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC

import grpc
from google.protobuf import json_format

from catalog import codec
from tariff import exits
from tariff.eligible_cli import rpc_error_line
from tariff.output import add_output_option, mode_of, show_record
from tariff.security.client import add_client_arguments, channel_for
from tariff.v1 import governance_service_pb2 as pb
from tariff.v1 import governance_service_pb2_grpc

CALLS = {
    "submit": ("SubmitForReview", pb.SubmitForReviewRequest),
    "approve": ("ApproveDraft", pb.ApproveDraftRequest),
    "show": ("GetReview", pb.GetReviewRequest),
}


def describe(review: pb.DraftReview) -> str:
    submitted = codec.format_instant(review.submit_time.ToDatetime(tzinfo=UTC))
    line = f"draft {review.content_hash[:12]} submitted by {review.submitted_by} at {submitted}"
    if review.approved_by:
        approved = codec.format_instant(review.approve_time.ToDatetime(tzinfo=UTC))
        line += f", approved by {review.approved_by} at {approved}"
    else:
        line += ", not approved yet"
    return line + ("" if review.current else " (stale: the draft changed since)")


def run_review(args: argparse.Namespace) -> int:
    method, request = CALLS[args.review_command]
    with channel_for(args, args.server) as channel:
        stub = governance_service_pb2_grpc.GovernanceServiceStub(channel)
        try:
            reply = getattr(stub, method)(request(), timeout=args.timeout)
        except grpc.RpcError as error:
            print(f"tariff: error: {rpc_error_line(error)}", file=sys.stderr)
            return exits.for_rpc(error.code())
    mode = mode_of(args)
    if not reply.HasField("review"):
        show_record({"review": None}, "tariff: the draft has not been submitted for review", mode)
        return exits.OK
    record = json_format.MessageToDict(reply.review)
    show_record(record, f"tariff: {describe(reply.review)}", mode)
    return exits.OK


def add_review_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    review = sub.add_parser("review", help="submit the draft for review, approve it, show it")
    commands = review.add_subparsers(dest="review_command", required=True)
    helps = {
        "submit": "submit the draft as it is now (role author)",
        "approve": "approve the submitted draft (role approver; not one of its authors)",
        "show": "the review on record",
    }
    for name, text in helps.items():
        command = commands.add_parser(name, help=text)
        command.add_argument("--server", required=True, help="HOST:PORT of a running server")
        command.add_argument("--timeout", type=float, default=30.0, help="seconds")
        add_output_option(command)
        add_client_arguments(command)
        command.set_defaults(run=run_review)
