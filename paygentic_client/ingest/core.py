"""The pure helpers of delivery: encoding events once, batch bodies, what the batch
endpoint's answer (or an exception) means for a batch, the rate-limited failure log,
statistics and settings.

Nothing here blocks, waits or keeps delivery state: engine.py owns the state and the
decisions, and the drivers (threaded.py, aio.py) do the waiting.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar, cast

import httpx

from .._runtime.jsonbody import JSON_CONTENT_TYPE, decode_json, encode_json
from .._runtime.redact import secrets_of
from .._runtime.replay import SentFields, conflict_with_json, sent_fields
from .._runtime.responses import BODY_PARSE_ERRORS, error_from_response

# The generated operation module: for a refused batch, its parser and documented statuses turn
# the response into the ApiError exactly as batch_create_usage_events.sync would.
from .._runtime.retries import RETRY_EXCEPTIONS, is_retryable_status
from ..api.usage_events import batch_create_usage_events
from ..errors import ApiConnectionError, ApiError, EventRejectedError, IdempotencyConflictError
from ..models.batch_usage_event_failure import BatchUsageEventFailure
from ..models.create_usage_event_request import CreateUsageEventRequest
from ..models.usage_event import UsageEvent

BATCH_PATH = "/v0/usage/batch"
MAX_BATCH_SIZE = 1000  # the API's limit on events per batch
# Well under the API's body limit (the sandbox's is 10 MiB; gateways commonly cut at 6 MiB).
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024
# After a close deadline, how long requests already on the wire may take to be answered.
GIVE_UP_GRACE = 2.0
_ENVELOPE_BYTES = len(b'{"events":[]}')
# How long close() (and leaving a `with` block) waits for delivery unless told otherwise: an
# unreachable API must not hang a program's exit forever, silently.
DEFAULT_CLOSE_TIMEOUT: Final = 30.0
# While senders have work, submit() gives them a turn once per this many events; a producer
# that submits in a loop gives none otherwise:
# - asyncio: it never suspends, and the senders' requests (several loop turns each: write,
#   read the headers, the body) would wait until it stops. Once per batch was too rare (a
#   send took 0.5 s of a 30,000-event run instead of ~20 ms; scripts/bench-ingest).
# - threads: a sender waits for the GIL after each socket call, up to the interpreter's switch
#   interval (5 ms) while the producer holds it, and a 1000-event answer is read in ~9 calls:
#   the API got half the batches per second while a producer ran. time.sleep(0) lets a waiting
#   thread take the GIL.
# A turn costs a few µs when no one waits: ~0.1 µs per event.
YIELD_EVERY = 32

H = TypeVar("H")


@dataclass(frozen=True)
class IngestStats:
    """Counters of an ingester since it was created (in a forked child: since the fork).

    submitted: events accepted by submit(); delivered: acknowledged as created (or already
    existing); failed: resolved with an error (rejected, or abandoned at close);
    retried_batches: batch sends that failed as a whole and were retried;
    in_queue: events submitted and not yet resolved (waiting for a batch or in flight);
    recovered: with a spool, events an earlier (or another) process left there that this
    one got the API's answer for (they have no handles, so they are in no other count).
    stalled_for: while delivery fails (no answer, an answer not about the events such as a
    401 or a 503, or a spool that cannot be written), the seconds since it last worked;
    None while it works. stall_cause: why, in words (the last failure); None while it works.
    """

    submitted: int
    delivered: int
    failed: int
    retried_batches: int
    in_queue: int
    recovered: int = 0
    stalled_for: float | None = None
    stall_cause: str | None = None


@dataclass(slots=True)
class Counters:
    """The counts behind IngestStats. Not locked: the engine's driver holds its own lock (or
    its one event loop) around every call into the engine."""

    submitted: int = 0
    delivered: int = 0
    failed: int = 0
    retried_batches: int = 0
    recovered: int = 0

    def snapshot(
        self, stalled_for: float | None = None, stall_cause: str | None = None
    ) -> IngestStats:
        return IngestStats(
            submitted=self.submitted,
            delivered=self.delivered,
            failed=self.failed,
            retried_batches=self.retried_batches,
            in_queue=self.submitted - self.delivered - self.failed,
            recovered=self.recovered,
            stalled_for=stalled_for,
            stall_cause=stall_cause,
        )


class Batch(Generic[H]):
    """The events of one batch, as parallel lists: their keys, their JSON (serialised once, at
    submit), what each bills (to catch an answer stored for another request under its key;
    None where the request is not in memory) and their rows (what the store that claimed
    them knows them by).

    Lists per batch rather than an object per event: each queued event is then one object the
    garbage collector tracks (its handle), not two. A queue of many thousands of events is
    walked by every collection that runs while it waits (scripts/bench-ingest).
    """

    __slots__ = ("identities", "keys", "nbytes", "payloads", "rows")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.payloads: list[bytes] = []
        self.identities: list[SentFields | None] = []
        self.rows: list[H] = []
        self.nbytes = 0  # of the payloads

    @classmethod
    def of(cls, events: Iterable[tuple[str, bytes, H, SentFields | None]]) -> Batch[H]:
        """A batch of (key, payload, row, identity) tuples."""
        batch: Batch[H] = cls()
        for key, payload, row, identity in events:
            batch.add(key, payload, row, identity)
        return batch

    def add(self, key: str, payload: bytes, row: H, identity: SentFields | None) -> None:
        self.keys.append(key)
        self.payloads.append(payload)
        self.rows.append(row)
        self.identities.append(identity)
        self.nbytes += len(payload)

    def halves(self) -> tuple[Batch[H], Batch[H]]:
        """The first and the second half of the batch (for a batch the API found too large)."""
        middle = len(self.keys) // 2
        parts = list(zip(self.keys, self.payloads, self.rows, self.identities, strict=True))
        return Batch.of(parts[:middle]), Batch.of(parts[middle:])

    def __len__(self) -> int:
        return len(self.keys)


def encode_event(event: CreateUsageEventRequest) -> tuple[str, bytes]:
    """The event's idempotency key and its JSON bytes as they go into a batch body."""
    key, payload, _ = encode_billed(event)
    return key, payload


