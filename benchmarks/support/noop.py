"""The no-op gRPC server: Tariff's own contracts answered without any work, so its
throughput is the ceiling the transport and protobuf leave a real server (grpc.aio, like
`tariff serve`).

- PricingService.Rate: a same-shaped response of constant values (every field a rated
  event carries, and each subscriber's counters).
- QualificationService, PricingService.Quote and RateBatch: each request gets the response the real
  server gives it, prepared
  beforehand by the benchmark and passed in `--canned FILE` (a pickle of request bytes ->
  response bytes): same bytes on the wire, none of the work.

Run as `python -m benchmarks.support.noop [--canned FILE]` in its own process (client and
server must not share a GIL): it binds 127.0.0.1 on a free port and prints the port.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc
from tariff.v1 import qualification_service_pb2 as qpb
from tariff.v1 import qualification_service_pb2_grpc as qpb_grpc

RATED = pb.RATING_STATUS_RATED


def constant_response(request: pb.RateRequest) -> pb.RateResponse:
    """The shape of Tariff's answer with constant values: per event every field a rated
    event carries (charge, zone, band, units, allowance units, the rule and where it is
    written, the catalog version); per subscriber of the batch its period's counters (an
    allowance and a cap)."""
    response = pb.RateResponse(rated_count=len(request.events))
    add = response.results.add
    for event in request.events:
        result = add(
            event_id=event.event_id,
            status=RATED,
            zone="local",
            band="peak",
            billed_units=60_000,
            allowance_units=60_000,
            catalog_version=1,
        )
        charge = result.charge
        charge.currency_code = "CNY"
        charge.units = 0
        charge.nanos = 100_000_000
        rule = result.rule
        rule.name = "plan_0001.local_voice.rate[1]"
        location = rule.location
        location.path = "products/plan_0001.tariff"
        location.line = 12
        location.column = 5
    counters = response.counters.add
    for subscriber in {event.subscriber_id for event in request.events}:
        period = counters(subscriber_id=subscriber, period="2026-03")
        period.counters.add(name="allowance:plan_0001_minutes", units=600_000)
        cap = period.counters.add(name="cap:local_voice[1]").amount
        cap.currency_code = "CNY"
        cap.units = 12
        cap.nanos = 500_000_000
    return response


class NoopPricing(pb_grpc.PricingServiceServicer):
    async def Rate(  # noqa: N802 - gRPC method name
        self, request: pb.RateRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.RateResponse:
        return constant_response(request)

    def __init__(self, canned: dict[bytes, bytes] | None = None) -> None:
        self._quotes = {
            k: pb.QuoteResponse.FromString(v)
            for k, v in (canned or {}).items()
            if k.startswith(b"Q")
        }
        self._batches = {
            k: pb.RateBatchResponse.FromString(v)
            for k, v in (canned or {}).items()
            if k.startswith(b"B")
        }

    async def Quote(  # noqa: N802 - gRPC method name
        self, request: pb.QuoteRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.QuoteResponse:
        return self._quotes.get(b"Q" + request.SerializeToString(deterministic=True), EMPTY_QUOTE)

    async def RateBatch(  # noqa: N802 - gRPC method name
        self, request: pb.RateBatchRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.RateBatchResponse:
        found = self._batches.get(b"B" + request.SerializeToString(deterministic=True))
        return found if found is not None else EMPTY_BATCH

    # stored quotes are not measured against the no-op: it answers them empty
    async def CreateQuote(  # noqa: N802 - gRPC method name
        self, request: pb.CreateQuoteRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.CreateQuoteResponse:
        return pb.CreateQuoteResponse()

    async def GetQuote(  # noqa: N802 - gRPC method name
        self, request: pb.GetQuoteRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.GetQuoteResponse:
        return pb.GetQuoteResponse()

    async def AcceptQuote(  # noqa: N802 - gRPC method name
        self, request: pb.AcceptQuoteRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.AcceptQuoteResponse:
        return pb.AcceptQuoteResponse()

    async def AuthorizeUsage(  # noqa: N802 - gRPC method name
        self, request: pb.AuthorizeUsageRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.AuthorizeUsageResponse:
        return pb.AuthorizeUsageResponse()

    async def RateStream(  # noqa: N802 - gRPC method name
        self,
        request_iterator: AsyncIterator[pb.RateStreamRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.RateStreamResponse]:
        async for message in request_iterator:
            result = constant_response(message.batch)
            yield pb.RateStreamResponse(batch_id=message.batch_id, result=result)


class CannedQualification(qpb_grpc.QualificationServiceServicer):
    def __init__(self, canned: dict[bytes, bytes]) -> None:
        self._list = {
            k: qpb.ListEligibleOffersResponse.FromString(v)
            for k, v in canned.items()
            if k.startswith(b"L")
        }
        self._check = {
            k: qpb.CheckEligibilityResponse.FromString(v)
            for k, v in canned.items()
            if k.startswith(b"C")
        }

    async def ListEligibleOffers(  # noqa: N802 - gRPC method name
        self,
        request: qpb.ListEligibleOffersRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> qpb.ListEligibleOffersResponse:
        return self._list.get(b"L" + request.SerializeToString(deterministic=True), EMPTY_LIST)

    async def CheckEligibility(  # noqa: N802 - gRPC method name
        self,
        request: qpb.CheckEligibilityRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> qpb.CheckEligibilityResponse:
        return self._check.get(b"C" + request.SerializeToString(deterministic=True), EMPTY_CHECK)


EMPTY_LIST = qpb.ListEligibleOffersResponse()
EMPTY_QUOTE = pb.QuoteResponse()
EMPTY_BATCH = pb.RateBatchResponse()
EMPTY_CHECK = qpb.CheckEligibilityResponse()


async def serve(canned: dict[bytes, bytes]) -> None:
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 64 << 20),
            ("grpc.max_send_message_length", 64 << 20),
        ]
    )
    pb_grpc.add_PricingServiceServicer_to_server(NoopPricing(canned), server)
    qpb_grpc.add_QualificationServiceServicer_to_server(CannedQualification(canned), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--canned", type=Path, help="pickled request bytes -> response bytes")
    args = parser.parse_args()
    canned: dict[bytes, bytes] = {}
    if args.canned is not None:
        canned = pickle.loads(args.canned.read_bytes())  # written by the benchmark itself
    asyncio.run(serve(canned))


if __name__ == "__main__":
    main()
