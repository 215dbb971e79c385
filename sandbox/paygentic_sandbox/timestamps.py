"""RFC 3339 date-times as integer microseconds since the Unix epoch, in UTC.

The schema validator has already checked the format; this module turns a valid value into a
number that sorts and compares correctly whatever its offset, and formats numbers back.
Arithmetic is done by hand (not with `datetime`) so that every valid RFC 3339 value is
read: year 0000, leap seconds (`23:59:60`), any offset. An instant is then accepted only if
its UTC form lies in 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z: every instant the
server stores is answered in UTC, and clients (Python's `datetime`, for one) cannot represent
a year outside 1..9999.
"""

from __future__ import annotations

import re
import time

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_MICROS_PER_SECOND = 1_000_000
_MIN_YEAR, _MAX_YEAR = 1, 9999


class InvalidTimestamp(ValueError):
    pass


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + (3 if month_index < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


_MICROS_PER_DAY = 86400 * _MICROS_PER_SECOND
_MIN_MICROS = days_from_civil(_MIN_YEAR, 1, 1) * _MICROS_PER_DAY
_MAX_MICROS = days_from_civil(_MAX_YEAR + 1, 1, 1) * _MICROS_PER_DAY - 1


def parse(text: str) -> int:
    """Microseconds since the epoch (UTC) of an RFC 3339 date-time whose UTC form has a
    year in 0001..9999; digits beyond the microsecond are dropped."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise InvalidTimestamp(f"{text[:64]!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= offset if match.group(9) == "+" else -offset
    micros = seconds * _MICROS_PER_SECOND + int(fraction)
    if not _MIN_MICROS <= micros <= _MAX_MICROS:
        raise InvalidTimestamp(
            f"{text[:64]!r} is outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z in UTC"
        )
    return micros


def format_utc(micros: int) -> str:
    """`2024-01-15T10:30:00.25Z`, for an instant that `parse` accepts (or the clock's)."""
    seconds, fraction = divmod(micros, _MICROS_PER_SECOND)
    days, second_of_day = divmod(seconds, 86400)
    year, month, day = civil_from_days(days)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise InvalidTimestamp(f"year {year} has no four-digit RFC 3339 form")
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "Z"


def normalized(text: str) -> tuple[int, str]:
    """The instant of a date-time and how responses show it, in UTC."""
    micros = parse(text)
    return micros, format_utc(micros)


def now_micros() -> int:
    return time.time_ns() // 1000
