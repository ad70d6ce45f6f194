"""Bearer tokens: HMAC-signed JWTs (HS256, PyJWT) from a key file with several keys.

Why signed tokens rather than a file of hashed static tokens: the server needs no list of
every token it ever issued, a token carries its own roles and expiry (a leaked one dies by
itself), and rotating is adding a key, making it current and, once the old tokens have
expired, removing the old one; the `kid` header says which key signed a token. The cost is
that a single token cannot be revoked before it expires: keep TTLs short (hours) and
remove a key to revoke everything it signed.

The key file is JSON: {"current": "<kid>", "keys": {"<kid>": "<base64url secret>", ...}};
every key verifies, only the current one signs. Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from tariff.security.roles import Role, parse_roles

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
ISSUER = "tariff"
LEEWAY_SECONDS = 30  # clock skew between the issuer and the servers


class TokenError(Exception):
    """A token that does not verify: malformed, unknown key, bad signature, expired."""


class KeyFileError(ValueError):
    """The key file is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    roles: tuple[Role, ...]
    expires: int  # POSIX seconds


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Signing keys by id; `current` signs new tokens."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Raises KeyFileError (never quoting a secret)."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise KeyFileError(f"cannot read the token key file {path}: {error.strerror}") from None
        except ValueError:
            raise KeyFileError(f"the token key file {path} is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("keys"), dict):
            raise KeyFileError(f"{path}: expected {{'current': KID, 'keys': {{KID: SECRET}}}}")
        keys: dict[str, bytes] = {}
        for kid, text in document["keys"].items():
            try:
                secret = base64.urlsafe_b64decode(str(text) + "=" * (-len(str(text)) % 4))
            except ValueError:
                raise KeyFileError(f"{path}: key {kid!r} is not base64") from None
            if len(secret) < MIN_SECRET_BYTES:
                raise KeyFileError(f"{path}: key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes")
            keys[str(kid)] = secret
        current = str(document.get("current", ""))
        if current not in keys:
            raise KeyFileError(f"{path}: the current key {current!r} is not among the keys")
        return cls(keys, current)

    def with_new_key(self, kid: str) -> KeyRing:
        """A ring with a fresh random key `kid` made current (rotation's first step)."""
        return KeyRing({**self.keys, kid: secrets.token_bytes(MIN_SECRET_BYTES)}, kid)

    def save(self, path: Path) -> None:
        """Write the ring, readable by its owner only."""
        document = {
            "current": self.current,
            "keys": {
                kid: base64.urlsafe_b64encode(secret).decode().rstrip("=")
                for kid, secret in self.keys.items()
            },
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")


def new_ring(kid: str) -> KeyRing:
    return KeyRing({}, "").with_new_key(kid)


def issue(ring: KeyRing, subject: str, roles: Iterable[Role], ttl: timedelta, now: datetime) -> str:
    """A token for `subject` with `roles`, valid for `ttl` from `now`, signed by the
    current key."""
    if not subject:
        raise ValueError("a token needs a subject")
    issued = int(now.timestamp())
    claims = {
        "sub": subject,
        "roles": sorted({r.value for r in roles}),
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "iss": ISSUER,
    }
    return jwt.encode(
        claims, ring.keys[ring.current], algorithm=ALGORITHM, headers={"kid": ring.current}
    )


def verify(ring: KeyRing, token: str) -> Claims:
    """The claims of a valid token. Raises TokenError saying why not (without the token)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("malformed token") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise TokenError("token not signed with HS256")
    secret = ring.keys.get(kid) if isinstance(kid, str) else None
    if secret is None:
        raise TokenError("token signed with an unknown key")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("token signature does not verify") from None
    except jwt.PyJWTError as error:
        raise TokenError(f"invalid token: {error}") from None
    raw_roles = claims.get("roles", [])
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise TokenError("invalid token: roles must be a list of names")
    try:
        roles = parse_roles(raw_roles)
    except ValueError as error:
        raise TokenError(f"invalid token: {error}") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise TokenError("invalid token: empty subject")
    return Claims(subject, roles, int(claims["exp"]))


def parse_ttl(text: str) -> timedelta:
    """'90s', '30m', '8h', '7d' -> a timedelta; ValueError otherwise."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ValueError(f"ttl {text!r}: write a positive number and s, m, h or d, e.g. 8h")
    return timedelta(seconds=int(number) * units[unit])
