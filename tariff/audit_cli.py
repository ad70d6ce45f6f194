"""`tariff audit`: the audit log, newest first, from the store (`--database-url`) or from a
running server (`--server`, which needs the admin role).

    tariff audit --limit 20
    tariff audit --server tariff.example:50051 --tls-ca ca.crt --token "$TARIFF_TOKEN"
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC

import grpc
from google.protobuf import json_format

from catalog import codec
from catalog.audit import AuditEntry
from tariff import exits
from tariff.eligible_cli import rpc_error_line
from tariff.mappers.governance import entry_to_proto
from tariff.output import Listing, add_output_option, mode_of, show
from tariff.security.client import add_client_arguments, channel_for
from tariff.v1 import governance_service_pb2 as pb
from tariff.v1 import governance_service_pb2_grpc


def _from_store(args: argparse.Namespace) -> list[pb.AuditEntry]:
    from tariff.bootstrap import bootstrap
    from tariff.cli import settings_from

    app = bootstrap(settings_from(args), existing=True)
    try:
        entries: list[AuditEntry] = app.catalog.governance.audit_entries(
            0, args.limit, args.principal or ""
        )
    finally:
        app.close()
    return [entry_to_proto(e) for e in entries]


def _from_server(args: argparse.Namespace) -> list[pb.AuditEntry]:
    request = pb.ListAuditEntriesRequest(page_size=args.limit, principal=args.principal or "")
    with channel_for(args, args.server) as channel:
        stub = governance_service_pb2_grpc.GovernanceServiceStub(channel)
        reply = stub.ListAuditEntries(request, timeout=args.timeout)
    return list(reply.entries)


def run_audit(args: argparse.Namespace) -> int:
    try:
        entries = _from_server(args) if args.server else _from_store(args)
    except grpc.RpcError as error:
        print(f"tariff: error: {rpc_error_line(error)}", file=sys.stderr)
        return exits.for_rpc(error.code())
    columns = ("id", "time", "principal", "method", "action", "entity", "rev", "outcome", "detail")
    rows = [
        (
            str(e.id),
            codec.format_instant(e.time.ToDatetime(tzinfo=UTC)),
            e.principal,
            e.method.rsplit("/", 1)[-1],
            e.action,
            e.entity,
            str(e.revision) if e.revision else "",
            e.outcome,
            e.detail,
        )
        for e in entries
    ]
    lines = [json.dumps(json_format.MessageToDict(e), ensure_ascii=False) for e in entries]
    listing = Listing("Audit log (newest first)", columns, rows, numeric=frozenset({"id", "rev"}))
    show([listing], mode_of(args), document="\n".join(lines))  # json: one object a line
    return exits.OK


def add_audit_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit log: who changed what, and what was refused")
    audit.add_argument("--server", help="HOST:PORT of a running server (default: the store)")
    audit.add_argument(
        "--database-url", help="SQLAlchemy URL (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )
    audit.add_argument("--limit", type=int, default=100, help="newest N entries (at most 1000)")
    audit.add_argument("--principal", help="only this principal's entries")
    add_output_option(audit)  # json: one JSON object a line
    audit.add_argument("--timeout", type=float, default=30.0, help="seconds (server)")
    add_client_arguments(audit)
    audit.set_defaults(run=run_audit)
