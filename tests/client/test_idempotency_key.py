"""derive_idempotency_key: stable, canonical, and sensitive to everything that is billed."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from paygentic_client import derive_idempotency_key
from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Metadata,
)


def document(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "idempotencyKey": "ignored",
        "customerId": "cus_abc123xyz",
        "merchantId": "org_abc123xyz",
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_gpu_hours", "quantity": 3, "price": "0.125"}],
        "metadata": {"model": "opus", "region": "eu"},
    }
    return {**base, **changes}


# Pinned: a change of this value changes the key of every event ever imported without a key,
# so the events of a re-run would be billed again.
PINNED = "pgk_9a6444f9bd6646d92a7a98d6647d4e9394e80750e92632bee7c4fc91195600fd"


def test_the_key_is_pinned_across_versions() -> None:
    assert derive_idempotency_key(document()) == PINNED


# Pinned too: text outside ASCII is hashed as UTF-8, not as \u escapes.
PINNED_UNICODE = "pgk_b2dd8baa9c859504c0f33c4b437cba47ade42be5cb8e574e2fd9443ef81d5752"


def test_the_key_of_non_ascii_content_is_pinned() -> None:
    unicode_metadata = {"model": "opus", "region": "zürich-東京"}
    assert derive_idempotency_key(document(metadata=unicode_metadata)) == PINNED_UNICODE


@pytest.fixture
def far_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to UTC-5 (POSIX TZ), and restored afterwards."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_key_does_not_depend_on_the_local_time_zone(far_local_time_zone: None) -> None:
    assert time.timezone == 5 * 3600  # the zone did change
    assert derive_idempotency_key(document()) == PINNED
    assert derive_idempotency_key(document(timestamp="2024-01-15T05:30:00-05:00")) == PINNED


def test_same_content_in_other_forms_gives_the_same_key() -> None:
    key = derive_idempotency_key(document())
    model = CreateUsageEventRequest(
        idempotency_key="another",
        customer_id="cus_abc123xyz",
        merchant_id="org_abc123xyz",
        timestamp=datetime.datetime(
            2024, 1, 15, 11, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
        ),
        properties=[
            CreateUsageEventRequestProperty(
                billable_metric_id="bm_gpu_hours", quantity=3.0, price="0.125"
            )
        ],
        metadata=Metadata.from_dict({"region": "eu", "model": "opus"}),
    )
    assert derive_idempotency_key(model) == key
    assert derive_idempotency_key(document(timestamp="2024-01-15T10:30:00.000+00:00")) == key
    assert derive_idempotency_key(document(idempotencyKey="other")) == key


@pytest.mark.parametrize(
    "change",
    [
        {"customerId": "cus_other"},
        {"merchantId": "org_other"},
        {"entitlementId": "com_abc"},
        {"timestamp": "2024-01-15T10:30:00.000001Z"},
        {"properties": [{"billableMetricId": "bm_gpu_hours", "quantity": 3.5, "price": "0.125"}]},
        {"properties": [{"billableMetricId": "bm_other", "quantity": 3, "price": "0.125"}]},
        {"properties": [{"billableMetricId": "bm_gpu_hours", "quantity": 3}]},
        {"metadata": {"model": "opus"}},
    ],
)
def test_every_billed_field_changes_the_key(change: dict[str, object]) -> None:
    assert derive_idempotency_key(document(**change)) != derive_idempotency_key(document())


def test_the_key_is_the_same_in_another_process() -> None:
    code = (
        "from paygentic_client import derive_idempotency_key as d; import sys, json; "
        "print(d(json.loads(sys.argv[1])))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, json.dumps(document())],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    )
    assert other.stdout.strip() == derive_idempotency_key(document())


def test_a_timestamp_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="^the event's timestamp has no UTC offset; it is"):
        derive_idempotency_key(document(timestamp="2024-01-15T10:30:00"))
