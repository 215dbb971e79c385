"""Matching a batch answer to the events sent (ingest/core.py: parse_batch_answer and
match_outcomes): every event gets exactly its own outcome, none is taken for delivered
without the API saying so. Sans-I/O: the functions are called directly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paygentic_client.errors import EventRejectedError
from paygentic_client.ingest.core import (
    Batch,
    BatchAnswer,
    match_outcomes,
    parse_batch_answer,
)
from paygentic_client.models import BatchUsageEventFailure


def sent(*keys: str) -> Batch[None]:
    return Batch.of((key, b"{}", None, None) for key in keys)


def created(key: str | None, event_id: str) -> dict[str, Any]:
    event: dict[str, Any] = {"id": event_id}
    if key is not None:
        event["idempotencyKey"] = key
    return event


def failure(index: int, error: str) -> BatchUsageEventFailure:
    return BatchUsageEventFailure.from_dict({"index": index, "error": error})


def answer(successful: list[dict[str, Any]], failed: list[BatchUsageEventFailure]) -> BatchAnswer:
    return BatchAnswer(successful, failed)


def rejected(outcome: object) -> EventRejectedError:
    assert isinstance(outcome, EventRejectedError), outcome
    return outcome


def test_created_events_are_matched_by_key_whatever_their_order() -> None:
    batch = sent("k0", "k1", "k2")
    outcomes = match_outcomes(
        answer([created("k2", "e2"), created("k0", "e0"), created("k1", "e1")], []), batch
    )
    assert outcomes == [created("k0", "e0"), created("k1", "e1"), created("k2", "e2")]


def test_failures_are_matched_by_index_with_their_reason_and_key() -> None:
    batch = sent("k0", "k1", "k2")
    outcomes = match_outcomes(
        answer([created("k1", "e1")], [failure(2, "bad price"), failure(0, "no customer")]), batch
    )
    first, second, third = outcomes
    assert (rejected(first).reason, rejected(first).index) == ("no customer", 0)
    assert rejected(first).idempotency_key == "k0"
    assert second == created("k1", "e1")
    assert (rejected(third).reason, rejected(third).index) == ("bad price", 2)
    assert rejected(third).idempotency_key == "k2"


def test_a_failure_wins_over_a_created_event_of_the_same_key() -> None:
    """An index the API lists as failed is never reported delivered."""
    outcomes = match_outcomes(answer([created("k0", "e0")], [failure(0, "refused")]), sent("k0"))
    assert rejected(outcomes[0]).reason == "refused"


def test_an_event_the_answer_leaves_out_is_not_delivered() -> None:
    outcomes = match_outcomes(answer([created("k0", "e0")], []), sent("k0", "k1"))
    assert outcomes[0] == created("k0", "e0")
    missing = rejected(outcomes[1])
    assert (missing.index, missing.idempotency_key) == (1, "k1")
    assert missing.reason == "the API acknowledged the batch without this event"


def test_the_same_key_twice_in_a_batch_is_one_event_for_both() -> None:
    outcomes = match_outcomes(answer([created("k0", "e0")], []), sent("k0", "k0"))
    assert outcomes == [created("k0", "e0"), created("k0", "e0")]


def test_without_keys_in_the_answer_events_match_in_order_skipping_failures() -> None:
    batch = sent("k0", "k1", "k2", "k3")
    outcomes = match_outcomes(
        answer([created(None, "e0"), created(None, "e2")], [failure(1, "refused")]), batch
    )
    assert outcomes[0] == created(None, "e0")
    assert rejected(outcomes[1]).reason == "refused"
    assert outcomes[2] == created(None, "e2")
    assert rejected(outcomes[3]).reason == "the API acknowledged the batch without this event"


def test_one_event_without_a_key_makes_the_whole_answer_match_in_order() -> None:
    """Keys are trusted only when every created event carries one."""
    batch = sent("k0", "k1")
    outcomes = match_outcomes(answer([created("k1", "e1"), created(None, "e0")], []), batch)
    assert outcomes == [created("k1", "e1"), created(None, "e0")]


def test_an_empty_answer_delivers_nothing() -> None:
    outcomes = match_outcomes(answer([], []), sent("k0"))
    assert rejected(outcomes[0]).index == 0


def body(**fields: Any) -> bytes:
    document = {"object": "batchUsageEvents", "successful": [], "failed": [], **fields}
    return json.dumps(document).encode()


def test_a_batch_answer_is_read() -> None:
    parsed = parse_batch_answer(
        body(
            successful=[created("k0", "e0")],
            failed=[{"index": 1, "error": "bad", "idempotencyKey": "k1"}],
        )
    )
    assert parsed is not None
    assert parsed.successful == [created("k0", "e0")]
    assert [(f.index, f.error, f.idempotency_key) for f in parsed.failed] == [(1, "bad", "k1")]


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'"batchUsageEvents"',
        body(object="usageEvent"),
        json.dumps({"successful": [], "failed": []}).encode(),
        json.dumps({"object": "batchUsageEvents", "failed": []}).encode(),
        json.dumps({"object": "batchUsageEvents", "successful": []}).encode(),
        body(successful=[created("k0", "e0"), "e1"]),
        body(successful=None),
        body(failed=[{"index": 0}]),
        body(failed=[{"error": "bad"}]),
        body(failed=None),
    ],
)
def test_what_is_not_a_batch_answer_is_none(content: bytes) -> None:
    assert parse_batch_answer(content) is None
