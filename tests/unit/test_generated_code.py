"""The generated package `tariff.v1` must match `proto/`.

Regenerate with `python -m tariff.codegen`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tariff import codegen


def test_generated_code_is_fresh() -> None:
    assert codegen.stale_files() == []


def test_a_changed_proto_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proto = tmp_path / "proto"
    shutil.copytree(codegen.PROTO_ROOT, proto)
    common = proto / "tariff" / "v1" / "common.proto"
    common.write_text(
        common.read_text(encoding="utf-8").replace(
            "message TimePeriod {", "message TimePeriod {\n  string added = 9;"
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(codegen, "PROTO_ROOT", proto)
    assert codegen.stale_files() == ["tariff.v1.common_pb2: differs from tariff/v1/common.proto"]


def test_the_generated_package_holds_nothing_else() -> None:
    allowed = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")
    names = {p.name for p in codegen.PACKAGE_DIR.iterdir() if p.name != "__pycache__"}
    extra = {n for n in names if not n.endswith(allowed)} - {"__init__.py", "py.typed"}
    assert extra == set()
