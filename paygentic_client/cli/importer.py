"""Bulk import of a usage-event file through a UsageIngester, resumable and exactly once.

Every line ends up either delivered or in the rejects file (NDJSON, one
`{"line": N, "reason": "...", "idempotencyKey": "..."}` per rejected line: failed local
validation, not UTF-8, or rejected by the API; no file when nothing is rejected). The
checkpoint (checkpoint.py) records up to which line everything is settled; a re-run skips
those lines and sends the rest again under the same idempotency keys (derived from the
content for lines without one), so nothing is billed twice. A whole batch refused by the
API (a bad token, no permission) stops the import: those lines are neither delivered nor
rejected, and a re-run retries them. Ctrl-C saves the checkpoint and raises
ImportInterrupted with the counts.

The valid events of each batch_size lines read are submitted together (submit_many): a
line is settled only once its event is acknowledged, so a line read but not yet submitted
holds the checkpoint back like one in flight.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from ..client import AuthenticatedClient
from ..errors import EventRejectedError, ImportStopped
from ..ingest import EventHandle, UsageIngester
from ..models.create_usage_event_request import CreateUsageEventRequest
from .checkpoint import Checkpoint, Watermark
from .records import RecordError, open_source, read_csv, read_ndjson, to_event

Format = Literal["ndjson", "csv"]
CHECKPOINT_EVERY = 0.5  # seconds between checkpoint saves
INTERRUPT_GRACE = 5.0  # seconds for batches in flight after Ctrl-C


@dataclass(frozen=True)
class ImportOptions:
    source: Path
    format: Format
    checkpoint: Path
    rejects: Path
    restart: bool = False
    assume_utc: bool = False
    batch_size: int = 1000


@dataclass
class ImportSummary:
    records: int = 0  # data lines in the file
    already_done: int = 0  # settled by earlier runs (skipped)
    delivered: int = 0  # in this run
    rejected: int = 0  # in this run
    unconfirmed: int = 0  # submitted, not acknowledged when the run ended (interrupted)
    checkpoint_line: int = 0  # every line up to it is settled
    seconds: float = 0.0


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C during an import, after the checkpoint was saved; `summary` says how far it
    got. A KeyboardInterrupt still, so code that catches that keeps working."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__()
        self.summary = summary


def format_of(path: Path) -> Format:
    return "csv" if path.suffix.lower() == ".csv" else "ndjson"


def count_records(options: ImportOptions, upto_line: int) -> tuple[int, int]:
    """(data lines in the file, how many of them are at or before upto_line)."""
    total = done = 0
    with open_source(options.source) as stream:
        if options.format == "csv":
            reader = csv.reader(stream)
            next(reader, None)
            for _ in reader:
                total += 1
                done += reader.line_num <= upto_line
        else:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    total += 1
                    done += number <= upto_line
    return total, done


class _Run:
    """One run of an import: reads, submits, settles lines, keeps checkpoint and rejects."""

    def __init__(
        self,
        client: AuthenticatedClient,
        options: ImportOptions,
        advance: Callable[[int], None],
    ) -> None:
        self.options = options
        self.advance = advance
        self.checkpoint = (
            Checkpoint(file=str(options.source.resolve()))
            if options.restart
            else Checkpoint.load(options.checkpoint, options.source)
        )
        self.watermark = Watermark(self.checkpoint.line)
        self.summary = ImportSummary()
        # Read and valid, not submitted yet: up to a batch (batch_size) of them at a time.
        self.unsubmitted: list[tuple[int, CreateUsageEventRequest]] = []
        self.in_flight: collections.deque[tuple[int, str, EventHandle]] = collections.deque()
        self.rejects = _Rejects(options.rejects, keep_through=self.checkpoint.line)
        self.ingester = UsageIngester(
            client, max_batch_size=options.batch_size, flush_interval=0.5, max_queue=20_000
        )
        self.saved_at = time.monotonic()

    def run(self) -> None:
        reader = read_csv if self.options.format == "csv" else read_ndjson
        with open_source(self.options.source) as stream:
            for line, record in reader(stream):
                if line <= self.checkpoint.line:
                    continue
                self.read(line, record)
                if len(self.unsubmitted) >= self.options.batch_size:
                    self.submit()
                self.reap(block=False)
        self.submit()
        self.ingester.close()
        self.reap(block=True)

    def read(self, line: int, record: Any) -> None:
        """A line read: rejected at once if it is not a valid event, else its event waits
        for submit()."""
        self.watermark.opened(line)
        try:
            if isinstance(record, RecordError):
                raise record
            event = to_event(record, assume_utc=self.options.assume_utc)
        except RecordError as error:
            self.reject(
                line, str(error), record.get("idempotencyKey") if isinstance(record, dict) else None
            )
            return
        self.unsubmitted.append((line, event))

    def submit(self) -> None:
        """Submit the events read since the last call with one submit_many: a batch's worth
        takes the ingester's lock once, not once per event. They leave `unsubmitted` only
        once their handles are in `in_flight` (an interrupted run counts them unconfirmed
        either way)."""
        if not self.unsubmitted:
            return
        handles = self.ingester.submit_many(event for _, event in self.unsubmitted)
        pairs = zip(self.unsubmitted, handles, strict=True)
        self.in_flight.extend(
            (line, event.idempotency_key, handle) for (line, event), handle in pairs
        )
        self.unsubmitted = []

    def reap(self, *, block: bool) -> None:
        """Settle the lines whose events are resolved, oldest first."""
        while self.in_flight and (block or self.in_flight[0][2].done()):
            line, key, handle = self.in_flight[0]
            error = handle.exception()
            if error is not None and not isinstance(error, EventRejectedError):
                # Left in in_flight: the line is not settled (the summary counts it).
                raise ImportStopped(f"line {line}: {error}") from error
            self.in_flight.popleft()
            if isinstance(error, EventRejectedError):
                self.reject(line, f"rejected by the API: {error.reason}", key)
            else:
                self.summary.delivered += 1
                self.checkpoint.delivered += 1
                self.settle(line)
        if time.monotonic() - self.saved_at >= CHECKPOINT_EVERY:
            self.save()

    def reject(self, line: int, reason: str, key: Any) -> None:
        entry = {
            "line": line,
            "reason": reason,
            "idempotencyKey": key if isinstance(key, str) else None,
        }
        self.rejects.write(json.dumps(entry) + "\n")
        self.summary.rejected += 1
        self.checkpoint.rejected += 1
        self.settle(line)

    def settle(self, line: int) -> None:
        self.watermark.settled(line)
        self.advance(1)

    def save(self) -> None:
        # The rejects must be on disk before a checkpoint that counts them as settled.
        self.rejects.flush()
        self.checkpoint.line = self.watermark.line
        self.checkpoint.save(self.options.checkpoint)
        self.saved_at = time.monotonic()

    def stop(self) -> None:
        """After Ctrl-C or a stop: let batches in flight finish briefly, record what settled."""
        with _without_ingest_log():
            self.ingester.close(timeout=INTERRUPT_GRACE)
        with contextlib.suppress(ImportStopped):
            self.reap(block=False)
        self.save()
        self.rejects.close()
        self.summary.unconfirmed = len(self.in_flight) + len(self.unsubmitted)
        self.summary.checkpoint_line = self.checkpoint.line


def run_import(
    client: AuthenticatedClient,
    options: ImportOptions,
    *,
    start: Callable[[int, int], None] = lambda total, done: None,
    advance: Callable[[int], None] = lambda n: None,
) -> ImportSummary:
    """Import options.source; start(total, already_done) is called once before, advance(n)
    as lines settle (for a progress bar). Raises ImportStopped, KeyboardInterrupt (after
    saving the checkpoint) as ImportInterrupted, RecordError for an unusable CSV header,
    CheckpointError, OSError for a file that cannot be read."""
    started = time.monotonic()
    run = _Run(client, options, advance)
    interrupted = False
    try:
        run.summary.records, run.summary.already_done = count_records(options, run.checkpoint.line)
        start(run.summary.records, run.summary.already_done)
        run.run()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        run.stop()
        run.summary.seconds = time.monotonic() - started
    if interrupted:
        raise ImportInterrupted(run.summary)
    return run.summary


@contextlib.contextmanager
def _without_ingest_log() -> Iterator[None]:
    """Silence the ingester's log while it closes: given up on, it logs the idempotency key
    of every event still in flight (hundreds of KB after Ctrl-C). The import needs no such
    list: those lines are after the checkpoint, a re-run sends them again, and the summary
    counts them."""
    ingest_logger = logging.getLogger("paygentic_client.ingest")

    def drop(record: logging.LogRecord) -> bool:
        return False

    ingest_logger.addFilter(drop)
    try:
        yield
    finally:
        ingest_logger.removeFilter(drop)


class _Rejects:
    """The rejects file, keeping the entries of lines a resumed run will skip. It exists
    only when it has an entry: a file from an earlier run with none left is removed, and a
    run that rejects nothing leaves none."""

    def __init__(self, path: Path, keep_through: int) -> None:
        self.path = path
        kept = _kept_entries(path, keep_through)
        self._stream: IO[str] | None = None
        if kept:
            self.write("".join(kept))
        else:
            path.unlink(missing_ok=True)

    def write(self, text: str) -> None:
        if self._stream is None:
            self._stream = self.path.open("w", encoding="utf-8")
        self._stream.write(text)

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def _kept_entries(path: Path, keep_through: int) -> list[str]:
    kept: list[str] = []
    if keep_through > 0 and path.exists():
        for entry in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(entry)["line"] <= keep_through:
                    kept.append(entry + "\n")
            except (ValueError, KeyError, TypeError):
                continue
    return kept
