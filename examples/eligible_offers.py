"""A minimal Python client: which offers may this customer buy here, through this channel?

Usage: python examples/eligible_offers.py AREA CHANNEL [--segment S] [--age N] [--address HOST:PORT]

It asks QualificationService.ListEligibleOffers of a running `tariff serve` (reflection is on,
so any gRPC client works; this one uses the generated stubs installed with the package) and
prints each offer with its list prices.
"""

from __future__ import annotations

import argparse
import os
from decimal import Decimal

import grpc

from tariff.v1 import (
    catalog_pb2,
    order_pb2,
    qualification_service_pb2,
    qualification_service_pb2_grpc,
)


def money(amount: object) -> str:
    units, nanos, currency = amount.units, amount.nanos, amount.currency_code  # type: ignore[attr-defined]
    if not currency:
        return ""
    return f"{Decimal(units) + Decimal(nanos).scaleb(-9):.2f} {currency}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("area")
    parser.add_argument("channel")
    parser.add_argument("--segment", action="append", default=[])
    parser.add_argument("--age", type=int)
    port = os.environ.get("TARIFF_PORT", "50051")  # the server's own setting
    parser.add_argument("--address", default=f"127.0.0.1:{port}")
    args = parser.parse_args()
    customer = order_pb2.Customer(
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL, segment_codes=args.segment
    )
    if args.age is not None:
        customer.age = args.age
    context = order_pb2.SaleContext(
        customer=customer, area_code=args.area, channel_code=args.channel
    )
    with grpc.insecure_channel(args.address) as channel:
        stub = qualification_service_pb2_grpc.QualificationServiceStub(channel)
        request = qualification_service_pb2.ListEligibleOffersRequest(context=context)
        reply = stub.ListEligibleOffers(request, timeout=10)
        for offer in reply.offers:
            recurring = money(offer.prices.recurring)
            if recurring and offer.prices.recurring_period:
                recurring += f" / {offer.prices.recurring_period}"
            print(f"{offer.offer_code:22} {offer.name}  {recurring}")


if __name__ == "__main__":
    main()
