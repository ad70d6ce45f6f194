"""PricingService.Rate and RateStream: requests mapped (tariff.mappers.usage), records rated
by `rules.rating.RatingSession` over the installed versions, results mapped back.

Which version rates an event: with the selector unset, the one in force at the event's
start (a batch may cross a version boundary; the timeline is read once per batch, so a
publish during a batch does not split it); with `version` or `as_of`, that one version for
every event (rerating); the draft is refused (RulesService.Simulate rates drafts).

Counters go in with the request and come back updated, for every (subscriber, period) the
batch touched or was given; in a stream they are also carried from batch to batch: batch
N+1 starts from what batch N returned, unless it sends newer ones. Rating is CPU-bound and
runs on the event loop, as the rest of the hot path does; the async entry points give the
loop back every `CHUNK` events, so a huge batch neither starves other calls nor outlives
its deadline by more than a chunk (grpc.aio cancels the call's task at the next yield).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, tzinfo
from types import MappingProxyType

import grpc

from catalog.errors import NotFound, ValidationError
from catalog.snapshot import InForce, SnapshotRegistry
from catalog.versions import AsOf, VersionNumber
from dsl.runtime_usage import Lean
from rules.rating import (
    NO_VERSION,
    CounterKey,
    EventRating,
    RatedRecord,
    UsageRecord,
    Values,
    period_of,
)
from rules.sale_catalog import SaleCatalog
from tariff.errors import register
from tariff.mappers.common import Problems, join, published_selector_from_proto
from tariff.mappers.money import WirePrecisionError
from tariff.mappers.usage import (
    FRAMING,
    Rejection,
    ResultWriter,
    counters_from_proto,
    counters_to_proto,
    instant_from_proto,
    quantity_fields,
    usage_from_proto,
)
from tariff.v1 import pricing_service_pb2 as pb

#: Events rated between two yields to the event loop (2-5 ms of work on this machine).
CHUNK = 128
#: The largest answer sent: the 4 MiB every gRPC client accepts unless told otherwise.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
_NONE: Values = MappingProxyType({})

Versions = Callable[[datetime], SaleCatalog]


class _Carried:
    """What a stream hands from batch to batch: the counters and their caps' currencies."""

    __slots__ = ("counters", "currencies")

    def __init__(self) -> None:
        self.counters: dict[CounterKey, Values] = {}
        self.currencies: dict[CounterKey, str] = {}


def _selector(
    request: pb.RateRequest, field: str, problems: Problems
) -> AsOf | VersionNumber | None:
    """The pinned version a batch names, None for "in force at each start" (or after a
    violation)."""
    where = join(field, "selector")
    if request.selector.WhichOneof("selector") == "draft":
        problems.add(where, "rating reads published versions: rate a draft with Simulate")
        return None
    return published_selector_from_proto(request.selector, where, problems)


def _versions(
    registry: SnapshotRegistry[SaleCatalog], selector: AsOf | VersionNumber | None
) -> Versions:
    """How a batch picks versions. Raises NotFound for a pinned version that does not
    exist."""
    if selector is None:
        return InForce(registry)
    pinned = registry.get(selector)
    return lambda _start: pinned


