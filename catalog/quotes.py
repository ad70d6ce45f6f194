"""Stored quotes (TMF648): a priced cart kept so that it can be accepted later at the prices
it was given, whatever has been published since (a price lock).

A quote is priced once, by the version in force at its sale time (or the one selected), and
stored with that version's number and what it answered. It is acceptable while it is valid
(`valid_until`, fixed when it is created) and only once: acceptance is the one change a
stored quote ever sees. The priced answer is opaque here (the edge's serialized message):
the domain keeps what was promised, never re-prices it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

#: How long a quote stays acceptable unless its caller asks for less.
DEFAULT_VALIDITY = timedelta(days=30)
#: The longest validity a caller may ask for.
MAX_VALIDITY = timedelta(days=366)


class QuoteState(Enum):
    APPROVED = "approved"  # priced and acceptable until valid_until
    ACCEPTED = "accepted"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class StoredQuote:
    id: str
    catalog_version: int
    created_at: datetime
    created_by: str
    valid_until: datetime
    request: bytes  # what was asked, as the edge received it
    answer: bytes  # what was answered: the prices the quote locks
    accepted_at: datetime | None = None
    accepted_by: str = ""

    def state(self, now: datetime) -> QuoteState:
        if self.accepted_at is not None:
            return QuoteState.ACCEPTED
        return QuoteState.APPROVED if now < self.valid_until else QuoteState.EXPIRED


class QuoteNotAcceptable(Exception):
    """A quote that cannot be accepted (FAILED_PRECONDITION)."""

    def __init__(self, quote: StoredQuote, message: str) -> None:
        super().__init__(message)
        self.quote = quote


class QuoteExpired(QuoteNotAcceptable):
    pass


class QuoteAlreadyAccepted(QuoteNotAcceptable):
    pass


def not_acceptable(quote: StoredQuote) -> QuoteNotAcceptable:
    """Why `quote` cannot be accepted: accepted already, else expired."""
    if quote.accepted_at is not None:
        by = f" by {quote.accepted_by}" if quote.accepted_by else ""
        when = quote.accepted_at.isoformat()
        return QuoteAlreadyAccepted(quote, f"quote {quote.id} was accepted already, at {when}{by}")
    return QuoteExpired(
        quote,
        f"quote {quote.id} expired at {quote.valid_until.isoformat()}: ask for a new quote "
        "(priced by the version in force now)",
    )


class QuoteRepository(Protocol):
    def add(self, quote: StoredQuote) -> None: ...

    def get(self, quote_id: str) -> StoredQuote:
        """Raises catalog.errors.NotFound."""
        ...

    def accept(self, quote_id: str, now: datetime, principal: str) -> StoredQuote:
        """Accept the quote if it is acceptable at `now`, atomically (of two concurrent
        acceptances exactly one succeeds). Raises NotFound or QuoteNotAcceptable."""
        ...
