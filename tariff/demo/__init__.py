"""The demo catalog: a small carrier modelled on a Chinese national operator (mobile plans,
broadband, fixed line, value-added add-ons, family and 1+1 bundles, prices in CNY), shipped in
the package so a tour, a test or a fresh server has something real to sell, quote and rate
without writing a catalog first.

`DEMO` is a catalog bundle directory (`tariff bundle import`, `tariff check`, `--bundle`);
`USAGE` holds a month of usage records of its mobile subscribers (`make_usage.py` writes it
from the catalog and a seed); `CARTS` holds the named sample carts of the README tour, read
by `tariff.demo.carts`.
"""

from pathlib import Path

DEMO = Path(__file__).parent / "catalog"
USAGE = Path(__file__).parent / "usage.csv"
CARTS = Path(__file__).parent / "carts.json"

__all__ = ["CARTS", "DEMO", "USAGE"]
