"""Reference data (areas, channels, segments, zone tables): proto <-> domain."""

from __future__ import annotations

from collections.abc import Iterable

from catalog import model
from catalog.content import CatalogContent
from tariff.mappers.common import Problems, rule_source_to_proto
from tariff.mappers.enums import AREA_LEVEL, CHANNEL_KIND, CUSTOMER_TYPE
from tariff.v1 import catalog_pb2, catalog_service_pb2

_LEVEL_ORDER = {level: i for i, level in enumerate(model.AreaLevel)}


def area_from_proto(msg: catalog_pb2.Area, field: str, problems: Problems) -> model.Area | None:
    code = problems.required(msg.code, f"{field}.code")
    name = problems.required(msg.name, f"{field}.name")
    level = AREA_LEVEL.from_proto(msg.level, f"{field}.level", problems)
    if level is None:
        return None
    return model.Area(code=code, name=name, level=level, parent_code=msg.parent_code)


def area_to_proto(area: model.Area) -> catalog_pb2.Area:
    return catalog_pb2.Area(
        code=area.code,
        name=area.name,
        level=AREA_LEVEL.to_proto(area.level),
        parent_code=area.parent_code,
    )


def channel_from_proto(
    msg: catalog_pb2.Channel, field: str, problems: Problems
) -> model.Channel | None:
    code = problems.required(msg.code, f"{field}.code")
    name = problems.required(msg.name, f"{field}.name")
    kind = CHANNEL_KIND.from_proto(msg.kind, f"{field}.kind", problems)
    if kind is None:
        return None
    return model.Channel(code=code, name=name, kind=kind)


def channel_to_proto(channel: model.Channel) -> catalog_pb2.Channel:
    return catalog_pb2.Channel(
        code=channel.code, name=channel.name, kind=CHANNEL_KIND.to_proto(channel.kind)
    )


def segment_from_proto(msg: catalog_pb2.Segment, field: str, problems: Problems) -> model.Segment:
    """`customer_type` UNSPECIFIED means "either" (None), per the contract."""
    return model.Segment(
        code=problems.required(msg.code, f"{field}.code"),
        name=problems.required(msg.name, f"{field}.name"),
        customer_type=CUSTOMER_TYPE.optional_from_proto(
            msg.customer_type, f"{field}.customer_type", problems
        ),
    )


def segment_to_proto(segment: model.Segment) -> catalog_pb2.Segment:
    kind = segment.customer_type
    return catalog_pb2.Segment(
        code=segment.code,
        name=segment.name,
        customer_type=CUSTOMER_TYPE.unspecified if kind is None else CUSTOMER_TYPE.to_proto(kind),
    )


def zone_table_from_proto(
    msg: catalog_pb2.ZoneTable, field: str, problems: Problems
) -> model.ZoneTable:
    """Rows keep the client's order; the service sorts them and checks duplicates."""
    name = problems.required(msg.name, f"{field}.name")
    prefixes = []
    for i, row in enumerate(msg.prefixes):
        at = f"{field}.prefixes[{i}]"
        prefixes.append(
            (
                problems.required(row.prefix, f"{at}.prefix"),
                problems.required(row.zone, f"{at}.zone"),
            )
        )
    return model.ZoneTable(
        name=name,
        prefixes=tuple(prefixes),
        description=msg.description,
    )


def zone_table_to_proto(table: model.ZoneTable) -> catalog_pb2.ZoneTable:
    return catalog_pb2.ZoneTable(
        name=table.name,
        description=table.description,
        prefixes=[catalog_pb2.ZonePrefix(prefix=p, zone=z) for p, z in table.prefixes],
    )


def parents_first(areas: Iterable[model.Area]) -> list[model.Area]:
    """The contract lists the area tree parents before children: nation, provinces, cities."""
    return sorted(areas, key=lambda a: (_LEVEL_ORDER[a.level], a.code))


def reference_data_to_proto(
    content: CatalogContent,
) -> catalog_service_pb2.GetReferenceDataResponse:
    return catalog_service_pb2.GetReferenceDataResponse(
        areas=[area_to_proto(a) for a in parents_first(content.areas.values())],
        channels=[channel_to_proto(c) for c in content.channels.values()],
        segments=[segment_to_proto(s) for s in content.segments.values()],
        zone_table_names=list(content.zone_tables),
        rule_sources=[rule_source_to_proto(s) for s in content.rule_sources],
    )
