"""`paygentic-usage spool status|drain|rejected|requeue PATH`: operating an ingester's spool.

status: pending, claimed (being sent by a live process), rejected (and by reason), the age of
the oldest pending event, the live processes using the spool, the file's size, and what to
free when its disk is full; --json for scripts and monitors. rejected: the rejected events
with the API's reasons and when, one JSON object a line. requeue: move rejected events back to
pending (--all, --key KEY..., --reason-contains TEXT) and say how many. drain: deliver every
pending event (with a progress bar), then exit 0; non-zero with the reason when events were
rejected, the disk is full, or the API took nothing for --patience seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import orjson

from ..client import AuthenticatedClient
from ..errors import SpoolError
from ..ingest.spool import Spool, SpoolReport, SpoolStatus
from ..ingest.spool_disk import disk_of, human_bytes
from ..ingest.threaded import UsageIngester


def status(path: Path, out: TextIO, *, as_json: bool = False) -> int:
    with _open(path) as spool:
        report = spool.report()
    if as_json:
        out.write(json.dumps(status_json(path, report)) + "\n")
        return 0
    figures = report.status
    age = "-" if figures.oldest_age is None else f"{figures.oldest_age:.1f} s"
    print(f"pending: {figures.pending}", file=out)
    print(f"claimed: {figures.claimed}", file=out)
    if figures.journaled:  # of the pending: theirs to send
        print(f"in live processes' journals: {figures.journaled}", file=out)
    print(f"rejected: {figures.rejected}", file=out)
    print(f"oldest pending: {age}", file=out)
    print(f"live submitters: {report.live_submitters}", file=out)
    print(f"file size: {human_bytes(report.file_bytes)}", file=out)
    for reason, count in report.rejected_by_reason.items():
        print(f"rejected {count}: {reason}", file=out)
    if report.what_to_free:
        print(f"disk full: {report.what_to_free}", file=out)
    return 0


def status_json(path: Path, report: SpoolReport) -> dict[str, Any]:
    """The figures of `spool status --json` (documented in docs/ingestion/spool.md)."""
    figures = report.status
    return {
        "path": str(path),
        "pending": figures.pending,
        "claimed": figures.claimed,
        "journaled": figures.journaled,
        "rejected": figures.rejected,
        "rejectedByReason": report.rejected_by_reason,
        "oldestAgeSeconds": figures.oldest_age,
        "liveSubmitters": report.live_submitters,
        "fileBytes": report.file_bytes,
        "freeBytes": report.free_bytes,
        "diskFull": report.disk_full,
        "whatToFree": report.what_to_free,
    }


def requeue(
    path: Path,
    out: TextIO,
    *,
    everything: bool = False,
    keys: Sequence[str] = (),
    reason_contains: str | None = None,
) -> int:
    """Move the chosen rejected events back to pending (one of the three choices)."""
    if not path.is_file():
        raise SpoolError(f"{path}: no such spool")
    with Spool(path) as spool:
        if everything:
            moved = spool.requeue_all()
        elif keys:
            moved = spool.requeue_keys(keys)
        else:
            assert reason_contains is not None
            moved = spool.requeue_reason_contains(reason_contains)
    if not moved:
        print("no rejected event matched: nothing moved", file=out)
        return 0
    print(
        f"{moved} events moved back to pending; an ingester using the spool delivers them, "
        f"or run `paygentic-usage spool drain {path}`",
        file=out,
    )
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
    journaled: int = 0  # left with live processes, in their journals: theirs to send


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
    spool = Spool(path, adopt=True)  # other processes' events at once: it has none of its own
    ingester = UsageIngester(client, spool=spool, flush_interval=poll, max_in_flight=2)
    before = spool.status()
    start(before.pending)
    last = before
    moved_at = time.monotonic()
    try:
        # A live process's journaled events are its own to send: not the drain's to wait for.
        while last.pending > last.journaled and time.monotonic() - moved_at < patience:
            time.sleep(poll)
            now = spool.status()
            if now.pending < last.pending:
                advance(last.pending - now.pending)
                moved_at = time.monotonic()
            last = now
        cause = ingester.stats().stall_cause
    finally:
        ingester.close(timeout=0)
    return _result(before, last, _stuck_because(path, last, cause))


def _stuck_because(path: Path, last: SpoolStatus, stall_cause: str | None) -> str | None:
    """Why nothing moved: a full disk (a claim writes: what to free), else the last failure
    the delivery met (an answer of the API, the spool's own error), else claims that live
    processes hold."""
    if last.pending <= last.journaled:
        return None
    disk = disk_of(path)
    if disk.full:
        return f"the disk is full: {disk.what_to_free(path)}"
    if stall_cause:
        return stall_cause
    if last.claimed:
        return f"{last.claimed} events are claimed by another live process"
    return None


def _result(before: SpoolStatus, after: SpoolStatus, cause: str | None) -> DrainResult:
    rejected = after.rejected - before.rejected
    # Counted from what the drain could deliver: a live process's journaled events are not.
    delivered = (before.pending - before.journaled) - (after.pending - after.journaled) - rejected
    left = after.pending - after.journaled
    return DrainResult(max(0, delivered), rejected, left, cause, after.journaled)


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
    if result.journaled:
        return 0, f"{done}; {result.journaled} more are with live processes, which send them"
    return 0, f"{done}; the spool is empty"
