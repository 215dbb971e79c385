"""_runtime.timestamps.isoformat writes exactly what datetime.isoformat() writes, and
refuses a naive datetime (one that isoformat() would write without an offset)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.datetime_support import as_subclass, aware_or_naive

from paygentic_client._runtime.timestamps import isoformat
from paygentic_client.errors import NaiveDatetimeError


@given(
    moment=aware_or_naive,
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
        moment = as_subclass(moment)

    if moment.utcoffset() is None:  # no tzinfo, or _NoOffset
        with pytest.raises(NaiveDatetimeError, match="has no UTC offset"):
            isoformat(moment)
    else:
        assert isoformat(moment) == moment.isoformat()
