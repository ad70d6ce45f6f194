"""`tariff token keygen|issue`: the key file bearer tokens are signed with, and tokens.

    tariff token keygen --keys keys.json --kid 2026-12     # new key, made current
    tariff token issue --keys keys.json --sub alice --role author --ttl 8h

`issue` prints only the token (for `export TARIFF_TOKEN=$(...)`); nothing prints a secret.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from tariff.security.roles import Role, parse_roles
from tariff.security.tokens import KeyRing, issue, new_ring, parse_ttl

KEYS_ENV = "TARIFF_TOKEN_KEYS"


def _keys_path(args: argparse.Namespace) -> Path:
    text = args.keys or os.environ.get(KEYS_ENV)
    if not text:
        raise ValueError(f"give --keys or set {KEYS_ENV}")
    return Path(text)


def run_keygen(args: argparse.Namespace) -> int:
    path = _keys_path(args)
    ring = KeyRing.load(path).with_new_key(args.kid) if path.exists() else new_ring(args.kid)
    ring.save(path)
    print(f"tariff: key {args.kid!r} is now current in {path} ({len(ring.keys)} key(s))")
    return 0


def run_issue(args: argparse.Namespace) -> int:
    ring = KeyRing.load(_keys_path(args))
    roles = parse_roles(args.role)
    print(issue(ring, args.sub, roles, parse_ttl(args.ttl), datetime.now(UTC)))
    return 0


def add_token_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser("token", help="token keys and bearer tokens")
    commands = token.add_subparsers(dest="token_command", required=True)
    keygen = commands.add_parser("keygen", help="add a new signing key and make it current")
    keygen.add_argument("--keys", help=f"the key file (default ${KEYS_ENV}); created if missing")
    keygen.add_argument("--kid", required=True, help="the new key's id, e.g. 2026-12")
    keygen.set_defaults(run=run_keygen)
    issue_ = commands.add_parser("issue", help="print a token signed by the current key")
    issue_.add_argument("--keys", help=f"the key file (default ${KEYS_ENV})")
    issue_.add_argument("--sub", required=True, help="the principal, e.g. alice")
    issue_.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[r.value for r in Role],
        help="a role (repeatable)",
    )
    issue_.add_argument("--ttl", default="8h", help="lifetime: 90s, 30m, 8h, 7d (default 8h)")
    issue_.set_defaults(run=run_issue)
