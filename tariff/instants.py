"""The one parser for instants given on the command line (`--effective-from`, `--time`,
`--as-of`): what a person types, read one way by every command.

Accepted: an ISO date (`2026-03-10`: its midnight in the operator's time zone,
TARIFF_TIME_ZONE), an ISO date-time with its offset (`2026-03-10T10:00:00+08:00`, or `Z`),
or an offset from now (`+1d`, `+2h`, `+30m`, `-1w`; units s, m, h, d, w). A date-time
without an offset is refused rather than guessed, as the RPCs refuse it.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

FORMATS = (
    "an ISO date (2026-03-10, midnight in TARIFF_TIME_ZONE), an ISO date-time with its "
    "offset (2026-03-10T10:00:00+08:00 or 2026-03-10T02:00:00Z), or an offset from now "
    "(+1d, +2h, +30m, -1w)"
)
_OFFSET = re.compile(r"([+-])([0-9]{1,6})([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadInstant(ValueError):
    """Text that is none of the accepted forms; the message names them (FORMATS)."""


def parse_instant(text: str, *, now: datetime, zone: tzinfo) -> datetime:
    """`text` as an aware UTC datetime. Raises BadInstant."""
    value = text.strip()
    offset = _OFFSET.fullmatch(value)
    try:
        if offset is not None:
            sign, amount, unit = offset.groups()
            step = timedelta(**{_UNITS[unit]: int(amount)})
            return (now + step if sign == "+" else now - step).astimezone(UTC)
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        if "T" in value or " " in value:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if stamp.tzinfo is None:
                raise BadInstant(
                    f"{text!r} has no time zone offset: add one (+08:00, Z); accepted: {FORMATS}"
                )
            return stamp.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        if isinstance(error, BadInstant):
            raise
        raise BadInstant(
            f"{text!r} is not a valid instant ({error}); accepted: {FORMATS}"
        ) from None
    raise BadInstant(f"{text!r} is not an instant; accepted: {FORMATS}")


def instant_argument(text: str) -> datetime:
    """`parse_instant` as an argparse `type`: a bad value is a usage error (exit 2) naming
    the flag and the accepted forms. The zone is TARIFF_TIME_ZONE's (default Asia/Shanghai)."""
    from pydantic import ValidationError

    from tariff.settings import Settings

    try:
        zone = Settings().zone
    except ValidationError as error:
        raise argparse.ArgumentTypeError(f"TARIFF_TIME_ZONE: {error.errors()[0]['msg']}") from None
    try:
        return parse_instant(text, now=datetime.now(UTC), zone=zone)
    except BadInstant as error:
        raise argparse.ArgumentTypeError(str(error)) from None
