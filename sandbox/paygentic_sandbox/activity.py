"""What each merchant's requests did that the stored events do not show: batch results with
their failed entries, and idempotency replays (an event sent again with a key already
used), marked as conflicts when the repeat differs from the stored event. The dashboard's
Activity page shows them.

Kept in memory, per merchant, the most recent ones only: a record of what happened, not
data anyone must keep. Recording costs a batch one pass over its results.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paygentic_sandbox import timestamps
from paygentic_sandbox.store import NewEvent, Stored

# Per merchant: this many batches and replays each, and this many failed entries per batch.
KEEP = 200
FAILED_ENTRIES_KEPT = 100

# Fields a server sets (or derives from the request's properties): a repeat that differs
# from the stored event only there is the same event.
_SERVER_FIELDS = frozenset(
    {"id", "object", "createdAt", "billing", "refund", "dispute", "consumerId", "subscriptionId"}
)


@dataclass(frozen=True)
class FailedEntry:
    index: int
    idempotency_key: str
    error: str


@dataclass(frozen=True)
class BatchRecord:
    at_us: int
    total: int
    successful: int
    replayed: int
    failed: tuple[FailedEntry, ...]
    failed_count: int


@dataclass(frozen=True)
class ReplayRecord:
    at_us: int
    operation: str  # "create" or "batch"
    idempotency_key: str
    event_id: str
    # The request's fields that differ from the stored event's: a conflict when not empty
    # (the stored event stands, the repeat's differing values were not stored).
    differences: tuple[str, ...]

    @property
    def conflict(self) -> bool:
        return bool(self.differences)


class ActivityLog:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._batches: dict[str, deque[BatchRecord]] = {}
        self._replays: dict[str, deque[ReplayRecord]] = {}

    def created(self, merchant_id: str, new: NewEvent, stored: Stored) -> None:
        if stored.replayed:
            self._replay(merchant_id, "create", new, stored)

    def batch(
        self,
        merchant_id: str,
        accepted: Sequence[NewEvent],
        stored: Sequence[Stored],
        failed: Sequence[dict[str, Any]],
        total: int,
    ) -> None:
        """`stored[i]` is what `accepted[i]` became; `failed` the batch's failed entries."""
        replayed = 0
        for new, result in zip(accepted, stored, strict=True):
            if result.replayed:
                replayed += 1
                self._replay(merchant_id, "batch", new, result)
        record = BatchRecord(
            at_us=timestamps.now_micros(),
            total=total,
            successful=len(stored),
            replayed=replayed,
            failed=tuple(
                FailedEntry(item["index"], item["idempotencyKey"], item["error"])
                for item in failed[:FAILED_ENTRIES_KEPT]
            ),
            failed_count=len(failed),
        )
        self._batches.setdefault(merchant_id, deque(maxlen=self._keep)).append(record)

    def _replay(self, merchant_id: str, operation: str, new: NewEvent, stored: Stored) -> None:
        sent, kept = json.loads(new.document), json.loads(stored.document)
        differences = tuple(
            sorted(
                name
                for name in (sent.keys() | kept.keys()) - _SERVER_FIELDS
                if sent.get(name) != kept.get(name)
            )
        )
        record = ReplayRecord(
            timestamps.now_micros(), operation, new.idempotency_key, kept["id"], differences
        )
        self._replays.setdefault(merchant_id, deque(maxlen=self._keep)).append(record)

    def batches(self, merchant_id: str) -> list[BatchRecord]:
        """Newest first."""
        return list(reversed(self._batches.get(merchant_id, ())))

    def replays(self, merchant_id: str) -> list[ReplayRecord]:
        """Newest first."""
        return list(reversed(self._replays.get(merchant_id, ())))
