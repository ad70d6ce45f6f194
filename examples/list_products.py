"""A minimal Python client: list the products sold in an area through a channel.

Usage: python examples/list_products.py AREA [CHANNEL] [--address HOST:PORT]
"""

from __future__ import annotations

import argparse
import os

import grpc

from tariff.v1 import catalog_service_pb2, catalog_service_pb2_grpc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("area")
    parser.add_argument("channel", nargs="?", default="")
    port = os.environ.get("TARIFF_PORT", "50051")  # the server's own setting
    parser.add_argument("--address", default=f"127.0.0.1:{port}")
    args = parser.parse_args()
    with grpc.insecure_channel(args.address) as channel:
        stub = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_service_pb2.ListProductsRequest(
            filter=catalog_service_pb2.CatalogFilter(area_code=args.area, channel_code=args.channel)
        )
        request.selector.as_of.GetCurrentTime()  # the version in force now (unset = the draft)
        reply = stub.ListProducts(request, timeout=10)
        for product in reply.products:
            print(f"{product.code:20} v{product.meta.version}  {product.name}")


if __name__ == "__main__":
    main()
