"""Generates the protobuf/gRPC code in `tariff/v1/` from `proto/`, checks it is fresh, lints it.

The one command that produces generated code: ``python -m tariff.codegen``. ``--check``
compares the descriptors compiled from ``proto/`` with those baked into the generated modules
(tool-version independent, so a newer protoc does not make fresh code look stale).

``proto/`` is self-contained: ``proto/buf.yaml`` is the one buf configuration, and the two
googleapis protos the API imports are shipped in ``proto/google/type/`` (copied unchanged
from googleapis-common-protos, which the generated Python imports at run time). ``--lint``
runs ``buf lint`` there; ``--breaking`` runs ``buf breaking`` against the ``proto/`` of the
most recent ``v*`` tag, or, before the first release, against ``proto/api.binpb``, the
committed image of the current API that ``--refresh-baseline`` rewrites (a deliberate step:
run it, and commit the file, only when a breaking change is meant).
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
#: The API as it stands until the first release tag: what `--breaking` compares against.
BASELINE = PROTO_ROOT / "api.binpb"
#: The googleapis protos shipped in proto/ (the API imports these and no others).
SHIPPED = ("google/type/decimal.proto", "google/type/money.proto")
GENERATED_HEADER = (
    '"""Generated from proto/tariff/v1 by `python -m tariff.codegen`; never edit by hand."""\n'
)


class CodegenError(Exception):
    """The protos do not compile, or generated code is missing or stale."""


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.glob("tariff/v1/*.proto"))


def _include_dirs() -> list[str]:
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"  # google/protobuf/*.proto
    return [str(PROTO_ROOT), str(well_known)]


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


def _buf(args: Sequence[str], cwd: Path) -> int:
    return subprocess.run([_plugin("buf"), *args], cwd=cwd, check=False).returncode


def lint(proto: Path = PROTO_ROOT) -> int:
    """`buf lint` in `proto` with its buf.yaml (STANDARD rules; the shipped google protos are
    not ours to lint)."""
    return _buf(["lint"], proto)


def last_release_tag(root: Path = ROOT) -> str | None:
    """The most recent `v*` tag of the repository (by version order), None before the first
    (or outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "tag", "--list", "v*", "--sort=-v:refname"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return listed[0] if listed else None


def breaking_against(root: Path = ROOT) -> str:
    """What `breaking` compares with: the last release tag's proto/, else the baseline."""
    tag = last_release_tag(root)
    if tag is not None:
        return f"{root / '.git'}#tag={tag},subdir=proto"
    return str(BASELINE)


def breaking(proto: Path = PROTO_ROOT, against: str | None = None) -> int:
    """`buf breaking` (FILE rules: no field, message, enum value or RPC removed, renumbered,
    retyped or renamed) of `proto` against `against`, by default `breaking_against()`.
    Non-zero when the API breaks its clients."""
    target = against if against is not None else breaking_against()
    print(f"buf breaking against {target}", file=sys.stderr)
    return _buf(["breaking", "--against", target], proto)


def refresh_baseline(proto: Path = PROTO_ROOT, out: Path = BASELINE) -> Path:
    """Write the image of the API in `proto` to `out` (without source info: only the
    contract matters)."""
    code = _buf(["build", "--exclude-source-info", "-o", str(out)], proto)
    if code != 0:
        raise CodegenError(f"buf build failed with exit code {code}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tariff.codegen", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="fail if tariff/v1 is stale")
    group.add_argument("--lint", action="store_true", help="run buf lint on proto/")
    group.add_argument(
        "--breaking",
        action="store_true",
        help="fail on a breaking change against the last v* tag (else proto/api.binpb)",
    )
    group.add_argument(
        "--refresh-baseline",
        action="store_true",
        help="rewrite proto/api.binpb from proto/ (only for a deliberate breaking change)",
    )
    args = parser.parse_args(argv)
    try:
        if args.lint:
            return lint()
        if args.breaking:
            return breaking()
        if args.refresh_baseline:
            print(refresh_baseline().relative_to(ROOT))
            return 0
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
