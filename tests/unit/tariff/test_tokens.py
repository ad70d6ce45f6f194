"""Token keys and tokens: the key file, `tariff token keygen|issue`, verification."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tariff.cli import main
from tariff.security.roles import Role, granted, parse_roles
from tariff.security.tokens import KeyFileError, KeyRing, TokenError, issue, parse_ttl, verify


def test_keygen_then_issue_prints_a_token_that_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.json"
    assert main(["token", "keygen", "--keys", str(keys), "--kid", "2026-11"]) == 0
    assert main(["token", "keygen", "--keys", str(keys), "--kid", "2026-12"]) == 0
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    capsys.readouterr()
    argv = ["token", "issue", "--keys", str(keys), "--sub", "alice", "--role", "author"]
    assert main([*argv, "--role", "approver", "--ttl", "8h"]) == 0
    out = capsys.readouterr().out.strip()
    ring = KeyRing.load(keys)
    assert ring.current == "2026-12"
    assert set(ring.keys) == {"2026-11", "2026-12"}
    claims = verify(ring, out)
    assert claims.subject == "alice"
    assert set(claims.roles) == {Role.AUTHOR, Role.APPROVER}
    secret = keys.read_text().split('"2026-12": "')[1].split('"')[0]
    assert secret not in out


def test_a_token_verifies_with_any_key_of_the_ring_and_expires() -> None:
    old = KeyRing({}, "").with_new_key("a")
    rotated = old.with_new_key("b")
    now = datetime.now(UTC)
    assert (
        verify(rotated, issue(old, "bob", [Role.READER], timedelta(hours=1), now)).subject == "bob"
    )
    late = issue(rotated, "bob", [Role.READER], timedelta(minutes=1), now - timedelta(hours=1))
    with pytest.raises(TokenError, match="expired"):
        verify(rotated, late)
    with pytest.raises(TokenError, match="unknown key"):
        verify(old, issue(rotated, "bob", [Role.READER], timedelta(hours=1), now))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not JSON"),
        ('{"current": "a", "keys": {"a": "c2hvcnQ"}}', "shorter than 32 bytes"),
        ('{"current": "b", "keys": {}}', "current key 'b'"),
    ],
)
def test_a_bad_key_file_is_refused_without_quoting_it(
    tmp_path: Path, text: str, words: str
) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(text)
    with pytest.raises(KeyFileError, match=words) as caught:
        KeyRing.load(keys)
    assert "c2hvcnQ" not in str(caught.value)


def test_ttls_and_roles_parse_or_say_why_not() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl("90s") == timedelta(seconds=90)
    for bad in ("8", "h", "-1h", "0m", "8w"):
        with pytest.raises(ValueError, match="ttl"):
            parse_ttl(bad)
    with pytest.raises(ValueError, match="unknown role 'root'"):
        parse_roles(["root"])
    assert granted([Role.AUTHOR]) == {Role.AUTHOR, Role.READER}
    assert granted([Role.ADMIN]) == set(Role)
