"""ISO 8601 text to datetime and back, as the generated models' from_dict()/to_dict() need it.

`datetime.isoformat()` takes about 1 µs, some 40% of a request model's to_dict(); orjson
writes the same text in about a third of that, and in less again while it writes a whole
request body: `wire_datetime` leaves those datetimes in the dict given to encode_json. orjson
differs from isoformat() in a few corners, so it is used only where it is known to agree, and
isoformat() answers the rest:
- datetime subclasses (orjson rejects them; pandas' Timestamp has its own isoformat);
- tzinfo classes other than datetime.timezone and zoneinfo.ZoneInfo (orjson writes `+00:00`
  for a tzinfo whose utcoffset() is None, where isoformat() writes no offset);
- offsets that are not whole minutes (orjson drops the seconds: LMT of zoneinfo zones
  before ~1900, or timezone(timedelta(seconds=7))).
tests/client/test_timestamps.py checks the equality over generated datetimes.

A naive datetime (no tzinfo, or one whose utcoffset() is None) is refused with
NaiveDatetimeError: it would be sent without an offset, which the API refuses, and guessing
the caller's zone would bill the wrong hour. Every date-time of a request body or query goes
through isoformat(), so this is the one place that checks.

`fromisoformat` is `datetime.datetime.fromisoformat` bound once: written out in from_dict,
each call looks the class up in the module and binds the classmethod again (~55 ns of the
~130 ns it takes; three times per parsed UsageEvent). Python 3.11's accepts the `Z` suffix.
"""

from __future__ import annotations

import datetime
import zoneinfo

import orjson

_dumps = orjson.dumps
_UTC = datetime.UTC
_DATETIME = datetime.datetime
# tzinfo classes whose offset orjson reads through utcoffset(), exactly as isoformat() does.
_ORJSON_TZINFOS = (datetime.timezone, zoneinfo.ZoneInfo)

fromisoformat = datetime.datetime.fromisoformat


def isoformat(moment: datetime.datetime) -> str:
    """Exactly `moment.isoformat()`, faster for plain datetimes; NaiveDatetimeError for a
    datetime without a UTC offset."""
    # orjson writes a JSON string: the ASCII text between its quotes is isoformat()'s. The
    # common case (a plain UTC datetime, one of wire_datetime's) is answered before the call:
    # the call alone cost 4% of a request model's to_dict() (callgrind).
    if moment.tzinfo is _UTC and type(moment) is _DATETIME:
        return _dumps(moment)[1:-1].decode()
    wired = wire_datetime(moment)
    return wired if type(wired) is str else _dumps(wired)[1:-1].decode()


def wire_datetime(moment: datetime.datetime) -> datetime.datetime | str:
    """`moment` for a request body that encode_json writes: the datetime itself where orjson
    writes exactly isoformat()'s text, skipping the formatting here; else isoformat()'s text.
    NaiveDatetimeError for a datetime without a UTC offset. The one place that decides when
    orjson's text can be trusted (isoformat() asks it too)."""
    if type(moment) is _DATETIME:
        tzinfo = moment.tzinfo
        # The common case first: no tzinfo to ask for an offset.
        if tzinfo is _UTC:
            return moment
        if type(tzinfo) in _ORJSON_TZINFOS:
            offset = moment.utcoffset()
            # Normalised timedelta: seconds in [0, 86400) even for negative offsets.
            if offset is not None and not (offset.seconds % 60 or offset.microseconds):
                return moment
    return _isoformat_checked(moment)


def _isoformat_checked(moment: datetime.datetime) -> str:
    """`moment.isoformat()` for a datetime orjson may write differently; NaiveDatetimeError
    for one without a UTC offset."""
    if moment.utcoffset() is None:
        # Imported here: errors imports the models, which import this module.
        from ..errors import NaiveDatetimeError

        raise NaiveDatetimeError(moment)
    return moment.isoformat()
