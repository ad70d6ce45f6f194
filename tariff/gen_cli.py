"""`tariff gen`: write synthetic catalogs (bundles) and usage (CSV) for benchmarks and load
tests; the same arguments always give the same bytes."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from catalog import bundle
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import UsageSpec, write_usage
from tariff.output import add_output_option, mode_of, show_record


def run_gen_catalog(args: argparse.Namespace) -> int:
    spec = CatalogSpec(
        offers=args.offers,
        areas=args.areas,
        seed=args.seed,
        rules_per_offer=args.rules_per_offer,
        combos=args.combos,
        zone_prefixes=args.zone_prefixes,
    )
    started = time.perf_counter()
    content = generate_catalog(spec)
    bundle.write_directory(content, Path(args.out_dir))
    businesses, products, combos = content.counts()
    elapsed = time.perf_counter() - started
    line = (
        f"tariff: wrote {args.out_dir}: {len(content.areas)} areas, {businesses} businesses, "
        f"{products} products, {combos} combos in {elapsed:.2f}s"
    )
    record = {
        "out": str(args.out_dir),
        "areas": len(content.areas),
        "businesses": businesses,
        "products": products,
        "combos": combos,
        "seconds": round(elapsed, 3),
    }
    show_record(record, line, mode_of(args))
    return 0


def run_gen_usage(args: argparse.Namespace) -> int:
    spec = UsageSpec(events=args.events, subscribers=args.subscribers, seed=args.seed)
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    content = bundle.read_path(Path(args.catalog))
    started = time.perf_counter()
    target = Path(args.out)
    with target.open("w", encoding="utf-8", newline="") as out:
        rows = write_usage(content, spec, out)
    elapsed = time.perf_counter() - started
    line = f"tariff: wrote {target}: {rows} events in {elapsed:.2f}s"
    show_record(
        {"out": str(target), "events": rows, "seconds": round(elapsed, 3)}, line, mode_of(args)
    )
    return 0


def add_gen_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = sub.add_parser(
        "gen",
        help="generate synthetic catalogs and usage (deterministic from --seed)",
        description="Generate synthetic catalog bundles and usage CSV files for benchmarks.",
    )
    gen_sub = gen.add_subparsers(dest="gen_command", required=True)

    catalog = gen_sub.add_parser("catalog", help="write a synthetic catalog bundle directory")
    catalog.add_argument("out_dir", help="a missing or empty directory")
    catalog.add_argument("--offers", type=int, required=True, help="number of products")
    catalog.add_argument("--areas", type=int, required=True, help="number of provinces")
    catalog.add_argument("--seed", type=int, required=True)
    catalog.add_argument(
        "--rules-per-offer", type=int, default=3, help="eligibility rules per offer (default 3)"
    )
    catalog.add_argument("--combos", type=int, default=0, help="number of combos (default 0)")
    catalog.add_argument(
        "--zone-prefixes", type=int, default=200, help="prefixes of the zone table (default 200)"
    )
    add_output_option(catalog)
    catalog.set_defaults(run=run_gen_catalog)

    usage = gen_sub.add_parser("usage", help="write a CSV of usage events for a catalog")
    usage.add_argument("out", help="the CSV file to write")
    usage.add_argument("--catalog", required=True, help="a bundle (directory or .zip)")
    usage.add_argument("--events", type=int, required=True)
    usage.add_argument("--subscribers", type=int, required=True)
    usage.add_argument("--seed", type=int, required=True)
    add_output_option(usage)
    usage.set_defaults(run=run_gen_usage)
