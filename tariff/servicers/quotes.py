"""PricingService.CreateQuote, GetQuote and AcceptQuote: quotes kept by the server (TMF648)
over `catalog.quotes`, so an order system can show a price today and hold the customer to
it when the order is placed, whatever is published in between.

CreateQuote prices the cart exactly as Quote does (the same function, so a stored quote is
what a stateless Quote answered at that moment) and stores the request and the answer with
the version that priced it. AcceptQuote never re-prices: it returns the stored answer, once,
while the quote is valid. Store calls run off the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import grpc

from catalog.errors import ValidationError, Violation
from catalog.quotes import (
    DEFAULT_VALIDITY,
    MAX_VALIDITY,
    QuoteAlreadyAccepted,
    QuoteExpired,
    QuoteRepository,
    QuoteState,
    StoredQuote,
)
from tariff.errors import Refused, register
from tariff.mappers.common import Problems, join
from tariff.v1 import pricing_service_pb2 as pb

Price = Callable[[pb.QuoteRequest, datetime], pb.QuoteResponse]


class QuotesNotKept(Exception):
    """A server built without a quote store (UNIMPLEMENTED)."""


register(QuoteExpired, grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_EXPIRED")
register(QuoteAlreadyAccepted, grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_ALREADY_ACCEPTED")
register(QuotesNotKept, grpc.StatusCode.UNIMPLEMENTED, "QUOTES_NOT_KEPT")

_STATES = {
    QuoteState.APPROVED: pb.QUOTE_STATE_APPROVED,
    QuoteState.ACCEPTED: pb.QUOTE_STATE_ACCEPTED,
    QuoteState.EXPIRED: pb.QUOTE_STATE_EXPIRED,
}


def quote_to_proto(quote: StoredQuote, now: datetime) -> pb.StoredQuote:
    msg = pb.StoredQuote(
        id=quote.id,
        state=_STATES[quote.state(now)],
        catalog_version=quote.catalog_version,
        quote=pb.QuoteResponse.FromString(quote.answer),
        request=pb.QuoteRequest.FromString(quote.request),
        created_by=quote.created_by,
        accepted_by=quote.accepted_by,
    )
    msg.valid_for.start_time.FromDatetime(quote.created_at)
    msg.valid_for.end_time.FromDatetime(quote.valid_until)
    if quote.accepted_at is not None:
        msg.accepted_at.FromDatetime(quote.accepted_at)
    return msg


def _validity(request: pb.CreateQuoteRequest, problems: Problems) -> timedelta:
    if not request.HasField("valid_for"):
        return DEFAULT_VALIDITY
    seconds, nanos = request.valid_for.seconds, request.valid_for.nanos
    limit = MAX_VALIDITY // timedelta(seconds=1)
    if (
        not (0 <= nanos < 10**9 and 0 <= seconds <= limit)
        or (seconds, nanos) == (0, 0)
        or (seconds == limit and nanos)
    ):  # range-checked before timedelta, which overflows on wire extremes
        problems.add("valid_for", f"must be more than 0 and at most {MAX_VALIDITY.days} days")
        return DEFAULT_VALIDITY
    return timedelta(seconds=seconds, microseconds=nanos // 1000)


def _under(field: str, violations: tuple[Violation, ...] | list[Violation]) -> list[Violation]:
    return [Violation(join(field, v.field), v.description) for v in violations]


def _id(quote_id: str) -> str:
    problems = Problems()
    problems.required(quote_id, "id")
    problems.check()
    return quote_id


class QuoteDesk:
    """The three calls, over a quote store, the pricing function Quote uses, the clock and
    who is calling."""

    def __init__(
        self,
        store: QuoteRepository,
        price: Price,
        clock: Callable[[], datetime],
        principal: Callable[[], str],
    ) -> None:
        self._store = store
        self._price = price
        self._clock = clock
        self._principal = principal

    async def create(self, request: pb.CreateQuoteRequest) -> pb.CreateQuoteResponse:
        problems = Problems()
        validity = _validity(request, problems)
        if not request.HasField("quote"):
            problems.add("quote", "the cart to price is required")
        problems.check()
        now = self._clock()
        try:
            answer = self._price(request.quote, now)
        except ValidationError as error:  # paths of the QuoteRequest, now under `quote`
            raise ValidationError(_under("quote", error.violations), error.message) from None
        except Refused as refused:
            raised = Refused(
                str(refused), _under("quote", refused.violations), reason=refused.reason
            )
            raised.status_details = refused.status_details
            raise raised from None
        quote = StoredQuote(
            id=f"q-{uuid.uuid4().hex}",
            catalog_version=answer.catalog_version,
            created_at=now,
            created_by=self._principal() or "local",
            valid_until=now + validity,
            request=request.quote.SerializeToString(deterministic=True),
            answer=answer.SerializeToString(deterministic=True),
        )
        await asyncio.to_thread(self._store.add, quote)
        return pb.CreateQuoteResponse(quote=quote_to_proto(quote, now))

    async def get(self, request: pb.GetQuoteRequest) -> pb.GetQuoteResponse:
        quote = await asyncio.to_thread(self._store.get, _id(request.id))
        return pb.GetQuoteResponse(quote=quote_to_proto(quote, self._clock()))

    async def accept(self, request: pb.AcceptQuoteRequest) -> pb.AcceptQuoteResponse:
        quote_id = _id(request.id)
        now = self._clock()
        principal = self._principal() or "local"
        quote = await asyncio.to_thread(self._store.accept, quote_id, now, principal)
        return pb.AcceptQuoteResponse(quote=quote_to_proto(quote, now))
