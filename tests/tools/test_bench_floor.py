"""scripts/bench_floor.py builds the same models as the client's parse: a floor that built less
(a field the models gained, say) would flatter every ratio measured against it."""

from __future__ import annotations

import pytest
from support.scripts_modules import load

from paygentic_client._runtime.jsonbody import decode_json
from paygentic_client.models import BatchUsageEventResponse

bench = load("bench")
bench_floor = load("bench_floor")


@pytest.mark.parametrize(
    ("nulls", "dispute"), [(True, False), (False, False), (False, True)], ids=str
)
def test_the_floor_builds_what_the_client_parses(nulls: bool, dispute: bool) -> None:
    raw = bench.batch_response_raw(nulls=nulls, dispute=dispute)
    parsed = BatchUsageEventResponse.from_dict(decode_json(raw)).successful
    floor = bench_floor.batch_usage_events(raw)
    assert len(floor) == len(parsed) > 0
    assert floor == parsed
