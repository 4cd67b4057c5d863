"""FHIR date/dateTime/instant values as precision-aware half-open ranges [lo, hi) in epoch microseconds.

A stored or searched value without a timezone is taken as UTC. In a search value a space before the
timezone's hh:mm means '+', because an unencoded '+' in a URL query decodes to a space.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from medarc_inspect.fhir.errors import FhirError

US = 1_000_000
DAY_US = 86_400 * US
NEG_INF = -(1 << 62)
POS_INF = 1 << 62
MISSING = -(1 << 63)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

_VALUE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,
)
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
# The comparison forms of older FHIR versions, which HAPI still reads (`birthdate=>=1950`).
_COMPARATORS = ((">=", "ge"), ("<=", "le"), (">", "gt"), ("<", "lt"))
MAX_OFFSET_MINUTES = 14 * 60  # FHIR's timezone offsets run from -14:00 to +14:00


def _check_tz(text: str, tz: str | None) -> None:
    if tz and tz != "Z":
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if minutes > 59 or hours * 60 + minutes > MAX_OFFSET_MINUTES:
            raise ValueError(f"invalid timezone offset in {text!r} (offsets run from -14:00 to +14:00)")


def parse_range(text: str) -> tuple[int, int]:
    """Range [lo, hi) covered by a FHIR date/dateTime/instant string; ValueError if malformed."""
    if (
        len(text) >= 20
        and text[10] == "T"
        and text[16] == ":"
        and text[19] in "+-Z."
        and (text[-1] == "Z" or (text[-6] in "+-" and text[-3] == ":"))
    ):
        return _full_datetime(text)
    m = _VALUE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a FHIR date/dateTime: {text!r}")
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    y = int(year)
    if tz and hh is None:
        raise ValueError(f"timezone without a time: {text!r}")
    _check_tz(text, tz)
    if hh is not None and (int(hh) > 23 or int(mm) > 59):
        raise ValueError(f"invalid time in {text!r}")  # T24:00 included: FHIR times stop at 23:59:59
    try:
        if month is None:
            lo_day = date(y, 1, 1).toordinal()
            return _us(lo_day, 0, tz), _us(date(y + 1, 1, 1).toordinal(), 0, tz)
        mo = int(month)
        if day is None:
            nxt = date(y + 1, 1, 1) if mo == 12 else date(y, mo + 1, 1)
            return _us(date(y, mo, 1).toordinal(), 0, tz), _us(nxt.toordinal(), 0, tz)
        ordinal = date(y, mo, int(day)).toordinal()
    except ValueError as e:
        raise ValueError(f"invalid date {text!r}: {e}") from None
    if hh is None:
        lo = _us(ordinal, 0, tz)
        return lo, lo + DAY_US
    if ss is not None and ss != "60":  # the common full dateTime: parsed in C
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as e:
            raise ValueError(f"invalid time in {text!r}: {e}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        lo = (moment - _EPOCH) // _ONE_US
        return lo, lo + (10 ** (6 - min(len(frac), 6)) if frac else US)
    h, mi = int(hh), int(mm)
    if h > 23 or mi > 59 or (ss is not None and int(ss) > 60):
        raise ValueError(f"invalid time in {text!r}")
    if ss is None:
        lo = _us(ordinal, h * 3600 + mi * 60, tz)
        return lo, lo + 60 * US
    lo = _us(ordinal, h * 3600 + mi * 60 + int(ss), tz)
    if frac is None:
        return lo, lo + US
    digits = frac[:6]
    lo += int(digits.ljust(6, "0"))
    return lo, lo + 10 ** (6 - len(digits))


def _full_datetime(text: str) -> tuple[int, int]:
    """Fast path for the usual full dateTime with seconds and a timezone (validated and parsed in C)."""
    if not (text.isascii() and text[:4].isdigit()) or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a FHIR date/dateTime: {text!r}")
    if text[-1] != "Z":
        _check_tz(text, text[-6:])
    if text[11:13] > "23":
        raise ValueError(f"invalid time in {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise ValueError(f"invalid dateTime {text!r}: {e}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    lo = (moment - _EPOCH) // _ONE_US
    if text[19] != ".":
        return lo, lo + US
    digits = len(text) - 20 - (1 if text.endswith("Z") else 6 if text[-6] in "+-" else 0)
    return lo, lo + 10 ** (6 - min(digits, 6))


def _us(ordinal: int, seconds: int, tz: str | None) -> int:
    offset = 0
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        offset = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return ((ordinal - _EPOCH_ORDINAL) * 86_400 + seconds - offset) * US


def parse_search_value(raw: str) -> tuple[str, int, int]:
    """A date search value with optional prefix -> (prefix, lo, hi); FhirError 400 if malformed."""
    value = raw.strip()
    prefix = "eq"
    for comparator, name in _COMPARATORS:
        if value.startswith(comparator):
            prefix, value = name, value[len(comparator) :]
            break
    else:
        prefix, value = _prefix(raw, value)
    value = value.replace(" ", "+")
    try:
        lo, hi = parse_range(value)
    except ValueError:
        raise FhirError(
            400, f"Invalid date/time value {raw!r} (expected e.g. 2023-11-12 or ge2023-11-12T10:15:00+00:00)"
        ) from None
    return prefix, lo, hi


def _prefix(raw: str, value: str) -> tuple[str, str]:
    prefix = "eq"
    if value[:2].isalpha():
        prefix, value = value[:2], value[2:]
        if prefix not in PREFIXES:
            raise FhirError(400, f"Unsupported date prefix {prefix!r} in {raw!r}; use one of {', '.join(PREFIXES)}")
    return prefix, value


def range_matches(prefix: str, lo: int, hi: int, a: int, b: int) -> bool:
    """Does the stored range [a, b) satisfy `prefix` against the searched range [lo, hi)? (overlap rules)"""
    if prefix == "eq":
        return a < hi and b > lo
    if prefix == "ge":
        return b > lo
    if prefix == "le":
        return a < hi
    if prefix == "gt":
        return b > hi
    if prefix == "lt":
        return a < lo
    if prefix == "ne":
        return not (a < hi and b > lo)
    if prefix == "sa":
        return a >= hi
    return b <= lo  # eb
