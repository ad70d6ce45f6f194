"""The no-op gRPC server: Tariff's own PricingService contract, answered without any rating —
each event gets a same-shaped result of constant values — so its throughput is the ceiling
the transport and protobuf leave a real server (grpc.aio, like `tariff serve`).

Run as `python -m benchmarks.support.noop` in its own process (client and server must not
share a GIL): it binds 127.0.0.1 on a free port and prints the port on stdout.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import grpc

from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc as pb_grpc

RATED = pb.RATING_STATUS_RATED


def constant_response(request: pb.RateRequest) -> pb.RateResponse:
    response = pb.RateResponse(rated_count=len(request.events))
    add = response.results.add
    for event in request.events:
        result = add(
            event_id=event.event_id, status=RATED, zone="local", band="peak", billed_units=60
        )
        charge = result.charge
        charge.currency_code = "CNY"
        charge.units = 0
        charge.nanos = 100_000_000
    return response


class NoopPricing(pb_grpc.PricingServiceServicer):
    async def Rate(  # noqa: N802 - gRPC method name
        self, request: pb.RateRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.RateResponse:
        return constant_response(request)

    async def Quote(  # noqa: N802 - gRPC method name
        self, request: pb.QuoteRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.QuoteResponse:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "no Quote baseline yet: it comes with the quote workload"
        )

    async def RateStream(  # noqa: N802 - gRPC method name
        self,
        request_iterator: AsyncIterator[pb.RateStreamRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.RateStreamResponse]:
        async for message in request_iterator:
            result = constant_response(message.batch)
            yield pb.RateStreamResponse(batch_id=message.batch_id, result=result)


async def serve() -> None:
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 64 << 20),
            ("grpc.max_send_message_length", 64 << 20),
        ]
    )
    pb_grpc.add_PricingServiceServicer_to_server(NoopPricing(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve())
