"""What each merchant's requests did that the stored events do not show: batch results with
their failed entries, and idempotency replays (an event sent again with a key already
used), marked as conflicts when the repeat differs from the stored event. The dashboard's
Activity page shows them.

Kept in memory, per merchant, the most recent ones only: a record of what happened, not
data anyone must keep. Recording costs a batch one pass over its results; whether a replay is
a conflict is worked out only when a page shows it (a resent batch of 1000 replays would
otherwise pay ~50 ms to compare documents nobody may look at).
"""

from __future__ import annotations

import functools
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
    sent: str  # the repeat, as it would have been stored (JSON)
    stored: str  # the event stored the first time (JSON)

    @functools.cached_property
    def event_id(self) -> str:
        event_id: str = json.loads(self.stored)["id"]
        return event_id

    @functools.cached_property
    def differences(self) -> tuple[str, ...]:
        """The request's fields that differ from the stored event's: a conflict when there
        are any (the stored event stands; the repeat's differing values were not stored)."""
        sent, kept = json.loads(self.sent), json.loads(self.stored)
        names = (sent.keys() | kept.keys()) - _SERVER_FIELDS
        return tuple(sorted(name for name in names if sent.get(name) != kept.get(name)))

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
            record = ReplayRecord(
                timestamps.now_micros(),
                "create",
                new.idempotency_key,
                new.document,
                stored.document,
            )
            self._replays_of(merchant_id).append(record)

    def batch(
        self,
        merchant_id: str,
        accepted: Sequence[NewEvent],
        stored: Sequence[Stored],
        failed: Sequence[dict[str, Any]],
        total: int,
    ) -> None:
        """`stored[i]` is what `accepted[i]` became; `failed` the batch's failed entries."""
        pairs = zip(accepted, stored, strict=True)
        replays = [(new, result) for new, result in pairs if result.replayed]
        # Only the last `keep` can stay in the log.
        at_us = timestamps.now_micros()
        self._replays_of(merchant_id).extend(
            ReplayRecord(at_us, "batch", new.idempotency_key, new.document, result.document)
            for new, result in replays[-self._keep :]
        )
        record = BatchRecord(
            at_us=at_us,
            total=total,
            successful=len(stored),
            replayed=len(replays),
            failed=tuple(
                FailedEntry(item["index"], item["idempotencyKey"], item["error"])
                for item in failed[:FAILED_ENTRIES_KEPT]
            ),
            failed_count=len(failed),
        )
        self._batches.setdefault(merchant_id, deque(maxlen=self._keep)).append(record)

    def _replays_of(self, merchant_id: str) -> deque[ReplayRecord]:
        return self._replays.setdefault(merchant_id, deque(maxlen=self._keep))

    def batches(self, merchant_id: str) -> list[BatchRecord]:
        """Newest first."""
        return list(reversed(self._batches.get(merchant_id, ())))

    def replays(self, merchant_id: str) -> list[ReplayRecord]:
        """Newest first."""
        return list(reversed(self._replays.get(merchant_id, ())))
