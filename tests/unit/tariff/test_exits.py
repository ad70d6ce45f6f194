"""One table of exit statuses (README, "Exit statuses") and the mapping every command uses."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
import pytest

from catalog.errors import (
    LifecycleViolation,
    NotFound,
    StorageUnavailable,
    ValidationError,
    Violation,
)
from tariff import exits

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_table() -> dict[int, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit statuses", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([0-9]+) \| (.+?) \|$", section, flags=re.MULTILINE)
    return {int(status): meaning for status, meaning in rows}


def test_the_readme_table_is_the_code_table() -> None:
    table = readme_table()
    assert sorted(table) == sorted(exits.TABLE)
    for status, words in exits.TABLE.items():
        assert table[status].startswith(words), (status, table[status])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationError([Violation("x", "bad")]), exits.USAGE),
        (ValueError("bad date"), exits.USAGE),
        (NotFound("version 9 does not exist"), exits.NOT_FOUND),
        (FileNotFoundError("no such file"), exits.NOT_FOUND),
        (StorageUnavailable("refused"), exits.UNREACHABLE),
        (LifecycleViolation("nothing to publish"), exits.FINDINGS),
    ],
)
def test_errors_map_to_the_table(error: BaseException, status: int) -> None:
    assert exits.for_error(error) == status


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, exits.USAGE),
        (grpc.StatusCode.NOT_FOUND, exits.NOT_FOUND),
        (grpc.StatusCode.UNAVAILABLE, exits.UNREACHABLE),
        (grpc.StatusCode.FAILED_PRECONDITION, exits.FINDINGS),
        (grpc.StatusCode.PERMISSION_DENIED, exits.FINDINGS),
    ],
)
def test_rpc_codes_map_to_the_table(code: grpc.StatusCode, status: int) -> None:
    assert exits.for_rpc(code) == status
