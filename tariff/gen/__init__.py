"""Deterministic generators of synthetic catalogs and usage, for benchmarks and load tests.

`catalogs.generate_catalog` builds a `CatalogContent` of realistic shape (areas, channels,
segments, businesses, products, combos, a zone table and rule sources) from a seed;
`usage.write_usage` streams a CSV of usage events rated by such a catalog. The same arguments
always give the same bytes.
"""

from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tariff.gen.usage import USAGE_HEADER, UsageSpec, write_usage

__all__ = ["USAGE_HEADER", "CatalogSpec", "UsageSpec", "generate_catalog", "write_usage"]
