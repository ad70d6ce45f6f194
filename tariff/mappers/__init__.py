"""Translation between tariff.v1 proto messages and catalog domain values, both ways.

`common` holds the shared pieces (violations, instants, enums, selectors), `entities` and
`reference` the catalog's values, `catalog` the CatalogService requests and responses.
"""
