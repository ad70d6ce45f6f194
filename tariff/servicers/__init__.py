"""gRPC servicers: thin adapters from tariff.v1 services to the catalog's service layer."""

from tariff.servicers.catalog import CatalogServicer

__all__ = ["CatalogServicer"]
