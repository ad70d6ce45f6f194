"""Each usage rating step stated once, in the three forms the engines run:

- `reference`: exact arithmetic (Fraction, Decimal) on the tariff's own figures, what the
  reference interpreter (`dsl.eval_usage`) calls;
- `source`: the lines of Python the code generator (`dsl.codegen_usage`) writes for one
  tariff's settled terms, integers on the block's money scale with the constants folded in
  (a list of (depth, text), depth relative to where the generator puts them);
- `vector`: numpy over whole columns, what the columnar engine (`rules.columnar`) calls.

One module a step, in the order an event goes through them (`pricing` docstring):
`selection` (the rate of a zone and band) -> `increments` (billed units) -> `allowances`
(free units, source order) -> `tiers` (the usage charge on the period's tier counter) ->
`terms` (connection fee + usage, minimum, maximum) -> `rounding` (declared, or the wire's) ->
`caps` (the period's cap on its uncapped running total). `groups` holds the running totals
per subscriber period that the vector forms of the counted steps share.
tests/unit/pricing/test_steps.py runs one table of cases a step through all three forms.
"""

from __future__ import annotations

Lines = list[tuple[int, str]]

__all__ = ["Lines", "indent"]


def indent(lines: Lines, depth: int) -> Lines:
    """`lines` nested `depth` levels deeper."""
    return [(depth + d, text) for d, text in lines]
