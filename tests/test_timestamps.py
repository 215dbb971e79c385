"""_runtime.timestamps.isoformat writes exactly what datetime.isoformat() writes, and
refuses a naive datetime (one that isoformat() would write without an offset)."""

from __future__ import annotations

import datetime
import zoneinfo

import dateutil.tz
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from paygentic_client._runtime.timestamps import isoformat
from paygentic_client.errors import NaiveDatetimeError

# datetime.timezone accepts offsets strictly inside ±24 h, to the microsecond.
_DAY = datetime.timedelta(hours=24)
_TICK = datetime.timedelta(microseconds=1)


class _NoOffset(datetime.tzinfo):
    """A tzinfo that knows no offset: isoformat() writes none (orjson would write +00:00)."""

    def utcoffset(self, dt: datetime.datetime | None) -> None:
        return None

    def dst(self, dt: datetime.datetime | None) -> None:
        return None

    def tzname(self, dt: datetime.datetime | None) -> None:
        return None


class _Moment(datetime.datetime):
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
    st.builds(_NoOffset),
)


@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1, 1, 2),
        max_value=datetime.datetime(9999, 12, 30),
        timezones=tzinfos,
    ),
    whole_second=st.booleans(),
    fold=st.sampled_from([0, 1]),
    subclass=st.booleans(),
)
@example(  # fold=1 in a repeated hour: the second, later offset
    moment=datetime.datetime(2024, 11, 3, 1, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
    whole_second=True,
    fold=1,
    subclass=False,
)
@example(  # local mean time: +00:19:32
    moment=datetime.datetime(1850, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Amsterdam")),
    whole_second=True,
    fold=0,
    subclass=False,
)
@example(
    moment=datetime.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
    whole_second=False,
    fold=0,
    subclass=False,
)
def test_isoformat_is_datetime_isoformat(
    moment: datetime.datetime, whole_second: bool, fold: int, subclass: bool
) -> None:
    moment = moment.replace(fold=fold)
    if whole_second:
        moment = moment.replace(microsecond=0)
    if subclass:
        moment = _Moment.fromisoformat(moment.isoformat()).replace(tzinfo=moment.tzinfo)

    if moment.utcoffset() is None:  # no tzinfo, or _NoOffset
        with pytest.raises(NaiveDatetimeError, match="has no UTC offset"):
            isoformat(moment)
    else:
        assert isoformat(moment) == moment.isoformat()
