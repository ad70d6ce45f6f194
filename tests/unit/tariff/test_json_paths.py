"""Field paths leave the server as the client wrote them: lowerCamelCase, as protobuf's own
json_name spells each field, with indexes and map keys untouched; anything that is not a
field path is left as it is."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor

from catalog.errors import ValidationError, Violation
from tariff.mappers.common import json_path, wire_error
from tariff.v1 import catalog_pb2, order_pb2, pricing_service_pb2

CASES = {
    "items[0].offer_code": "items[0].offerCode",
    "context.customer.held_products[1].offer_code": "context.customer.heldProducts[1].offerCode",
    "items[0].options['pay_by']": "items[0].options['pay_by']",
    "items[0].attributes['a_b'].string_value": "items[0].attributes['a_b'].stringValue",
    "update_mask.paths[3]": "updateMask.paths[3]",
    "batch.counters[0].subscriber_id": "batch.counters[0].subscriberId",
    "a_b.c_d2_e": "aB.cD2E",
    "context.customer.age": "context.customer.age",
    "": "",
    "products/mobile_59.tariff": "products/mobile_59.tariff",
    "items[1] mobile_590": "items[1] mobile_590",
    "Product_x": "Product_x",
}


@pytest.mark.parametrize(("field", "sent"), CASES.items())
def test_paths_are_written_as_the_client_sent_them(field: str, sent: str) -> None:
    assert json_path(field) == sent


@pytest.mark.parametrize(
    "descriptor",
    [
        catalog_pb2.Product.DESCRIPTOR,
        catalog_pb2.Combo.DESCRIPTOR,
        order_pb2.SaleContext.DESCRIPTOR,
        order_pb2.Customer.DESCRIPTOR,
        pricing_service_pb2.UsageEvent.DESCRIPTOR,
    ],
)
def test_every_field_name_becomes_its_json_name(descriptor: Descriptor) -> None:
    for field in descriptor.fields:
        assert json_path(field.name) == field.json_name
        assert json_path(f"x.{field.name}[2]") == f"x.{field.json_name}[2]"


def test_a_validation_error_keeps_its_message_and_descriptions() -> None:
    error = ValidationError(
        [Violation("context.area_code", "unknown area 'GD_XX'")], "batch 'b' is invalid"
    )
    sent = wire_error(error)
    assert sent.violations == (Violation("context.areaCode", "unknown area 'GD_XX'"),)
    assert str(sent) == "batch 'b' is invalid: context.areaCode: unknown area 'GD_XX'"
