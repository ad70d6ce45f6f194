"""Every proto enum of the catalog API paired with its domain enum, checked at import time."""

from __future__ import annotations

from catalog import model
from catalog.diff import ChangeType
from catalog.services import ImportMode
from rules.version_diff import Aspect
from tariff.mappers.common import EnumMap
from tariff.v1 import catalog_pb2, catalog_service_pb2

LIFECYCLE_STATUS = EnumMap(catalog_pb2.LifecycleStatus, "LIFECYCLE_STATUS", model.LifecycleStatus)
BUSINESS_KIND = EnumMap(catalog_pb2.BusinessKind, "BUSINESS_KIND", model.BusinessKind)
USAGE_MEASURE = EnumMap(catalog_pb2.UsageMeasure, "USAGE_MEASURE", model.UsageMeasure)
PRODUCT_KIND = EnumMap(catalog_pb2.ProductKind, "PRODUCT_KIND", model.ProductKind)
CUSTOMER_TYPE = EnumMap(catalog_pb2.CustomerType, "CUSTOMER_TYPE", model.CustomerType)
AREA_LEVEL = EnumMap(catalog_pb2.AreaLevel, "AREA_LEVEL", model.AreaLevel)
CHANNEL_KIND = EnumMap(catalog_pb2.ChannelKind, "CHANNEL_KIND", model.ChannelKind)
ENTITY_KIND = EnumMap(catalog_pb2.EntityKind, "ENTITY_KIND", model.EntityKind)
CHANGE_TYPE = EnumMap(catalog_service_pb2.ChangeType, "CHANGE_TYPE", ChangeType)
IMPORT_MODE = EnumMap(catalog_service_pb2.ImportMode, "IMPORT_MODE", ImportMode)
OFFER_ASPECT = EnumMap(catalog_service_pb2.OfferAspect, "OFFER_ASPECT", Aspect)
