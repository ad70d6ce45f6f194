"""Generates the protobuf/gRPC code in `tariff/v1/` from `proto/`, checks it is fresh, lints it.

The one command that produces generated code: ``python -m tariff.codegen``. ``--check``
compares the descriptors compiled from ``proto/`` with those baked into the generated modules
(tool-version independent, so a newer protoc does not make fresh code look stale), and
``--lint`` runs ``buf lint`` with googleapis' protos supplied from the installed
googleapis-common-protos (no network, no vendored copies).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = ROOT / "tariff" / "v1"
GENERATED_HEADER = (
    '"""Generated from proto/tariff/v1 by `python -m tariff.codegen`; never edit by hand."""\n'
)

BUF_CONFIG = """version: v2
modules:
  - path: proto
  - path: deps
lint:
  use:
    - STANDARD
"""


class CodegenError(Exception):
    """The protos do not compile, or generated code is missing or stale."""


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.glob("tariff/v1/*.proto"))


def _include_dirs() -> list[str]:
    import google.type  # googleapis-common-protos ships the .proto sources beside the modules
    import grpc_tools

    googleapis = Path(next(iter(google.type.__path__))).parent.parent
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    return [str(PROTO_ROOT), str(googleapis), str(well_known)]


def _protoc(args: Sequence[str]) -> None:
    from grpc_tools import protoc

    includes = [f"-I{d}" for d in _include_dirs()]
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    code = protoc.main(["protoc", *includes, *args, *files])
    if code != 0:
        raise CodegenError(f"protoc failed with exit code {code}")


def _plugin(name: str) -> str:
    scripts = Path(sysconfig.get_path("scripts"))
    found = shutil.which(name, path=str(scripts)) or shutil.which(name)
    if found is None:
        raise CodegenError(f"{name} not found: install the dev extra (mypy-protobuf)")
    return found


def generate() -> list[Path]:
    """Regenerate `tariff/v1/` from scratch; returns the files written."""
    with tempfile.TemporaryDirectory() as tmp:
        _protoc(
            [
                f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
                f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
                f"--python_out={tmp}",
                f"--grpc_python_out={tmp}",
                f"--mypy_out={tmp}",
                f"--mypy_grpc_out={tmp}",
            ]
        )
        out = Path(tmp) / "tariff" / "v1"
        if PACKAGE_DIR.exists():
            shutil.rmtree(PACKAGE_DIR)
        shutil.copytree(out, PACKAGE_DIR)
    (PACKAGE_DIR / "__init__.py").write_text(GENERATED_HEADER, encoding="utf-8")
    (PACKAGE_DIR / "py.typed").write_text("", encoding="utf-8")
    return sorted(PACKAGE_DIR.iterdir())


def compiled_descriptors() -> dict[str, bytes]:
    """File name -> serialized FileDescriptorProto, compiled now from `proto/`."""
    from google.protobuf import descriptor_pb2

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        _protoc([f"--descriptor_set_out={out}"])
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    for file in fds.file:
        _strip_json_names(file.message_type)
    return {f.name: f.SerializeToString(deterministic=True) for f in fds.file}


def _strip_json_names(messages: Any) -> None:
    """The Python generator drops json_name from what it embeds; drop it here too."""
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _strip_json_names(message.nested_type)


def stale_files() -> list[str]:
    """Names of generated modules that are missing or differ from `proto/`."""
    from google.protobuf import descriptor_pb2

    problems: list[str] = []
    for name, expected in sorted(compiled_descriptors().items()):
        stem = Path(name).stem
        module = f"tariff.v1.{stem}_pb2"
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi"):
            if not (PACKAGE_DIR / f"{stem}{suffix}").exists():
                problems.append(f"{stem}{suffix}: missing")
        try:
            generated = importlib.import_module(module)
        except Exception as exc:  # a broken or half-written module is stale too
            problems.append(f"{module}: cannot import ({exc})")
            continue
        proto = descriptor_pb2.FileDescriptorProto.FromString(generated.DESCRIPTOR.serialized_pb)
        if proto.SerializeToString(deterministic=True) != expected:
            problems.append(f"{module}: differs from {name}")
    known = {Path(n).stem for n in compiled_descriptors()}
    for path in PACKAGE_DIR.glob("*_pb2.py"):
        if path.name.removesuffix("_pb2.py") not in known:
            problems.append(f"{path.name}: no longer has a .proto")
    return problems


def lint() -> int:
    """Run `buf lint` (STANDARD rules) on proto/ with googleapis supplied locally."""
    import google.type

    buf = _plugin("buf")
    googleapis = Path(next(iter(google.type.__path__))).parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(PROTO_ROOT, work / "proto")
        deps = work / "deps" / "google" / "type"
        deps.mkdir(parents=True)
        for name in ("money.proto", "decimal.proto"):
            shutil.copy(googleapis / "google" / "type" / name, deps / name)
        (work / "buf.yaml").write_text(BUF_CONFIG, encoding="utf-8")
        result = subprocess.run([buf, "lint", "proto"], cwd=work, check=False)
    return result.returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tariff.codegen", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="fail if tariff/v1 is stale")
    group.add_argument("--lint", action="store_true", help="run buf lint on proto/")
    args = parser.parse_args(argv)
    try:
        if args.lint:
            return lint()
        if args.check:
            problems = stale_files()
            for problem in problems:
                print(f"stale: {problem}", file=sys.stderr)
            if problems:
                print("run `python -m tariff.codegen` and commit the result", file=sys.stderr)
            return 1 if problems else 0
        for path in generate():
            print(path.relative_to(ROOT))
        return 0
    except CodegenError as exc:
        print(f"codegen: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
