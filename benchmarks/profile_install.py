"""Where installing a generated catalog's version goes, stage by stage (issue 16).

    python -m benchmarks.profile_install --offers 1000 [--offers 10000] [--import]

Generates `tariff gen catalog`'s catalog for each size (seed 5, the `snapshot` workload's
spec), then times, once each: json decode of the version, the snapshot indexes, the rule
stages of a cold install (Lark parse, tree → nodes, check, compile of every block), the whole
`SaleCatalog` cold and again in the same process (the parse cache warm), and with `--import`
the bundle import into an in-memory store. Figures are wall-clock seconds on this machine;
run it twice and read the second when the machine is busy.

Measured before issue 16's fast install (2 shared cores, seconds; 1,011 / 10,101 sources):

| stage | 1k offers | 10k offers |
|---|--:|--:|
| json decode of the version | 0.03 | 0.20 |
| decode_content + snapshot indexes | 0.13 | 0.38 |
| Lark parse | 7.4 | 55.5 |
| tree → nodes | 1.7 | 13.4 |
| check | 0.8 | 21.4 |
| codegen + compile() | 1.2 | 22.4 |
| SaleCatalog cold / again in the same process | 7.7 / 3.1 | 98 / 35 |
| import | refused (a base listed twice) | refused, ~140 s of checks |
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from catalog.codec import decode_content, dumps, encode_content
from catalog.content import CatalogContent
from catalog.model import CatalogVersionInfo
from catalog.repository import InMemoryUnitOfWork
from catalog.services import CatalogService
from catalog.snapshot import Snapshot
from dsl import nodes as n
from dsl import parser
from dsl.builder import ModuleBuilder
from dsl.checker import check
from dsl.compiler import compile_composition, compile_eligibility
from dsl.loader import clear_cache
from rules.checking import forget_checked
from rules.names import names_from_content
from rules.sale_catalog import SaleCatalog
from tariff.gen.catalogs import CatalogSpec, generate_catalog

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)
T = TypeVar("T")


def spec_for(offers: int) -> CatalogSpec:
    """The `snapshot` and `install` workloads' catalog of `offers` offers."""
    return CatalogSpec(
        offers=offers, areas=max(4, offers // 200), seed=5, combos=max(1, offers // 100)
    )


def info_for(content: CatalogContent) -> CatalogVersionInfo:
    return CatalogVersionInfo(1, MOMENT, MOMENT, "profile", "", 0, 0, 0)


def timed(label: str, work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    print(f"  {label:<38} {time.perf_counter() - start:8.2f} s", flush=True)
    return result


def stages(content: CatalogContent) -> None:
    """The rule stages of one cold install, one at a time."""
    sources = [s for _, s in content.all_rule_sources()]
    print(f"  ({len(sources)} rule sources)")
    lark = parser._lark()
    trees = timed("lark parse", lambda: [lark.parse(s.text) for s in sources])
    modules = timed(
        "tree -> nodes",
        lambda: [ModuleBuilder(s.path).build(t) for s, t in zip(sources, trees, strict=True)],
    )
    names = names_from_content(content)
    timed("check", lambda: check(modules, names))

    def compile_all() -> None:
        for module in modules:
            for decl in module.declarations:
                if isinstance(decl, n.OfferDecl) and decl.eligibility is not None:
                    compile_eligibility(decl.eligibility, module.path, offer=decl.code)
                if isinstance(decl, n.OfferDecl) and decl.composition is not None:
                    compile_composition(decl.composition, module.path)

    clear_cache()
    timed("codegen + compile()", compile_all)


def profile(offers: int, with_import: bool) -> None:
    print(f"{offers} offers", flush=True)
    content = timed("generate", lambda: generate_catalog(spec_for(offers)))
    document = dumps(encode_content(content))
    decoded = timed("json decode", lambda: json.loads(document))
    content = timed("decode_content", lambda: decode_content(decoded))
    timed("snapshot indexes", lambda: Snapshot(info_for(content), content))
    stages(content)
    clear_cache()
    parser.clear_parse_cache()
    forget_checked()
    timed("SaleCatalog cold", lambda: SaleCatalog(info_for(content), content))
    timed("SaleCatalog again (same process)", lambda: SaleCatalog(info_for(content), content))
    if with_import:
        store = InMemoryUnitOfWork()
        service = CatalogService(lambda: store)
        timed("import (validate + store)", lambda: service.import_content(content))


def main(argv: list[str] | None = None) -> int:
    parser_ = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser_.add_argument("--offers", type=int, action="append", default=[])
    parser_.add_argument("--import", dest="with_import", action="store_true")
    args = parser_.parse_args(argv)
    for offers in args.offers or [1000]:
        profile(offers, args.with_import)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
