"""`tariff check BUNDLE` and `tariff bundle import` share one validator: whatever check
accepts imports into a new store. Generated bundles (tariff.gen), most of them broken by
edits to their JSON files, are checked and then imported by the real commands."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import bundle
from tariff import exits
from tariff.cli import main
from tariff.gen.catalogs import MIN_ZONE_PREFIXES, CatalogSpec, generate_catalog

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "examples" / "starter"

#: values an edit puts in place of a JSON value: names that exist elsewhere in the bundle,
#: names that exist nowhere, malformed codes, other types
REPLACEMENTS: list[Any] = [
    "nope",
    "local_voice",
    "CN",
    "GD",
    "hall",
    "youth",
    "Not A Code",
    "",
    "x" * 80,
    "products/other.tariff",
    "../escape.tariff",
    0,
    -1,
    None,
    [],
    {},
    True,
]
DELETE = object()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty store, copied for each import (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("store") / "template.sqlite"
    assert main(["db", "upgrade", "--database-url", f"sqlite:///{path}"]) == 0
    return path


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key in sorted(node):
            found += _leaves(node[key], (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _leaves(item, (*path, index))
    return found


def _edit(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return document if value is DELETE else value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


def _is_reference(path: tuple[Any, ...]) -> bool:
    """A value that names something else: `business_codes[1]`, `parent_code`, ..."""
    keys = [step for step in path if isinstance(step, str)]
    if not keys:
        return False
    if isinstance(path[-1], int):  # an element of a list of codes
        return keys[-1].endswith("_codes")
    return keys[-1].endswith("_code")


def break_bundle(root: Path, edits: list[tuple[int, int, int, bool]]) -> None:
    """Apply each edit (which JSON file, which value in it, what instead; `aimed`: only
    among the values that name something else) in place."""
    for file_pick, leaf_pick, value_pick, aimed in edits:
        files = sorted(root.rglob("*.json"))
        target = files[file_pick % len(files)]
        document = json.loads(target.read_text(encoding="utf-8"))
        leaves = _leaves(document)
        if aimed:
            leaves = [path for path in leaves if _is_reference(path)] or leaves
        path = leaves[leaf_pick % len(leaves)]
        choices = [*REPLACEMENTS, DELETE]
        document = _edit(document, path, choices[value_pick % len(choices)])
        target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


specs = st.builds(
    CatalogSpec,
    offers=st.integers(1, 3),
    areas=st.integers(1, 2),
    seed=st.integers(0, 10_000),
    rules_per_offer=st.integers(0, 1),
    combos=st.integers(0, 1),
    zone_prefixes=st.just(MIN_ZONE_PREFIXES + 2),
)
edit_lists = st.lists(
    st.tuples(st.integers(0, 99), st.integers(0, 999), st.integers(0, 99), st.booleans()),
    max_size=3,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs, edits=edit_lists)
def test_whatever_check_accepts_imports(
    template: Path, spec: CatalogSpec, edits: list[tuple[int, int, int, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "bundle"
        bundle.write_directory(generate_catalog(spec), root)
        break_bundle(root, edits)
        store = Path(work) / "store.sqlite"
        shutil.copy(template, store)
        checked = main(["check", str(root)])
        imported = main(["bundle", "import", str(root), "--database-url", f"sqlite:///{store}"])
        if checked == exits.OK:
            assert imported == exits.OK, "check accepted a bundle that import refuses"


def test_check_refuses_the_data_import_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A product naming a business the bundle does not have: check said 0 errors, then
    import refused it. Now check reports it where it is, as import does."""
    root = tmp_path / "bundle"
    shutil.copytree(STARTER, root)
    youth = root / "products" / "youth_plan.json"
    document = json.loads(youth.read_text(encoding="utf-8"))
    document["definition"]["business_codes"].append("vocie")
    youth.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert main(["check", str(root)]) == exits.FINDINGS
    out = capsys.readouterr().out
    assert "products/youth_plan.json:1:1: error[catalog]: product:youth_plan: product." in out
    assert "unknown business 'vocie'" in out
    db = ["--database-url", f"sqlite:///{tmp_path / 'store.sqlite'}"]
    assert main(["bundle", "import", str(root), *db]) == exits.USAGE
    assert "unknown business 'vocie'" in capsys.readouterr().err
    assert main(["check", str(root), "--format", "json"]) == exits.FINDINGS
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert any(d["code"] == "catalog" for d in payload["diagnostics"])
