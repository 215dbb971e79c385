"""`paygentic-usage spool status|drain|rejected PATH`: operating an ingester's spool.

status: pending, claimed (being sent by a live process), rejected, and the age of the oldest
pending event. rejected: the rejected events with the API's reasons, one JSON object a line.
drain: deliver every pending event (with a progress bar), then exit 0; non-zero with the
reason when events were rejected or the API took nothing for --patience seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

from ..client import AuthenticatedClient
from ..errors import SpoolError
from ..ingest.core import DEFAULT_MAX_BATCH_BYTES, MAX_BATCH_SIZE, CreatedJson
from ..ingest.spool import Spool, SpoolStatus
from ..ingest.spooled import SpoolSender


def status(path: Path, out: TextIO) -> int:
    with _open(path) as spool:
        figures = spool.status()
    age = "-" if figures.oldest_age is None else f"{figures.oldest_age:.1f} s"
    print(f"pending: {figures.pending}", file=out)
    print(f"claimed: {figures.claimed}", file=out)
    print(f"rejected: {figures.rejected}", file=out)
    print(f"oldest pending: {age}", file=out)
    return 0


def rejected(path: Path, out: TextIO) -> int:
    with _open(path) as spool:
        for event in spool.rejected():
            line = {
                "idempotencyKey": event.key,
                "reason": event.reason,
                "submittedAt": _iso(event.submitted_at),
                "rejectedAt": _iso(event.rejected_at),
                "event": orjson.loads(event.payload),
            }
            out.write(json.dumps(line) + "\n")
    return 0


@dataclass
class DrainResult:
    delivered: int
    rejected: int
    left: int
    cause: str | None


def drain(
    client: AuthenticatedClient,
    path: Path,
    *,
    patience: float,
    start: Callable[[int], None],
    advance: Callable[[int], None],
    poll: float = 0.1,
) -> DrainResult:
    """Deliver what the spool holds; stops when it is empty or nothing moved for patience
    seconds. Events claimed by a live process are left to it (they move when it settles
    them, or when its lease runs out)."""
    sender = SpoolSender(
        client,
        path,
        durability="process-crash",
        lease=30.0,
        max_batch_size=MAX_BATCH_SIZE,
        max_batch_bytes=DEFAULT_MAX_BATCH_BYTES,
        flush_interval=poll,
        max_in_flight=2,
        new_handle=object,  # it submits nothing: no handles
        set_outcome=_no_handle,
        adopt=True,
    )
    before = sender.spool.status()
    start(before.pending)
    last = before
    moved_at = time.monotonic()
    try:
        while last.pending and time.monotonic() - moved_at < patience:
            time.sleep(poll)
            now = sender.spool.status()
            if now.pending < last.pending:
                advance(last.pending - now.pending)
                moved_at = time.monotonic()
            last = now
    finally:
        sender.close(time.monotonic())
    return _result(before, last, sender.failures.last_reason)


def _result(before: SpoolStatus, after: SpoolStatus, cause: str | None) -> DrainResult:
    rejected = after.rejected - before.rejected
    delivered = before.pending - after.pending - rejected
    return DrainResult(max(0, delivered), rejected, after.pending, cause)


def _no_handle(handle: Any, outcome: CreatedJson | Exception) -> int:
    return 0


def _open(path: Path) -> Spool:
    if not path.is_file():
        raise SpoolError(f"{path}: no such spool")
    return Spool(path, read_only=True)


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def drain_message(result: DrainResult, path: Path) -> tuple[int, str]:
    """The exit status and the summary line of a drain."""
    done = f"{result.delivered} events delivered"
    if result.left:
        cause = result.cause or "events are claimed by another live process"
        return 1, f"{done}; {result.left} still pending: nothing moved ({cause})"
    if result.rejected:
        see = f"paygentic-usage spool rejected {path}"
        return 1, f"{done}; {result.rejected} rejected by the API (see `{see}`)"
    return 0, f"{done}; the spool is empty"