def encode_billed(event: CreateUsageEventRequest) -> tuple[str, bytes, SentFields]:
    """encode_event's key and bytes, and what the event bills (read from the same dict, so
    the replay check compares what was sent)."""
    if not isinstance(event, CreateUsageEventRequest):
        raise TypeError(f"expected a CreateUsageEventRequest, got {type(event).__name__}")
    if not event.idempotency_key:
        raise ValueError("the event has no idempotencyKey (see derive_idempotency_key)")
    # orjson (in encode_json): ~0.4 µs per event where json.dumps takes ~9 µs (a quarter of
    # the ingester's CPU per event before it; scripts/bench-ingest). A NaN quantity raises
    # ValueError here, in submit(), rather than going out as null. The wire dict leaves the
    # timestamp for orjson to write, and sent_fields keeps it as a datetime.
    body = event.to_wire_dict()
    return event.idempotency_key, encode_json(body), sent_fields(body)


def batch_body(batch: Batch[Any]) -> bytes:
    """The JSON body of a batch create, joined from the events' ready-made JSON."""
    return b'{"events":[' + b",".join(batch.payloads) + b"]}"


def claim_budget(max_batch_bytes: int) -> int:
    """What a store may claim for a body of at most max_batch_bytes: the events' bytes plus
    one per event (the commas, and one the envelope's brackets leave spare)."""
    return max_batch_bytes - _ENVELOPE_BYTES + 1


class Default(enum.Enum):
    """The type of DEFAULT: close() without a timeout uses the ingester's close_timeout."""

    DEFAULT = "the ingester's close_timeout"


DEFAULT: Final = Default.DEFAULT


