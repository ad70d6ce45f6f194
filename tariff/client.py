"""A typed Python client for PricingService.Rate that takes any number of events (and, for
tables of events, RateBatch: `RatingClient.rate_table`, tariff.client_batch).

One Rate call carries at most `TARIFF_MAX_RATE_EVENTS` events (10,000 by default) and its
answer at most 4 MiB, what a gRPC client accepts by default (docs/operations.md, "Request
limits"). `RatingClient.rate` splits a batch of any size into calls under both limits — by
count, and by encoded size so that neither the request nor the answer passes them — and hands
each subscriber's counters from call to call the way one big call carries them, so its one
merged answer equals what a single call without limits answers:

    from tariff.client import RatingClient

    with RatingClient.connect("127.0.0.1:50051") as client:
        answer = client.rate(events, counters=stored)   # a RateResponse
        store(answer.counters)

How: the events are sent in order, in contiguous chunks. Each chunk's request carries the
latest counters (those given, or returned by an earlier chunk) of every subscriber that has
events in it, for all their periods — a period depends on the tariff's time zone, which the
client does not know — and the counters of subscribers without events go first, in calls of
their own, so the server answers them as a single call would (normalised, or refused). An
answer the server refuses as too large (RESOURCE_EXHAUSTED) is asked again in halves; nothing
was rated for it, as the server keeps no state between calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from tariff import client_batch
from tariff.security.client import open_channel
from tariff.v1 import common_pb2, pricing_service_pb2_grpc
from tariff.v1 import pricing_service_pb2 as pb

#: The server's default `TARIFF_MAX_RATE_EVENTS`.
MAX_EVENTS = 10_000
#: The largest request built: a Rate answer repeats each event's id and adds ~100 bytes, so a
#: request of 2 MiB keeps the answer of the usual event under the 4 MiB a client accepts.
MAX_REQUEST_BYTES = 2 * 1024 * 1024

CounterKey = tuple[str, str]


def _wire(message: Any) -> int:
    """Bytes `message` takes as an element of a repeated field: tag, length, itself."""
    size: int = message.ByteSize()
    length, rest = 1, size
    while rest >= 0x80:
        rest >>= 7
        length += 1
    return 1 + length + size


class RatingClient:
    """Rate of any number of events over one channel; see the module docstring."""

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        max_events: int = MAX_EVENTS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        timeout: float | None = 60.0,
    ) -> None:
        """`max_events` must not exceed the server's `TARIFF_MAX_RATE_EVENTS`; `timeout` is
        each call's deadline in seconds (None: none)."""
        if max_events < 1 or max_request_bytes < 1:
            raise ValueError("max_events and max_request_bytes must be positive")
        self._channel = channel
        self._stub = pricing_service_pb2_grpc.PricingServiceStub(channel)
        self._max_events = max_events
        self._max_bytes = max_request_bytes
        self._timeout = timeout
        self.calls = 0  # Rate calls made so far (for logs and tests)

    @classmethod
    def connect(
        cls,
        target: str,
        *,
        token: str | None = None,
        tls: bool = False,
        ca: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        max_events: int = MAX_EVENTS,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        timeout: float | None = 60.0,
    ) -> RatingClient:
        """A client over its own channel (`tariff.security.client.open_channel`: TLS when a
        certificate or `tls` is given, the bearer `token` on every call); close it, or use
        it as a context manager."""
        channel = open_channel(target, token=token, tls=tls, ca=ca, cert=cert, key=key)
        return cls(
            channel, max_events=max_events, max_request_bytes=max_request_bytes, timeout=timeout
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> RatingClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def rate(
        self,
        events: Iterable[pb.UsageEvent],
        counters: Iterable[pb.SubscriberCounters] = (),
        *,
        selector: common_pb2.VersionSelector | None = None,
    ) -> pb.RateResponse:
        """Rate every event, in order, from `counters` (missing = zero): the answer one Rate
        call without limits gives — results in event order, the counters of every
        (subscriber, period) given or rated, by key, and the counts.

        Raises ValueError when `counters` names a (subscriber, period) twice, and
        grpc.RpcError as the server refuses a call (INVALID_ARGUMENT for malformed counters
        or a draft selector, its field paths those of that call; RESOURCE_EXHAUSTED for one
        event whose answer alone is too large; DEADLINE_EXCEEDED, UNAVAILABLE, ...)."""
        batch = list(events)
        state = _given(counters)
        owners: dict[str, list[CounterKey]] = {}
        for key in state:
            owners.setdefault(key[0], []).append(key)
        subscribers = {event.subscriber_id for event in batch}
        merged = pb.RateResponse()
        alone = [state[k] for k in sorted(state) if k[0] not in subscribers]
        for group in self._counter_calls(alone):
            self._merge(merged, self._call(pb.RateRequest(counters=group), selector), state)
        if not batch and not alone:  # still one call: the server judges the selector
            self._merge(merged, self._call(pb.RateRequest(), selector), state)
        low = 0
        cap = self._max_events
        while low < len(batch):  # each pass sends at least one event
            high, request = self._chunk(batch, low, cap, state, owners)
            try:
                answer = self._call(request, selector)
            except grpc.RpcError as error:
                if _code(error) is not grpc.StatusCode.RESOURCE_EXHAUSTED or high - low < 2:
                    raise
                cap = (high - low) // 2  # too big an answer: ask again in halves
                continue
            self._merge(merged, answer, state)
            for pair in answer.counters:
                key = (pair.subscriber_id, pair.period)
                if key not in owners.get(key[0], ()):
                    owners.setdefault(key[0], []).append(key)
            low, cap = high, self._max_events
        merged.counters.extend(state[k] for k in sorted(state))
        return merged

    def rate_table(
        self,
        events: Any,
        counters: Any = None,
        *,
        selector: common_pb2.VersionSelector | None = None,
        max_rows: int = client_batch.MAX_BATCH_ROWS,
    ) -> tuple[Any, Any]:
        """RateBatch of a pyarrow Table or DataFrame of any length (tariff.client_batch):
        (the events with the rating columns appended, the counters after them)."""
        self.calls += 1
        return client_batch.rate_table(
            self._stub, events, counters, selector=selector, max_rows=max_rows,
            timeout=self._timeout,
        )  # fmt: skip

    # -- the calls -------------------------------------------------------------------------

    def _chunk(
        self,
        batch: Sequence[pb.UsageEvent],
        low: int,
        cap: int,
        state: dict[CounterKey, pb.SubscriberCounters],
        owners: dict[str, list[CounterKey]],
    ) -> tuple[int, pb.RateRequest]:
        """The request of the events from `low`: at most `cap` of them, under the size limit
        with their subscribers' counters (one event at least, whatever its size)."""
        size = 16  # the selector
        seen: set[str] = set()
        keys: list[CounterKey] = []
        high = low
        end = min(len(batch), low + cap)
        while high < end:
            event = batch[high]
            grow = _wire(event)
            fresh = event.subscriber_id not in seen
            theirs = owners.get(event.subscriber_id, []) if fresh else []
            grow += sum(_wire(state[k]) for k in theirs)
            if high > low and size + grow > self._max_bytes:
                break
            size += grow
            if fresh:
                seen.add(event.subscriber_id)
                keys.extend(theirs)
            high += 1
        request = pb.RateRequest(events=batch[low:high], counters=[state[k] for k in sorted(keys)])
        return high, request

    def _counter_calls(
        self, alone: Sequence[pb.SubscriberCounters]
    ) -> Iterator[list[pb.SubscriberCounters]]:
        """`alone` in groups under the size limit (one pair at least per group)."""
        group: list[pb.SubscriberCounters] = []
        size = 16
        for pair in alone:
            grow = _wire(pair)
            if group and size + grow > self._max_bytes:
                yield group
                group, size = [], 16
            group.append(pair)
            size += grow
        if group:
            yield group

    def _call(
        self, request: pb.RateRequest, selector: common_pb2.VersionSelector | None
    ) -> pb.RateResponse:
        if selector is not None:
            request.selector.CopyFrom(selector)
        self.calls += 1
        answer: pb.RateResponse = self._stub.Rate(request, timeout=self._timeout)
        return answer

    @staticmethod
    def _merge(
        merged: pb.RateResponse,
        answer: pb.RateResponse,
        state: dict[CounterKey, pb.SubscriberCounters],
    ) -> None:
        merged.results.extend(answer.results)
        merged.rated_count += answer.rated_count
        merged.rejected_count += answer.rejected_count
        for pair in answer.counters:
            state[pair.subscriber_id, pair.period] = pair


def _given(counters: Iterable[pb.SubscriberCounters]) -> dict[CounterKey, pb.SubscriberCounters]:
    state: dict[CounterKey, pb.SubscriberCounters] = {}
    for index, pair in enumerate(counters):
        key = (pair.subscriber_id, pair.period)
        if key in state:
            raise ValueError(
                f"counters[{index}]: subscriber {key[0]!r} in {key[1]!r} is given twice"
            )
        state[key] = pair
    return state


def _code(error: grpc.RpcError) -> grpc.StatusCode | None:
    code = getattr(error, "code", None)
    return code() if callable(code) else None
