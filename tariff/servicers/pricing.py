"""PricingService: Quote (here), Rate / RateStream (tariff.servicers.rating), RateBatch
(tariff.servicers.rate_batch) and the stored quotes (tariff.servicers.quotes), thin adapters
over rules.quoting, rules.rating, rules.columnar and catalog.quotes on the installed versions.


Quote reads the version in force at the sale's time (or the one selected), refuses an
ineligible cart as FAILED_PRECONDITION carrying CheckEligibility's full answer, and answers
every price of every line with its alterations and the totals, exactly.
"""

# ruff: noqa: N802  (method names are the RPC names)

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

import grpc

from catalog.errors import ValidationError, Violation
from catalog.quotes import QuoteRepository
from catalog.snapshot import SnapshotRegistry
from rules.projection import ProfileError
from rules.quoting import CartNotEligible, QuoteError, option_problems, quote_cart
from rules.sale_catalog import SaleCatalog
from tariff.errors import CANNOT_PRICE, NOT_ELIGIBLE, Refused
from tariff.mappers import qualification as qm
from tariff.mappers import quote as m
from tariff.mappers.common import Problems
from tariff.mappers.money import WirePrecisionError
from tariff.mappers.sale import cart_from_proto, sale_from_proto
from tariff.servicers import rate_batch, rating
from tariff.servicers.authorize import authorize_usage
from tariff.servicers.qualification import catalog_for
from tariff.servicers.quotes import QuoteDesk, QuotesNotKept
from tariff.v1 import pricing_service_pb2 as pb
from tariff.v1 import pricing_service_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def answer_quote(
    catalog: SaleCatalog, request: pb.QuoteRequest, time: datetime, tz: tzinfo
) -> pb.QuoteResponse:
    """Quote on a chosen catalog (published or, in Simulate, the draft)."""
    problems = Problems()
    sale = sale_from_proto(request.context, "context", catalog, time, problems)
    cart = cart_from_proto(request.items, "items", catalog, problems)
    profile = m.profile_from_proto(request.usage_profile, "usage_profile", problems)
    problems.check()
    for i, item in enumerate(cart):
        for group, problem in option_problems(catalog, sale, item):
            problems.add(f"items[{i}].options[{group!r}]", problem)
        for j, member in enumerate(item.members):
            for group, problem in option_problems(catalog, sale, member):
                problems.add(f"items[{i}].members[{j}].options[{group!r}]", problem)
    problems.check()
    try:
        quoted = quote_cart(catalog, sale, cart, tz, profile, explain=request.explain)
        return m.quote_to_proto(
            quoted, catalog.book.plan_paths, catalog.book.texts, m.parts_of(catalog)
        )
    except CartNotEligible as refused:
        verdict = refused.verdict
        violations = [
            Violation(f"items[{i}] {item.offer_code}", f"{reason.code}: {reason.message}")
            for i, item in enumerate(verdict.items)
            for reason in item.reasons
        ]
        answer = qm.cart_to_proto(verdict, catalog.book.texts)
        raise Refused(str(refused), violations, [answer], reason=NOT_ELIGIBLE) from None
    except ProfileError as error:
        field = f"usage_profile.entries[{error.index}]"
        raise ValidationError([Violation(field, str(error))]) from None
    except (QuoteError, WirePrecisionError) as error:
        raise Refused(f"the catalog cannot price this cart: {error}", reason=CANNOT_PRICE) from None


class PricingServicer(pricing_service_pb2_grpc.PricingServiceServicer):
    def __init__(
        self,
        snapshots: SnapshotRegistry[SaleCatalog],
        clock: Callable[[], datetime],
        tz: tzinfo = UTC,
        max_events: int = 10_000,
        max_bytes: int = rating.MAX_RESPONSE_BYTES,
        max_batch_rows: int = rate_batch.MAX_BATCH_ROWS,
        quotes: QuoteRepository | None = None,
        principal: Callable[[], str] = lambda: "",
    ) -> None:
        self._snapshots = snapshots
        self._quotes = None if quotes is None else QuoteDesk(quotes, self.price, clock, principal)
        self._max_batch_rows = max_batch_rows
        self._clock = clock
        self._tz = tz
        self._max_events = max_events
        self._max_bytes = max_bytes

    def price(self, request: pb.QuoteRequest, now: datetime) -> pb.QuoteResponse:
        """Quote's answer at `now` (CreateQuote stores the very same)."""
        problems = Problems()
        found = catalog_for(
            self._snapshots, request.selector, request.context, now, problems, self._tz
        )
        problems.check()
        assert found is not None
        return answer_quote(found[0], request, found[1], self._tz)

    async def Quote(self, request: pb.QuoteRequest, context: Context) -> pb.QuoteResponse:
        return self.price(request, self._clock())

    async def AuthorizeUsage(
        self, request: pb.AuthorizeUsageRequest, context: Context
    ) -> pb.AuthorizeUsageResponse:
        return authorize_usage(self._snapshots, request, self._tz)

    def _desk(self) -> QuoteDesk:
        if self._quotes is None:
            raise QuotesNotKept("this server keeps no quotes")
        return self._quotes

    async def CreateQuote(
        self, request: pb.CreateQuoteRequest, context: Context
    ) -> pb.CreateQuoteResponse:
        return await self._desk().create(request)

    async def GetQuote(self, request: pb.GetQuoteRequest, context: Context) -> pb.GetQuoteResponse:
        return await self._desk().get(request)

    async def AcceptQuote(
        self, request: pb.AcceptQuoteRequest, context: Context
    ) -> pb.AcceptQuoteResponse:
        return await self._desk().accept(request)

    async def Rate(self, request: pb.RateRequest, context: Context) -> pb.RateResponse:
        # chunked: a big batch yields the loop every few hundred events (deadlines, others)
        return await rating.rate_batch_async(
            self._snapshots, request, self._tz, self._max_events, self._max_bytes
        )

    async def RateStream(
        self, request_iterator: AsyncIterator[pb.RateStreamRequest], context: Context
    ) -> AsyncIterator[pb.RateStreamResponse]:
        async for response in rating.rate_stream(
            self._snapshots, request_iterator, self._tz, self._max_events, self._max_bytes
        ):
            yield response

    async def RateBatch(
        self, request: pb.RateBatchRequest, context: Context
    ) -> pb.RateBatchResponse:
        return await rate_batch.rate_arrow(
            self._snapshots,
            request,
            self._clock(),
            self._tz,
            self._max_batch_rows,
            self._max_bytes,
        )