def fits(count: int, nbytes: int, extra: int, *, max_size: int, max_bytes: int) -> bool:
    """Whether one more event of `extra` bytes fits in a batch of `count` events, `nbytes`."""
    return count < max_size and _ENVELOPE_BYTES + nbytes + count + extra <= max_bytes


@dataclass(frozen=True)
class Retry:
    """The batch got no answer about its events: send the same body again later.

    retry_after: the response's Retry-After header, if it had one (RetryPolicy reads it).
    error: what went wrong (it becomes IngesterClosedError's cause); a RuntimeError with the
    reason when there is nothing better.
    unexpected: not the network nor the API but something that should not happen (a bug, a
    broken transport): logged at ERROR, and still retried (the events are kept).
    status: the HTTP status of the answer, if there was one (the metrics' `error.type`).
    """

    reason: str
    retry_after: str | None = None
    error: Exception | None = None
    unexpected: bool = False
    status: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FailAll:
    """The API refused the batch for what is in it (a whole-batch 400 or 422): every event
    fails with error."""

    error: Exception


@dataclass(frozen=True)
class Split:
    """The API found the batch too large (413): send its halves, or, for a single event,
    reject it with error's text."""

    error: Exception


# A created event as the API sent it (its JSON, decoded): the ingesters' handles build the
# UsageEvent from it only when asked (see EventHandle, AsyncEventFuture).
CreatedJson = dict[str, Any]


class UnbuiltUsageEvent:
    """What a handle holds as its Future result until its first result() builds the
    UsageEvent (only a Future's repr shows it)."""

    def __repr__(self) -> str:
        return "<UsageEvent, built on the first result()>"


NOT_BUILT: Final = cast(UsageEvent, UnbuiltUsageEvent())


class AnswerBody:
    """A batch answer's bytes, which the handles of its events keep in place of the created
    events' JSON: one untracked bytes object per batch instead of ~4 objects per event that
    the garbage collector tracks (dicts, lists). Those drove its full passes over the whole
    heap: -4 to -6 µs of client CPU per event in scripts/bench-ingest. A handle's first
    result() decodes the body again, once for the batch (decode_json: the same values)."""

    __slots__ = ("_content", "_decoded", "_lock")

    def __init__(self, content: bytes, successful: list[CreatedJson]) -> None:
        self._content = content
        self._decoded: list[CreatedJson] | None = successful
        self._lock = threading.Lock()

    def positions(self, outcomes: list[CreatedJson | Exception]) -> list[int | Exception]:
        """Each created outcome as its position in the answer's `successful` list (errors as
        they are); forgets the decoded answer, so that its dicts can go."""
        assert self._decoded is not None
        at = {id(created): n for n, created in enumerate(self._decoded)}
        self._decoded = None
        return [o if isinstance(o, Exception) else at[id(o)] for o in outcomes]

    def created(self, position: int) -> CreatedJson:
        """The created event at `position` of `successful`, as its JSON."""
        with self._lock:
            if self._decoded is None:
                self._decoded = decode_json(self._content)["successful"]
            event: CreatedJson = self._decoded[position]
            return event


@dataclass(frozen=True)
class Resolved:
    """The batch was processed: one outcome per event, in the order of the batch.

    answer: the answer's body, for handles that keep it instead of their outcome's JSON.
    """

    outcomes: list[CreatedJson | Exception]
    answer: AnswerBody | None = field(default=None, compare=False)


Verdict = Retry | FailAll | Split | Resolved


# Whole-batch answers that are about the events: the body is malformed (400) or an event in
# it is invalid (422). Sending the same bytes again cannot change them.
REJECTING_STATUSES: Final = frozenset({400, 422})
TOO_LARGE: Final = 413


