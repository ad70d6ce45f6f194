"""proto/ stands alone for clients in other languages, and its contract is held to: buf lint
and buf breaking run there with proto/buf.yaml as is, the googleapis protos the API imports
are shipped (unchanged), and the breaking-change check (`python -m tariff.codegen
--breaking`) fails on a removed or renumbered field — against the committed baseline
(proto/api.binpb) before the first release, against the last `v*` tag after it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import google.type
import pytest
from grpc_tools import protoc

from tariff import codegen

RULE_SOURCE = "message RuleSource {"
TEXT = "  string text = 2;\n"


def copy_of_proto(tmp_path: Path) -> Path:
    out = tmp_path / "proto"
    shutil.copytree(codegen.PROTO_ROOT, out, ignore=shutil.ignore_patterns("api.binpb"))
    return out


def edit(proto: Path, old: str, new: str) -> None:
    """Replace `old` inside message RuleSource of common.proto (exactly once)."""
    common = proto / "tariff" / "v1" / "common.proto"
    text = common.read_text(encoding="utf-8")
    start = text.index(RULE_SOURCE)
    end = text.index("}", start)
    block = text[start:end]
    assert block.count(old) == 1
    common.write_text(text[:start] + block.replace(old, new) + text[end:], encoding="utf-8")


def test_buf_lint_runs_in_proto_as_is() -> None:
    assert (codegen.PROTO_ROOT / "buf.yaml").is_file()
    assert codegen.lint() == 0


def test_the_shipped_google_protos_are_googleapis_own() -> None:
    """The generated Python imports google.type from googleapis-common-protos: the copies in
    proto/ must be the same files, or other languages would see another contract."""
    installed = Path(next(iter(google.type.__path__))).parent.parent
    for name in codegen.SHIPPED:
        assert (codegen.PROTO_ROOT / name).read_bytes() == (installed / name).read_bytes()
    imported = set()
    for path in codegen.proto_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith('import "google/') and "google/protobuf/" not in line:
                imported.add(line.split('"')[1])
    assert imported == set(codegen.SHIPPED)


def test_proto_alone_compiles_with_only_protobufs_own_types(tmp_path: Path) -> None:
    """What a generator for another language sees: proto/ and protobuf's well-known types
    (which every protobuf distribution carries), nothing from googleapis."""
    well_known = Path(protoc.__file__).parent / "_proto"
    alone = copy_of_proto(tmp_path)
    files = [str(p.relative_to(alone)) for p in sorted(alone.glob("tariff/v1/*.proto"))]
    out = tmp_path / "set.binpb"
    args = ["protoc", f"-I{alone}", f"-I{well_known}", f"--descriptor_set_out={out}", *files]
    assert protoc.main(args) == 0
    assert out.stat().st_size > 10_000
    shutil.rmtree(alone / "google")  # and without the shipped copies it does not
    assert protoc.main(args) != 0


def test_the_current_api_passes_the_breaking_check(tmp_path: Path) -> None:
    assert codegen.breaking() == 0
    assert codegen.breaking(copy_of_proto(tmp_path), str(codegen.BASELINE)) == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [(TEXT, ""), (TEXT, "  string text = 3;\n"), (TEXT, "  bytes text = 2;\n")],
    ids=["removed", "renumbered", "retyped"],
)
def test_a_breaking_change_fails_against_the_baseline(tmp_path: Path, old: str, new: str) -> None:
    proto = copy_of_proto(tmp_path)
    edit(proto, old, new)
    assert codegen.breaking(proto, str(codegen.BASELINE)) != 0


def test_an_added_field_is_not_breaking(tmp_path: Path) -> None:
    proto = copy_of_proto(tmp_path)
    edit(proto, TEXT, TEXT + "  // New.\n  string origin = 3;\n")
    assert codegen.breaking(proto, str(codegen.BASELINE)) == 0


def test_the_baseline_is_the_current_api_refreshed_by_a_command(tmp_path: Path) -> None:
    """`--refresh-baseline` writes what --breaking compares with; a refreshed baseline of a
    changed API accepts that API (the deliberate way to break it)."""
    proto = copy_of_proto(tmp_path)
    edit(proto, TEXT, "")
    baseline = codegen.refresh_baseline(proto, tmp_path / "api.binpb")
    assert codegen.breaking(proto, str(baseline)) == 0
    assert codegen.breaking(copy_of_proto(tmp_path / "again"), str(baseline)) == 0  # added back


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_after_a_release_the_check_compares_with_the_last_v_tag(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    assert codegen.last_release_tag(repo) is None
    assert codegen.breaking_against(repo) == str(codegen.BASELINE)
    proto = copy_of_proto(repo)
    git(repo, "add", "proto")
    git(repo, "commit", "-q", "-m", "v0.9")
    git(repo, "tag", "v0.9.0")
    edit(proto, TEXT, TEXT + "  string origin = 3;\n")  # v0.10.0 adds a field
    git(repo, "commit", "-q", "-am", "v0.10")
    git(repo, "tag", "v0.10.0")
    git(repo, "tag", "not-a-release")
    assert codegen.last_release_tag(repo) == "v0.10.0"  # by version, not by name
    against = codegen.breaking_against(repo)
    assert against == f"{repo / '.git'}#tag=v0.10.0,subdir=proto"
    assert codegen.breaking(proto, against) == 0
    edit(proto, "  string origin = 3;\n", "")  # removing what v0.10.0 released
    assert codegen.breaking(proto, against) != 0
