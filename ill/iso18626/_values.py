"""Lexical forms shared by the parser and the builder: dates, decimals, booleans, codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

# ISO 8601 / xs:dateTime, leniently: the time part, seconds, fraction and zone are optional,
# the fraction may have any number of digits (Go sends nanoseconds), "," is accepted as the
# decimal sign and a space instead of "T".
_DATETIME = re.compile(
    r"""^\s*(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})
    (?:[T\x20](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?
    \s*(?P<z>Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$""",
    re.VERBOSE,
)

#: What the Go zero time.Time looks like on the wire: means "no date".
GO_ZERO_DATE = "0001-01-01T00:00:00Z"


class ValueProblem(ValueError):
    """A value that does not fit its XML type; the parser turns it into Iso18626Error."""


def parse_datetime(text: str) -> tuple[datetime | None, bool]:
    """Parse an xs:dateTime leniently; returns (UTC datetime or None, had_zone).

    Year 1 (Go's zero time, in any zone) means "no date" and gives None.
    """
    m = _DATETIME.match(text)
    if not m:
        raise ValueProblem(f"{text!r} is not an ISO 8601 date-time")
    if m["y"] == "0001":
        return None, True
    frac = (m["f"] or "0")[:6].ljust(6, "0")
    try:
        naive = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            int(frac),
        )
    except ValueError as exc:
        raise ValueProblem(f"{text!r} is not a valid date-time ({exc})") from None
    zone = m["z"]
    if zone is None or zone in ("Z", "z"):
        tz: timezone = UTC
    else:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 14 or minutes > 59:
            raise ValueProblem(f"{text!r} has an invalid time zone offset")
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    try:
        return naive.replace(tzinfo=tz).astimezone(UTC), zone is not None
    except OverflowError:
        raise ValueProblem(f"{text!r} is out of range") from None


def format_datetime(value: datetime) -> str:
    """UTC with 'Z'; fractional seconds only when present (trailing zeros trimmed).

    A naive datetime is taken to be UTC already.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_decimal(text: str) -> Decimal:
    """xs:decimal, plus exponent notation; refuses NaN/Infinity and absurd magnitudes."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise ValueProblem(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueProblem(f"{text!r} is not a finite decimal number")
    # Expanding 1E+999999 into digits would be a denial of service; money never needs it.
    exponent = int(value.as_tuple().exponent)  # finite, so never 'n'/'N'/'F'
    if (value and not -40 <= value.adjusted() <= 40) or exponent < -40:
        raise ValueProblem(f"{text!r} is out of range for a monetary value")
    return value


def format_decimal(value: Decimal) -> str:
    """xs:decimal has no exponent form: write it out in plain digits."""
    # str() first, so that a float 0.1 is written as 0.1, not its binary expansion.
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite decimal")
    return format(value, "f")


def parse_integer(text: str) -> int:
    stripped = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", stripped):
        raise ValueProblem(f"{text!r} is not an integer")
    return int(stripped)


_TRUE = {"true", "1", "y", "yes"}
_FALSE = {"false", "0", "n", "no"}


def parse_boolean(text: str) -> tuple[bool, bool]:
    """xs:boolean; returns (value, was_canonical). Y/N and yes/no are tolerated."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True, lowered in ("true", "1")
    if lowered in _FALSE:
        return False, lowered in ("false", "0")
    raise ValueProblem(f"{text!r} is not a boolean (true/false)")


def format_boolean(value: bool) -> str:
    return "true" if value else "false"