def verdict_of_response(response: httpx.Response, batch: Batch[Any], client: Any) -> Verdict:
    """What a response of the batch endpoint means for the batch that was sent.

    Only an answer about the events rejects them: a `failed` entry of a 207, or a whole-batch
    400 or 422. A 413 splits the batch. Every other status (3xx, 401, 403, 404, 409, 425,
    5xx, a status outside the contract) says nothing about the events (a rotated token, a
    proxy, a deploy): they are kept and sent again."""
    status = response.status_code
    if is_retryable_status(status):
        return Retry(f"HTTP {status}", response.headers.get("retry-after"), status=status)
    if status in (201, 207):
        answer = parse_batch_answer(response.content)
        if answer is not None:
            outcomes = match_outcomes(answer, batch)
            return Resolved(outcomes, AnswerBody(response.content, answer.successful))
    if 200 <= status <= 299:
        # A success whose body is not a batch answer (a proxy?): sending the same keys again
        # is safe and gets a proper answer.
        return Retry(f"HTTP {status} with an unreadable body", status=status)
    detailed = batch_create_usage_events.build_response(response)
    error: ApiError = error_from_response(
        detailed, batch_create_usage_events.DOCUMENTED_STATUSES, secrets=secrets_of(client)
    )
    if status in REJECTING_STATUSES:
        return FailAll(error)
    if status == TOO_LARGE:
        return Split(error)
    # "HTTP 401 ...: ..."
    return Retry(str(error), response.headers.get("retry-after"), error, status=status)


def too_large(batch: Batch[Any], error: Exception) -> Resolved:
    """The outcome of a single event the API refused as too large."""
    reason = f"the API refused the event as too large: {error}"
    return Resolved([EventRejectedError(reason, index=0, idempotency_key=batch.keys[0])])


@dataclass(frozen=True)
class BatchAnswer:
    """A batch endpoint's success body, read as far as matching outcomes to events needs.

    The created events stay JSON: building a UsageEvent (from_dict) costs more CPU than all
    else the ingester does for an event, and a handle builds it only when result() asks.
    """

    successful: list[CreatedJson]
    failed: list[BatchUsageEventFailure]


def parse_batch_answer(content: bytes) -> BatchAnswer | None:
    """The batch endpoint's success body, or None if it is not one (decode_json: orjson's
    speed, json.loads's exact integers)."""
    try:
        data = decode_json(content)
        if data["object"] != "batchUsageEvents":
            return None
        successful = data["successful"]
        if not all(isinstance(event, dict) for event in successful):
            return None
        failed = [BatchUsageEventFailure.from_dict(failure) for failure in data["failed"]]
    # json.loads (decode_json's fallback) answers nesting too deep with a RecursionError, where
    # orjson answered with a ValueError: still not a batch answer.
    except (*BODY_PARSE_ERRORS, RecursionError):
        return None
    return BatchAnswer(successful, failed)


def verdict_of_exception(error: Exception) -> Retry:
    """What an exception raised while sending means: no answer (a refused connection, a
    timeout) is retried as a plain call would retry it. Anything else (a bug, a broken
    transport) is no answer either: the events are kept and retried, and it is unexpected."""
    if isinstance(error, ApiConnectionError) and isinstance(error.__cause__, RETRY_EXCEPTIONS):
        return Retry(str(error), error=error)
    return Retry(str(error) or type(error).__name__, error=error, unexpected=True)


def send_kwargs(body: bytes) -> dict[str, Any]:
    """The request of one attempt at a batch, for _runtime.transport.send/asend."""
    return {
        "method": "POST",
        "url": batch_create_usage_events.PATH,
        "content": body,
        "headers": JSON_CONTENT_TYPE,
    }


def match_outcomes(answer: BatchAnswer, batch: Batch[Any]) -> list[CreatedJson | Exception]:
    """The outcome of each event of the batch, from the API's answer.

    Failures are matched by `index`. Created events are matched by idempotencyKey (the same
    key twice in one batch is one event, and both handles get it); if the API left the key
    out of its events, they are matched in order to the events that did not fail.
    """
    failures = {failure.index: failure for failure in answer.failed}
    keyed = all(isinstance(event.get("idempotencyKey"), str) for event in answer.successful)
    by_key = {event["idempotencyKey"]: event for event in answer.successful} if keyed else {}
    in_order = iter(() if keyed else answer.successful)
    outcomes: list[CreatedJson | Exception] = []
    for index, (key, identity) in enumerate(zip(batch.keys, batch.identities, strict=True)):
        failure = failures.get(index)
        created = None if failure else by_key.get(key) or next(in_order, None)
        if failure is not None:
            outcomes.append(EventRejectedError(failure.error, index=index, idempotency_key=key))
        elif created is not None:
            outcomes.append(_checked(key, identity, created))
        else:
            reason = "the API acknowledged the batch without this event"
            outcomes.append(EventRejectedError(reason, index=index, idempotency_key=key))
    return outcomes


