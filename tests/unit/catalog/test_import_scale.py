"""Importing what `tariff gen catalog` writes: accepted at every size, validated in time
linear in the catalog (issue 16: the 10k-offer catalog was refused, and checking it was
quadratic)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from catalog.content import CatalogContent
from catalog.model import EntityKind, LifecycleStatus, Product, RuleSource, VersionedEntity
from catalog.repository import InMemoryUnitOfWork
from catalog.services import CatalogService, ImportMode
from catalog.validation import DefinitionChecker, check_rule_sources, source_owners
from tariff.cli import main
from tariff.gen.catalogs import CatalogSpec, generate_catalog


def spec(offers: int) -> CatalogSpec:
    return CatalogSpec(
        offers=offers, areas=max(4, offers // 200), seed=5, combos=max(1, offers // 100)
    )


@pytest.mark.parametrize("seed", [1, 5, 11, 23])
def test_generated_add_ons_list_each_base_once(seed: int) -> None:
    content = generate_catalog(CatalogSpec(offers=600, areas=6, seed=seed, combos=6))
    for entity in content.entities.values():
        definition = entity.definition
        if isinstance(definition, Product):
            codes = definition.base_product_codes
            assert len(codes) == len(set(codes)), definition.code


def test_the_generated_10k_catalog_imports_in_a_second_or_so() -> None:
    content = generate_catalog(spec(10_000))
    store = InMemoryUnitOfWork()
    service = CatalogService(lambda: store)
    start = time.perf_counter()
    result = service.import_content(content, ImportMode.MERGE)
    elapsed = time.perf_counter() - start
    assert len(result.created) == len(content.entities)
    assert elapsed < 10, f"import validation took {elapsed:.1f} s: quadratic again?"


@pytest.mark.heavy
def test_tariff_gen_catalog_at_10k_imports_into_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cat"
    args = ["--offers", "10000", "--areas", "50", "--seed", "5", "--combos", "100"]
    assert main(["gen", "catalog", str(out), *args]) == 0
    db = ["--database-url", f"sqlite:///{tmp_path / 'big.sqlite'}"]
    assert main(["bundle", "import", str(out), *db]) == 0, capsys.readouterr().err


def _sourced(code: str, *paths: str) -> Product:
    base = generate_catalog(CatalogSpec(offers=1, areas=4, seed=1, combos=0))
    product = next(
        e.definition for e in base.entities.values() if isinstance(e.definition, Product)
    )
    return replace(product, code=code, rule_sources=tuple(RuleSource(p, "") for p in paths))


def test_owners_found_by_the_checker_are_those_of_source_owners() -> None:
    """The index built once per checker answers as the full scan did, for every entity:
    a path shared by two entities, a path of the catalog's own and a path used once."""
    a = _sourced("a", "shared.tariff", "own_a.tariff", "catalog.tariff")
    b = _sourced("b", "shared.tariff")
    c = _sourced("c", "shared.tariff", "own_c.tariff")
    entities = {(EntityKind.PRODUCT, p.code): p for p in (a, b, c)}
    base = generate_catalog(CatalogSpec(offers=1, areas=4, seed=1, combos=0))
    content = CatalogContent.build(
        areas=base.areas,
        rule_sources=(RuleSource("catalog.tariff", ""),),
        entities={k: VersionedEntity(p, LifecycleStatus.IN_DESIGN, 0) for k, p in entities.items()},
    )
    checker = DefinitionChecker(content)
    for key, product in entities.items():
        expected = list(
            check_rule_sources(
                product.rule_sources, "product.rule_sources", source_owners(content, key)
            )
        )
        found = [v for v in checker.check(product) if v.field.startswith("product.rule_sources")]
        assert found == expected
        assert found, "every one of them shares a path"