class _Batch:
    """One RateRequest rated into one RateResponse (built in place), a chunk at a time."""

    def __init__(
        self,
        registry: SnapshotRegistry[SaleCatalog],
        request: pb.RateRequest,
        response: pb.RateResponse,
        tz: tzinfo,
        max_events: int,
        field: str = "",
        carried: _Carried | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        problems = Problems()
        self.size = len(request.events)
        if self.size > max_events:
            problems.add(
                join(field, "events"),
                f"at most {max_events:,} events per call: send more as batches of a RateStream",
            )
        self._max_bytes = max_bytes
        self._given = counters_from_proto(request.counters, join(field, "counters"), problems)
        selector = _selector(request, field, problems)
        problems.check()
        versions = _versions(registry, selector)
        self._carried = carried or _Carried()
        self._carried.counters.update(self._given.counters)
        self._versions = versions
        self._tz = tz
        self._events = request.events
        self._response = response
        self._engine = EventRating(versions, tz, self._carried.counters)
        self._writer = ResultWriter(response.results)
        self._written: dict[CounterKey, str] = {}  # pairs rated into -> their currency
        self._touched: set[CounterKey] = set()  # pairs of rejected events

    def rate(self, low: int, high: int) -> None:
        """Rate events[low:high] in order, appending their results. A result the wire cannot
        carry is refused (malformed-tariff) and its counters are not kept."""
        events, versions, writer = self._events, self._versions, self._writer
        engine, counters, written = self._engine, self._carried.counters, self._written
        rate, lean = engine.rate, writer.lean
        last, fields = None, None  # the last event's version, and its quantity fields
        rated_count = 0
        for msg in events[low:high]:  # bounded by the batch
            instant = instant_from_proto(msg)
            if isinstance(instant, Rejection):
                writer.rejected(msg.event_id, instant.reason, instant.message)
                continue
            start, at = instant
            try:
                catalog = versions(start)
            except NotFound as error:
                self._reject(msg.event_id, msg.subscriber_id, start, NO_VERSION, str(error), 0)
                continue
            if catalog is not last:
                last, fields = catalog, quantity_fields(catalog)
            subscriber = msg.subscriber_id
            usage = usage_from_proto(msg, start, catalog, fields, subscriber)
            if isinstance(usage, Rejection):
                self._reject(
                    msg.event_id, subscriber, start, usage.reason, usage.message, catalog.number
                )
                continue
            key, plan, result = rate(catalog, subscriber, msg.offer_code, usage, at)
            try:
                if isinstance(result, Lean):  # the usual
                    lean(msg.event_id, result, plan, catalog)
                    counters[key] = result.values
                    written[key] = result.currency
                    rated_count += 1
                    continue
                if result.status == "rated":  # rated by the interpreter
                    record = UsageRecord(msg.event_id, subscriber, msg.offer_code, usage)
                    writer.rated(RatedRecord(record, result, catalog.number, key[1], plan), catalog)
                    counters[key] = result.counters
                    written[key] = result.currency
                    rated_count += 1
                    continue
            except ValueError as error:  # WirePrecisionError, or a count beyond int64
                writer.rejected(
                    msg.event_id, "malformed-tariff", _unsendable(error), catalog.number
                )
            else:
                writer.rejected(msg.event_id, result.reason, result.message, catalog.number)
            self._touched.add(key)
        response = self._response
        response.rated_count += rated_count
        response.rejected_count = len(response.results) - response.rated_count

    def _reject(
        self, event_id: str, subscriber: str, start: datetime, code: str, why: str, version: int
    ) -> None:
        self._writer.rejected(event_id, code, why, version)
        if subscriber:
            self._touched.add((subscriber, period_of(start, self._tz)))

    def check_size(self) -> None:
        """Raises ResponseTooLarge when the results written so far already pass the limit
        (long event ids, many band parts): the rest of the batch is not rated for nothing."""
        if self._writer.size > self._max_bytes:  # an upper bound: measure before refusing
            exact = self._response.ByteSize()
            if exact > self._max_bytes:
                written = len(self._response.results)
                raise ResponseTooLarge(exact, self._max_bytes, written, self.size)
            self._writer.size = exact  # the bound starts again from what was measured

    def finish(self) -> pb.RateResponse:
        """Append the counters of every pair the batch touched or was given, by key."""
        carried = self._carried
        currencies = carried.currencies
        currencies.update(self._given.currencies)
        currencies.update((k, c) for k, c in self._written.items() if c)
        keys = self._given.counters.keys() | self._written.keys() | self._touched
        add = self._response.counters.add
        size = self._writer.size + 2 * 6  # the results, then the two counts
        for key in sorted(keys):
            counters = carried.counters.get(key) or _NONE
            out = add()
            counters_to_proto(out, key, counters, currencies.get(key, ""))
            size += out.ByteSize() + FRAMING
        if size > self._max_bytes:  # an upper bound: measure before refusing
            exact = self._response.ByteSize()
            if exact > self._max_bytes:
                raise ResponseTooLarge(exact, self._max_bytes, len(self._response.results))
        return self._response


class ResponseTooLarge(Exception):
    """The answer would pass the size every gRPC client accepts by default (RESOURCE_EXHAUSTED):
    nothing is sent rather than a response the caller cannot read."""

    def __init__(self, size: int, limit: int, events: int, of: int | None = None) -> None:
        fits = max(1, events * limit // size // 2)
        which = (
            f"these {events:,} events" if of is None else f"the first {events:,} of {of:,} events"
        )
        super().__init__(
            f"the answer to {which} would be {size:,} bytes, over the "
            f"{limit:,} a gRPC client accepts by default (TARIFF_MAX_RESPONSE_BYTES): send "
            f"about {fits:,} events per call, or batches of a RateStream"
        )


register(ResponseTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED, "RESPONSE_TOO_LARGE")


def _unsendable(error: ValueError) -> str:
    if isinstance(error, WirePrecisionError):
        return (
            f"the charge {error.args[0]}: the wire carries 9 decimals and rounding is the "
            "tariff's to declare (e.g. `rounding half_up 2 per event` in the usage block)"
        )
    return f"the result cannot be sent: {error}"


def rate_batch(
    registry: SnapshotRegistry[SaleCatalog],
    request: pb.RateRequest,
    tz: tzinfo,
    max_events: int,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> pb.RateResponse:
    """Rate a batch in one go (tools, tests, benchmarks; on the event loop prefer
    `rate_batch_async`). Raises ValidationError (field violations) for a batch over
    `max_events`, bad counters or a draft selector; NotFound for a pinned version that
    does not exist."""
    response = pb.RateResponse()
    batch = _Batch(registry, request, response, tz, max_events, max_bytes=max_bytes)
    batch.rate(0, batch.size)
    return batch.finish()


async def _rate_chunked(batch: _Batch) -> None:
    for low in range(0, batch.size, CHUNK):  # bounded by the batch
        if low:
            await asyncio.sleep(0)  # let other calls, and a cancellation, through
            batch.check_size()  # an answer already too big: stop rating now
        batch.rate(low, min(low + CHUNK, batch.size))


async def rate_batch_async(
    registry: SnapshotRegistry[SaleCatalog],
    request: pb.RateRequest,
    tz: tzinfo,
    max_events: int,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> pb.RateResponse:
    """`rate_batch` for PricingService.Rate: the same answer, rated in chunks of `CHUNK`
    events with the event loop given back between chunks. Raises as `rate_batch`."""
    response = pb.RateResponse()
    batch = _Batch(registry, request, response, tz, max_events, max_bytes=max_bytes)
    await _rate_chunked(batch)
    return batch.finish()


async def rate_stream(
    registry: SnapshotRegistry[SaleCatalog],
    requests: AsyncIterator[pb.RateStreamRequest],
    tz: tzinfo,
    max_events: int,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> AsyncIterator[pb.RateStreamResponse]:
    """PricingService.RateStream: one response per batch, in order, echoing its batch_id;
    counters carried from batch to batch. A batch with request-level problems ends the
    stream with ValidationError (field paths under `batch`, the message naming its id)
    after the responses of the batches before it."""
    carried = _Carried()
    async for message in requests:
        out = pb.RateStreamResponse(batch_id=message.batch_id)
        try:
            batch = _Batch(
                registry, message.batch, out.result, tz, max_events, "batch", carried, max_bytes
            )
        except ValidationError as error:
            raise ValidationError(
                error.violations, f"batch {message.batch_id!r} is invalid"
            ) from None
        await _rate_chunked(batch)
        batch.finish()
        yield out
