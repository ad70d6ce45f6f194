"""TLS and mutual TLS credentials for the server and for clients, from PEM files."""

from __future__ import annotations

from pathlib import Path

import grpc


class TlsConfigError(ValueError):
    """A certificate or key file that is missing or unreadable, or an incomplete set."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsConfigError(f"cannot read the {what} {path}: {error.strerror}") from None


def server_credentials(
    cert: Path | None, key: Path | None, client_ca: Path | None
) -> grpc.ServerCredentials | None:
    """TLS credentials for the port, None for plaintext (no certificate given). With a
    client CA, every client must present a certificate it signed (mTLS)."""
    if cert is None and key is None:
        if client_ca is not None:
            raise TlsConfigError("--tls-client-ca needs --tls-cert and --tls-key")
        return None
    if cert is None or key is None:
        raise TlsConfigError("TLS needs both --tls-cert and --tls-key")
    pair = (_read(key, "TLS key"), _read(cert, "TLS certificate"))
    if client_ca is None:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair], root_certificates=_read(client_ca, "client CA"), require_client_auth=True
    )


def channel_credentials(
    ca: Path | None, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    """Client TLS: verify the server with `ca` (the system's roots when None), and present
    `cert`/`key` for mTLS."""
    if (cert is None) != (key is None):
        raise TlsConfigError("a client certificate needs both --tls-cert and --tls-key")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca, "CA certificate") if ca is not None else None,
        private_key=_read(key, "TLS key") if key is not None else None,
        certificate_chain=_read(cert, "TLS certificate") if cert is not None else None,
    )
