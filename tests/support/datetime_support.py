"""Datetimes for the property tests of date-time formatting (tests/client/test_timestamps.py,
tests/client/test_wire_body.py): every kind of tzinfo, including those where orjson and isoformat()
disagree, and a datetime subclass."""

from __future__ import annotations

import datetime

import dateutil.tz
from hypothesis import strategies as st

# datetime.timezone accepts offsets strictly inside ±24 h, to the microsecond.
_DAY = datetime.timedelta(hours=24)
_TICK = datetime.timedelta(microseconds=1)


class NoOffset(datetime.tzinfo):
    """A tzinfo that knows no offset: isoformat() writes none (orjson would write +00:00)."""

    def utcoffset(self, dt: datetime.datetime | None) -> None:
        return None

    def dst(self, dt: datetime.datetime | None) -> None:
        return None

    def tzname(self, dt: datetime.datetime | None) -> None:
        return None


class Moment(datetime.datetime):
    """A datetime subclass, which orjson refuses to serialise."""


fixed_offsets = st.one_of(
    # Whole minutes, the offsets real zones use today.
    st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: datetime.timedelta(minutes=m)),
    # Anything datetime.timezone accepts: seconds and microseconds too.
    st.timedeltas(min_value=-_DAY + _TICK, max_value=_DAY - _TICK),
).map(datetime.timezone)

tzinfos = st.one_of(
    st.none(),
    st.just(datetime.UTC),
    fixed_offsets,
    st.timezones(),  # zoneinfo zones, whose offsets before ~1900 (LMT) have seconds
    st.sampled_from(["America/New_York", "Europe/Amsterdam", "Asia/Kolkata"]).map(
        dateutil.tz.gettz
    ),
    st.builds(NoOffset),
)


# Far enough from the ends of the datetime range for every offset to stay inside it.
aware_or_naive = st.datetimes(
    min_value=datetime.datetime(1, 1, 2),
    max_value=datetime.datetime(9999, 12, 30),
    timezones=tzinfos,
)


def as_subclass(moment: datetime.datetime) -> Moment:
    """The same moment as a datetime subclass."""
    return Moment.fromisoformat(moment.isoformat()).replace(tzinfo=moment.tzinfo)
