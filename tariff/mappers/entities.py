"""Businesses, products and combos: proto <-> domain, plus the read-only status and meta.

Inbound functions take the proto field path of the message (e.g. "product") so violations name
exactly what the client sent; `status` and `meta` are read-only and ignored on the way in.
They return None only after recording a violation.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog import model
from catalog.services import Listed
from tariff.mappers.common import (
    Problems,
    datetime_to_timestamp,
    join,
    rule_source_to_proto,
    rule_sources_from_proto,
    time_period_from_proto,
    time_period_to_proto,
)
from tariff.mappers.enums import (
    BUSINESS_KIND,
    CUSTOMER_TYPE,
    LIFECYCLE_STATUS,
    PRODUCT_KIND,
    USAGE_MEASURE,
)
from tariff.v1 import catalog_pb2

EMPTY_ITEM = "must not be empty"


def codes_from_proto(values: Iterable[str], field: str, problems: Problems) -> tuple[str, ...]:
    """A repeated code field; a blank element is a violation at its index."""
    items = tuple(values)
    for i, value in enumerate(items):
        if not value.strip():
            problems.add(f"{field}[{i}]", EMPTY_ITEM)
    return items


# -- shared parts of offers -------------------------------------------------------------------


def audience_from_proto(
    msg: catalog_pb2.Audience, field: str, problems: Problems
) -> model.Audience:
    types = CUSTOMER_TYPE.many_from_proto(msg.customer_types, f"{field}.customer_types", problems)
    segments = codes_from_proto(msg.segment_codes, f"{field}.segment_codes", problems)
    return model.Audience(customer_types=tuple(types), segment_codes=segments)


def audience_to_proto(audience: model.Audience) -> catalog_pb2.Audience:
    return catalog_pb2.Audience(
        customer_types=[CUSTOMER_TYPE.to_proto(t) for t in audience.customer_types],
        segment_codes=audience.segment_codes,
    )


def overrides_from_proto(
    msgs: Iterable[catalog_pb2.AreaTariffOverride], field: str, problems: Problems
) -> tuple[model.AreaTariffOverride, ...]:
    found = []
    for i, msg in enumerate(msgs):
        at = f"{field}[{i}]"
        problems.required(msg.area_code, f"{at}.area_code")
        problems.required(msg.tariff_plan, f"{at}.tariff_plan")
        found.append(model.AreaTariffOverride(area_code=msg.area_code, tariff_plan=msg.tariff_plan))
    return tuple(found)


def override_to_proto(override: model.AreaTariffOverride) -> catalog_pb2.AreaTariffOverride:
    return catalog_pb2.AreaTariffOverride(
        area_code=override.area_code, tariff_plan=override.tariff_plan
    )


def entity_meta(listed: Listed) -> catalog_pb2.EntityMeta:
    """Bookkeeping of a read; a published copy has no revision or times (left unset)."""
    return catalog_pb2.EntityMeta(
        revision=listed.revision,
        version=listed.version,
        catalog_version=listed.catalog_version,
        create_time=datetime_to_timestamp(listed.created_at),
        update_time=datetime_to_timestamp(listed.updated_at),
    )


# -- businesses -------------------------------------------------------------------------------


def business_from_proto(
    msg: catalog_pb2.Business, field: str, problems: Problems
) -> model.Business | None:
    code = problems.required(msg.code, join(field, "code"))
    name = problems.required(msg.name, join(field, "name"))
    kind = BUSINESS_KIND.from_proto(msg.kind, join(field, "kind"), problems)
    measure = USAGE_MEASURE.from_proto(msg.usage_measure, join(field, "usage_measure"), problems)
    sources = rule_sources_from_proto(msg.rule_sources, join(field, "rule_sources"), problems)
    if kind is None or measure is None:
        return None
    return model.Business(
        code=code,
        name=name,
        kind=kind,
        usage_measure=measure,
        unit=msg.unit,
        description=msg.description,
        rule_sources=sources,
    )


def business_to_proto(
    business: model.Business,
    status: model.LifecycleStatus | None = None,
    meta: catalog_pb2.EntityMeta | None = None,
) -> catalog_pb2.Business:
    return catalog_pb2.Business(
        code=business.code,
        name=business.name,
        description=business.description,
        kind=BUSINESS_KIND.to_proto(business.kind),
        usage_measure=USAGE_MEASURE.to_proto(business.usage_measure),
        unit=business.unit,
        rule_sources=[rule_source_to_proto(s) for s in business.rule_sources],
        status=_status(status),
        meta=meta,
    )


# -- products ---------------------------------------------------------------------------------


def product_from_proto(
    msg: catalog_pb2.Product, field: str, problems: Problems
) -> model.Product | None:
    def at(name: str) -> str:
        return join(field, name)

    code = problems.required(msg.code, at("code"))
    name = problems.required(msg.name, at("name"))
    kind = PRODUCT_KIND.from_proto(msg.kind, at("kind"), problems)
    owner = problems.required(msg.owner_area_code, at("owner_area_code"))
    businesses = codes_from_proto(msg.business_codes, at("business_codes"), problems)
    bases = codes_from_proto(msg.base_product_codes, at("base_product_codes"), problems)
    audience = audience_from_proto(msg.audience, at("audience"), problems)
    areas = codes_from_proto(msg.area_codes, at("area_codes"), problems)
    overrides = overrides_from_proto(msg.tariff_overrides, at("tariff_overrides"), problems)
    channels = codes_from_proto(msg.channel_codes, at("channel_codes"), problems)
    resources = codes_from_proto(msg.resources, at("resources"), problems)
    valid_for = time_period_from_proto(msg.valid_for, at("valid_for"), problems)
    requires = codes_from_proto(msg.requires_codes, at("requires_codes"), problems)
    excludes = codes_from_proto(msg.excludes_codes, at("excludes_codes"), problems)
    sources = rule_sources_from_proto(msg.rule_sources, at("rule_sources"), problems)
    if kind is None:
        return None
    return model.Product(
        code=code,
        name=name,
        kind=kind,
        business_codes=businesses,
        owner_area_code=owner,
        category=msg.category,
        description=msg.description,
        base_product_codes=bases,
        audience=audience,
        area_codes=areas,
        tariff_plan=msg.tariff_plan,
        tariff_overrides=overrides,
        channel_codes=channels,
        service_level=msg.service_level,
        resources=resources,
        valid_for=valid_for,
        requires_codes=requires,
        excludes_codes=excludes,
        rule_sources=sources,
    )


def product_to_proto(
    product: model.Product,
    status: model.LifecycleStatus | None = None,
    meta: catalog_pb2.EntityMeta | None = None,
) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        code=product.code,
        name=product.name,
        description=product.description,
        category=product.category,
        kind=PRODUCT_KIND.to_proto(product.kind),
        business_codes=product.business_codes,
        base_product_codes=product.base_product_codes,
        audience=audience_to_proto(product.audience),
        area_codes=product.area_codes,
        tariff_plan=product.tariff_plan,
        tariff_overrides=[override_to_proto(o) for o in product.tariff_overrides],
        channel_codes=product.channel_codes,
        service_level=product.service_level,
        resources=product.resources,
        owner_area_code=product.owner_area_code,
        valid_for=time_period_to_proto(product.valid_for),
        requires_codes=product.requires_codes,
        excludes_codes=product.excludes_codes,
        rule_sources=[rule_source_to_proto(s) for s in product.rule_sources],
        status=_status(status),
        meta=meta,
    )


# -- combos -----------------------------------------------------------------------------------


def member_from_proto(
    msg: catalog_pb2.ComboMember, field: str, problems: Problems
) -> model.ComboMember:
    problems.required(msg.offer_code, f"{field}.offer_code")
    return model.ComboMember(
        offer_code=msg.offer_code,
        min_count=msg.min_count,
        max_count=msg.max_count,
        default_count=msg.default_count,
    )


def member_to_proto(member: model.ComboMember) -> catalog_pb2.ComboMember:
    return catalog_pb2.ComboMember(
        offer_code=member.offer_code,
        min_count=member.min_count,
        max_count=member.max_count,
        default_count=member.default_count,
    )


def choice_group_from_proto(
    msg: catalog_pb2.ChoiceGroup, field: str, problems: Problems
) -> model.ChoiceGroup:
    problems.required(msg.name, f"{field}.name")
    return model.ChoiceGroup(
        name=msg.name,
        offer_codes=codes_from_proto(msg.offer_codes, f"{field}.offer_codes", problems),
        min_count=msg.min_count,
        max_count=msg.max_count,
    )


def choice_group_to_proto(group: model.ChoiceGroup) -> catalog_pb2.ChoiceGroup:
    return catalog_pb2.ChoiceGroup(
        name=group.name,
        offer_codes=group.offer_codes,
        min_count=group.min_count,
        max_count=group.max_count,
    )


def combo_from_proto(msg: catalog_pb2.Combo, field: str, problems: Problems) -> model.Combo:
    """Never None: a combo has no required enum, so every problem is a recorded violation."""

    def at(name: str) -> str:
        return join(field, name)

    code = problems.required(msg.code, at("code"))
    name = problems.required(msg.name, at("name"))
    owner = problems.required(msg.owner_area_code, at("owner_area_code"))
    members = tuple(
        member_from_proto(m, f"{at('members')}[{i}]", problems) for i, m in enumerate(msg.members)
    )
    groups = tuple(
        choice_group_from_proto(g, f"{at('choice_groups')}[{i}]", problems)
        for i, g in enumerate(msg.choice_groups)
    )
    return model.Combo(
        code=code,
        name=name,
        owner_area_code=owner,
        members=members,
        category=msg.category,
        description=msg.description,
        choice_groups=groups,
        audience=audience_from_proto(msg.audience, at("audience"), problems),
        area_codes=codes_from_proto(msg.area_codes, at("area_codes"), problems),
        tariff_plan=msg.tariff_plan,
        tariff_overrides=overrides_from_proto(
            msg.tariff_overrides, at("tariff_overrides"), problems
        ),
        channel_codes=codes_from_proto(msg.channel_codes, at("channel_codes"), problems),
        service_level=msg.service_level,
        valid_for=time_period_from_proto(msg.valid_for, at("valid_for"), problems),
        requires_codes=codes_from_proto(msg.requires_codes, at("requires_codes"), problems),
        excludes_codes=codes_from_proto(msg.excludes_codes, at("excludes_codes"), problems),
        rule_sources=rule_sources_from_proto(msg.rule_sources, at("rule_sources"), problems),
    )


def combo_to_proto(
    combo: model.Combo,
    status: model.LifecycleStatus | None = None,
    meta: catalog_pb2.EntityMeta | None = None,
) -> catalog_pb2.Combo:
    return catalog_pb2.Combo(
        code=combo.code,
        name=combo.name,
        description=combo.description,
        category=combo.category,
        members=[member_to_proto(m) for m in combo.members],
        choice_groups=[choice_group_to_proto(g) for g in combo.choice_groups],
        audience=audience_to_proto(combo.audience),
        area_codes=combo.area_codes,
        tariff_plan=combo.tariff_plan,
        tariff_overrides=[override_to_proto(o) for o in combo.tariff_overrides],
        channel_codes=combo.channel_codes,
        service_level=combo.service_level,
        owner_area_code=combo.owner_area_code,
        valid_for=time_period_to_proto(combo.valid_for),
        requires_codes=combo.requires_codes,
        excludes_codes=combo.excludes_codes,
        rule_sources=[rule_source_to_proto(s) for s in combo.rule_sources],
        status=_status(status),
        meta=meta,
    )


# -- reads ------------------------------------------------------------------------------------


def listed_business(listed: Listed) -> catalog_pb2.Business:
    """A business as reads return it, with status and meta."""
    definition = listed.definition
    if not isinstance(definition, model.Business):
        raise TypeError(f"expected a business, got {definition.entity_kind.value}")
    return business_to_proto(definition, listed.status, entity_meta(listed))


def listed_product(listed: Listed) -> catalog_pb2.Product:
    definition = listed.definition
    if not isinstance(definition, model.Product):
        raise TypeError(f"expected a product, got {definition.entity_kind.value}")
    return product_to_proto(definition, listed.status, entity_meta(listed))


def listed_combo(listed: Listed) -> catalog_pb2.Combo:
    definition = listed.definition
    if not isinstance(definition, model.Combo):
        raise TypeError(f"expected a combo, got {definition.entity_kind.value}")
    return combo_to_proto(definition, listed.status, entity_meta(listed))


def _status(status: model.LifecycleStatus | None) -> catalog_pb2.LifecycleStatus.ValueType:
    return LIFECYCLE_STATUS.unspecified if status is None else LIFECYCLE_STATUS.to_proto(status)