def _checked(
    key: str, identity: SentFields | None, created: CreatedJson
) -> CreatedJson | Exception:
    """The created event, or the IdempotencyConflictError if it was stored for another
    request under this event's key."""
    if identity is None:
        return created
    reason = conflict_with_json(key, identity, created)
    return IdempotencyConflictError(reason, idempotency_key=key) if reason else created


class FailureLog:
    """Logs a failure of delivery (a batch send that failed as a whole, a store that could not
    be written) at WARNING with its cause while failures go on, at most once per `every`
    seconds per ingester (a dead endpoint fails every batch, and a line per attempt would
    flood the log); the attempts in between go to INFO. Keeps the last cause for the
    close-deadline message and IngesterClosedError's __cause__."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = 10.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._logger = logger
        self._every = every
        self._clock = clock or time.monotonic
        self._next_warning = 0.0
        self._suppressed = 0
        self.last_reason: str | None = None
        self.last_error: Exception | None = None

    def failed(self, count: int, verdict: Retry, delay: float) -> None:
        """A batch of `count` events failed as a whole; it is sent again in `delay` s."""
        self._log(
            verdict.reason,
            verdict.error or RuntimeError(verdict.reason),
            "batch of %d events failed (%s); sending it again in %.2f s%s",
            count,
            verdict.reason,
            delay,
        )

    def trouble(self, reason: str, error: Exception, delay: float) -> None:
        """The store failed (reason says doing what); it is tried again in `delay` s."""
        self._log(reason, error, "%s; trying again in %.2f s%s", reason, delay)

    def _log(self, reason: str, error: Exception, message: str, *args: object) -> None:
        self.last_reason = reason
        self.last_error = error
        now = self._clock()
        if now < self._next_warning:
            self._suppressed += 1
            level = logging.INFO
        else:
            self._next_warning = now + self._every
            level = logging.WARNING
        more = f" ({self._suppressed} more failed sends since the last warning)"
        self._logger.log(
            level, message, *args, more if level == logging.WARNING and self._suppressed else ""
        )
        if level == logging.WARNING:
            self._suppressed = 0


# How many keys the log line of undelivered events names: a failed import of 100,000 events
# once wrote 20 KB of keys to stderr.
UNDELIVERED_KEYS_SHOWN = 5


def undelivered_message(keys: Sequence[str], why: str) -> str:
    """The log line for events given up on: how many, why, and their first keys (so they can
    be found and resent; the keys make resending safe). Every event's handle holds the error,
    which is where the full list is."""
    shown = ", ".join(keys[:UNDELIVERED_KEYS_SHOWN])
    more = len(keys) - UNDELIVERED_KEYS_SHOWN
    if more > 0:
        shown += f" and {more} more (each event's handle holds this error)"
    return f"{len(keys)} usage events were not delivered ({why}); idempotency keys: {shown}"


def check_settings(
    max_batch_size: int,
    max_batch_bytes: int,
    flush_interval: float,
    max_queue: int,
    max_in_flight: int,
) -> None:
    if not 1 <= max_batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"max_batch_size must be between 1 and {MAX_BATCH_SIZE}")
    if max_batch_bytes < 1024:
        raise ValueError("max_batch_bytes must be at least 1024")
    if flush_interval <= 0:
        raise ValueError("flush_interval must be positive")
    if max_queue < 1 or max_in_flight < 1:
        raise ValueError("max_queue and max_in_flight must be at least 1")
