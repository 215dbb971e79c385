"""The endpoint functions send to_wire_dict() (datetimes left for orjson to write) and the
bytes are exactly those of encode_json(to_dict()), the body sent before it existed; a naive
datetime is still refused."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.client_harness import FakeApi
from support.datetime_support import NoOffset, as_subclass, aware_or_naive

from paygentic_client._runtime.jsonbody import encode_json
from paygentic_client._runtime.timestamps import wire_datetime
from paygentic_client.api.usage_events import batch_create_usage_events, create_usage_event
from paygentic_client.errors import NaiveDatetimeError
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Metadata,
)
from paygentic_client.types import UNSET


@st.composite
def moments(draw: st.DrawFn) -> datetime.datetime:
    """Aware or naive datetimes of every tzinfo, with or without microseconds, either fold,
    sometimes as a datetime subclass."""
    moment = draw(aware_or_naive).replace(fold=draw(st.sampled_from([0, 1])))
    if draw(st.booleans()):
        moment = moment.replace(microsecond=0)
    return as_subclass(moment) if draw(st.booleans()) else moment


def _aware(moment: datetime.datetime) -> bool:
    return moment.utcoffset() is not None


# "null" in a key sends the body to the strict json.dumps encoding (_runtime/jsonbody.py).
_keys = st.one_of(st.text(min_size=1, max_size=8), st.just("null"))
_metadata = st.dictionaries(_keys, st.text(max_size=8), max_size=2).map(Metadata.from_dict)


def events(
    timestamps: st.SearchStrategy[datetime.datetime],
) -> st.SearchStrategy[CreateUsageEventRequest]:
    return st.builds(
        CreateUsageEventRequest,
        idempotency_key=_keys,
        customer_id=st.just("cus_1"),
        merchant_id=st.just("org_1"),
        timestamp=timestamps,
        properties=st.lists(
            st.builds(
                CreateUsageEventRequestProperty,
                billable_metric_id=st.just("bm_1"),
                quantity=st.floats(min_value=1, allow_infinity=False),
                price=st.one_of(st.just(UNSET), st.just("0.125")),
            ),
            min_size=1,
            max_size=2,
        ),
        entitlement_id=st.one_of(st.just(UNSET), st.just("com_1")),
        metadata=st.one_of(st.just(UNSET), _metadata),
    )


@given(moment=moments())
@example(moment=datetime.datetime(1850, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Amsterdam")))
@example(
    moment=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(seconds=7)))
)
@example(moment=datetime.datetime(2024, 1, 1, tzinfo=NoOffset()))
def test_wire_datetime_is_written_by_orjson_as_isoformat_writes_it(
    moment: datetime.datetime,
) -> None:
    if not _aware(moment):
        with pytest.raises(NaiveDatetimeError):
            wire_datetime(moment)
        return
    wired = wire_datetime(moment)
    # Left as a datetime only where orjson writes it (a subclass would make orjson refuse it).
    assert wired is moment or wired == moment.isoformat()
    assert orjson.dumps(wired) == json.dumps(moment.isoformat()).encode()


@given(event=events(moments().filter(_aware)))
def test_a_create_body_is_sent_as_before(event: CreateUsageEventRequest) -> None:
    # An undocumented status: nothing to parse, the request is what is looked at.
    api = FakeApi.json(418, {})
    with api.client() as client:
        create_usage_event.sync_detailed(client=client, body=event)

    assert api.requests[0].content == encode_json(event.to_dict())


@given(
    batch=st.builds(
        BatchCreateUsageEventsRequest,
        events=st.lists(events(moments().filter(_aware)), min_size=1, max_size=4),
    )
)
def test_a_batch_body_is_sent_as_before(batch: BatchCreateUsageEventsRequest) -> None:
    # An undocumented status: nothing to parse, the request is what is looked at.
    api = FakeApi.json(418, {})
    with api.client() as client:
        batch_create_usage_events.sync_detailed(client=client, body=batch)

    assert api.requests[0].content == encode_json(batch.to_dict())


def test_to_dict_still_gives_strings() -> None:
    moment = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC)
    event = CreateUsageEventRequest("key", "cus_1", "org_1", moment, [])

    assert event.to_dict()["timestamp"] == "2024-01-15T10:30:00+00:00"
    assert event.to_wire_dict()["timestamp"] is moment


@pytest.mark.parametrize("tzinfo", [None, NoOffset()])
def test_a_naive_datetime_is_refused_in_a_wire_body(tzinfo: datetime.tzinfo | None) -> None:
    naive = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=tzinfo)
    event = CreateUsageEventRequest("key", "cus_1", "org_1", naive, [])

    with pytest.raises(NaiveDatetimeError):
        BatchCreateUsageEventsRequest(events=[event]).to_wire_dict()


def test_the_strict_encoding_writes_datetimes_and_refuses_other_objects() -> None:
    moment = datetime.datetime(2024, 1, 15, 10, 30, 0, 5, tzinfo=datetime.UTC)

    # The null sends it to json.dumps, which is given the datetime.
    assert (
        encode_json({"at": moment, "none": None})
        == b'{"at":"2024-01-15T10:30:00.000005+00:00","none":null}'
    )
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        encode_json({"at": moment, "none": None, "other": object()})
