"""A minimal Python client: which offers may this customer buy here, through this channel?

Usage: python examples/eligible_offers.py AREA CHANNEL [--segment S] [--age N] [--address HOST:PORT]
       [--token TOKEN] [--tls-ca CA.crt] [--tls-cert CLIENT.crt --tls-key CLIENT.key]

It asks QualificationService.ListEligibleOffers of a running `tariff serve` (reflection is on,
so any gRPC client works; this one uses the generated stubs installed with the package) and
prints each offer with its list prices. Against a server with identities, give a bearer
token (`--token`, default $TARIFF_TOKEN; `tariff token issue --role reader`) and, over TLS,
the CA that signed the server's certificate (docs/operations.md "Security").
"""

from __future__ import annotations

import argparse
import os
from decimal import Decimal
from pathlib import Path

from tariff.security.client import open_channel
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
    parser.add_argument("--token", default=os.environ.get("TARIFF_TOKEN"))
    parser.add_argument("--tls-ca", type=Path, help="CA of the server's certificate (TLS)")
    parser.add_argument("--tls-cert", type=Path, help="client certificate (mTLS)")
    parser.add_argument("--tls-key", type=Path, help="client key (mTLS)")
    args = parser.parse_args()
    customer = order_pb2.Customer(
        type=catalog_pb2.CUSTOMER_TYPE_PERSONAL, segment_codes=args.segment
    )
    if args.age is not None:
        customer.age = args.age
    context = order_pb2.SaleContext(
        customer=customer, area_code=args.area, channel_code=args.channel
    )
    channel = open_channel(
        args.address, token=args.token, ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key
    )
    with channel:
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
