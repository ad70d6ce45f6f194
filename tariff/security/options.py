"""`tariff serve`'s security flags (the same as the TARIFF_* settings of tariff.settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: flags that are settings: the CLI passes them on when given
SERVE_SETTINGS = (
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "token_keys",
    "client_subjects",
    "insecure",
)


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("security (docs/operations.md#security)")
    group.add_argument("--tls-cert", type=Path, help="PEM certificate chain: serve TLS")
    group.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    group.add_argument(
        "--tls-client-ca", type=Path, help="PEM CA: require client certificates (mTLS)"
    )
    group.add_argument(
        "--token-keys", type=Path, help="JSON key file: accept bearer tokens it signed"
    )
    group.add_argument(
        "--client-subjects",
        type=Path,
        help="JSON map from client-certificate subject to principal and roles",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="allow plaintext or no identities on an address other than 127.0.0.1",
    )
