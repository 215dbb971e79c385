"""Benchmarks of the generated client, each against a baseline measured in the same run.

Run it with `scripts/bench` (`--quick` for a smoke run of every section, as `scripts/test`
does; `--json PATH` to choose where the table goes). Absolute times on a shared machine are
noise; the ratio of a candidate to its baseline, measured interleaved on the same data in the
same process, is the figure to compare between runs.

Sections:
1. per-call overhead, all through one in-process MockTransport: `create_usage_event.sync`
   (request model built per call, retries and logging wired in) versus a raw
   `httpx.Client.post` + `json.loads` (issue 8) and versus a bare post of the same bytes
   (issue 6), and the retrying transport alone versus that bare post.
2. parse: `BatchUsageEventResponse.from_dict(json.loads(raw))` versus `json.loads(raw)`,
   1000 events with nested billing/refund/metadata, and 1000 events full of nulls.
   Also the same parse reading every field afterwards, the official SDK's
   model_validate_json, and a floor: the same models built by hand with no checks
   (scripts/bench_floor.py), the least Python an attrs model layer can run.
3. serialise: `json.dumps(BatchCreateUsageEventsRequest(...).to_dict())` versus `json.dumps`
   of the equivalent plain dicts, 1000 events.
4. async fan-out: 1000 concurrent `create_usage_event.asyncio` calls through one client with
   its defaults against a local sandbox, versus the same with a raw `httpx.AsyncClient` with
   the same timeouts and limits (needs `paygentic_sandbox`).
5. pagination memory: peak Python memory growth (tracemalloc) while `list_usage_events.
   sync_all` iterates 100,000 events (limit 100) from a local sandbox, against the peak for
   10,000 events: it must not grow with the number of events, and must stay under 20 MB.
6. import cost: `import paygentic_client` versus `import httpx`, each timed inside a fresh
   interpreter (interpreter start-up excluded), interleaved rounds (issue 11); also without
   click (httpx then skips its CLI, as in an install of the client alone) and the import of
   an operation module, for information.
7. OpenTelemetry (scripts/bench_otel.py): section 1's create with the SDK configured (spans
   and metrics kept in memory), and with the API but no SDK, each versus the same create with
   PAYGENTIC_OTEL=off (issue 27). It installs global providers, so it runs last.

Every section also spot-checks correctness (the candidate's result equals the baseline's),
so that the quick mode fails loudly when the generated code breaks. It never asserts on
timing ratios: those are for people to read.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import importlib.util
import itertools
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import attrs
import bench_floor
import bench_otel
import httpx

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.config import DEFAULT_TIMEOUT
from paygentic_client._runtime.jsonbody import encode_json
from paygentic_client._runtime.pool import DEFAULT_LIMITS
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    list_usage_events,
)
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    BatchUsageEventResponse,
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Metadata,
    UsageEvent,
    UsageEventMetadata,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON_DIR = ROOT / ".bench"
TOKEN = "tok_bench_Qx7vR2mK"
MERCHANT_ID = "org_bench"
CUSTOMER_ID = "cus_abc123xyz"
BASE_URL = "https://api.bench.invalid"
EVENTS = 1000


@dataclass(frozen=True)
class Settings:
    rounds: int  # interleaved candidate/baseline measurements; the medians are over these
    warmup: int  # untimed runs of each side before the first round
    min_batch_ns: int  # each timed measurement repeats the operation until it lasts this long
    fanout_calls: int
    fanout_rounds: int
    # Events iterated in the pagination section: a smaller and a larger run, whose peaks
    # must be about the same (memory must not grow with the number of events).
    pages_events: tuple[int, int]


FULL = Settings(
    rounds=41,
    warmup=5,
    min_batch_ns=10_000_000,
    fanout_calls=1000,
    fanout_rounds=5,
    pages_events=(10_000, 100_000),
)
QUICK = Settings(
    rounds=3,
    warmup=1,
    min_batch_ns=1_000_000,
    fanout_calls=50,
    fanout_rounds=1,
    pages_events=(300, 1_000),
)


@dataclass(frozen=True)
class Row:
    section: str
    figure: str
    candidate_ns: float  # median time of one candidate operation
    baseline_ns: float  # median time of one baseline operation, same run
    ratio: float
    target: float | None  # the ratio the figure must stay at or below
    unit: str = "ns"  # or "bytes": candidate and baseline are amounts of memory
    ceiling: float | None = None  # the most the candidate itself may be, in its unit

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        over_ceiling = self.ceiling is not None and self.candidate_ns > self.ceiling
        return "OVER" if self.ratio > self.target or over_ceiling else "ok"


# --- measuring -----------------------------------------------------------------------------


def _calibrate(operation: Callable[[], object], min_batch_ns: int) -> int:
    """How many repetitions make one timed batch last at least min_batch_ns."""
    repeat = 1
    while True:
        start = time.perf_counter_ns()
        for _ in range(repeat):
            operation()
        if time.perf_counter_ns() - start >= min_batch_ns or repeat >= 1 << 20:
            return repeat
        repeat *= 2


def _time_batch(operation: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(repeat):
        operation()
    return (time.perf_counter_ns() - start) / repeat


@contextmanager
def _gc_paused() -> Iterator[None]:
    # A collection triggered by one side's garbage must not be billed to the other side.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def compare(
    candidate: Callable[[], object], baseline: Callable[[], object], settings: Settings
) -> tuple[float, float, float]:
    """Median per-operation times (candidate, baseline) and the median of the paired ratios.

    Each round times both sides back to back, so that the ratio of a round compares two
    measurements taken under the same load; the median of those ratios shrugs off the rounds
    in which a neighbour took the CPU.
    """
    for _ in range(settings.warmup):
        candidate()
        baseline()
    repeat_c = _calibrate(candidate, settings.min_batch_ns)
    repeat_b = _calibrate(baseline, settings.min_batch_ns)
    times_c: list[float] = []
    times_b: list[float] = []
    for round_ in range(settings.rounds):
        # Alternate which side goes first so that drift (thermal, neighbours) hits both.
        order = ((times_c, candidate, repeat_c), (times_b, baseline, repeat_b))
        for times, operation, repeat in order if round_ % 2 == 0 else reversed(order):
            with _gc_paused():
                times.append(_time_batch(operation, repeat))
    ratios = [c / b for c, b in zip(times_c, times_b, strict=True)]
    return statistics.median(times_c), statistics.median(times_b), statistics.median(ratios)


# --- data ----------------------------------------------------------------------------------

T0 = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC)


def _rfc3339(moment: datetime.datetime) -> str:
    """The form the production API sends: UTC with a `Z` and milliseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def usage_event_json(i: int, *, nulls: bool, dispute: bool = False) -> dict[str, Any]:
    """A UsageEvent as the API sends it: fully populated (with or without a dispute), or with
    null for every optional. Whole quantities: the official SDK refuses fractions."""
    at = T0 + datetime.timedelta(seconds=i, milliseconds=i % 1000)
    event: dict[str, Any] = {
        "id": f"usg_{i:010d}",
        "object": "usageEvent",
        "idempotencyKey": f"key_{i:010d}",
        "customerId": "cus_abc123xyz",
        "merchantId": MERCHANT_ID,
        "subscriptionId": "sub_abc123xyz",
        "timestamp": _rfc3339(at),
        "createdAt": _rfc3339(at + datetime.timedelta(seconds=1)),
        "properties": [
            {"billableMetricId": "bm_gpu_hours", "quantity": 3, "price": "0.125"},
            {"billableMetricId": "bm_api_calls", "quantity": 100, "price": None},
        ],
    }
    if nulls:
        event["properties"][0]["price"] = None
        for key in ("description", "consumerId", "entitlementId", "metadata"):
            event[key] = None
        event.update(billing=None, refund=None, dispute=None)
        return event
    event.update(
        description="GPU inference for a chat session",
        consumerId="org_consumer1",
        entitlementId="com_abc123",
        metadata={"region": "eu-west-1", "model": "llama-70b", "session": f"s{i}"},
        billing={
            "billingEventId": f"bev_{i:010d}",
            "currency": "USD",
            "invoiceId": "inv_abc123",
            "price": 312500000,
            "totalTax": 62500000,
            "totalAmount": 375000000,
        },
        refund={"reason": "duplicate", "refundedAt": _rfc3339(at + datetime.timedelta(hours=1))},
        dispute=_dispute_json(i, at) if dispute else None,
    )
    return event


def _dispute_json(i: int, at: datetime.datetime) -> dict[str, Any]:
    return {
        "id": f"dsp_{i:010d}",
        "object": "dispute",
        "usageEventId": f"usg_{i:010d}",
        "customerId": "cus_abc123xyz",
        "merchantId": MERCHANT_ID,
        "customerMessage": "Two of the four images never arrived.",
        "merchantMessage": None,
        "status": "accepted",
        "disputedAmount": "0.08",
        "resolvedAt": _rfc3339(at + datetime.timedelta(hours=2)),
        "createdAt": _rfc3339(at + datetime.timedelta(hours=1)),
        "updatedAt": _rfc3339(at + datetime.timedelta(hours=2)),
    }


def batch_response_raw(*, nulls: bool, dispute: bool = False) -> bytes:
    body = {
        "object": "batchUsageEvents",
        "successful": [usage_event_json(i, nulls=nulls, dispute=dispute) for i in range(EVENTS)],
        "failed": [],
        "summary": {"total": EVENTS, "successful": EVENTS, "failed": 0},
    }
    return json.dumps(body).encode()


def create_request(i: int) -> CreateUsageEventRequest:
    metadata = Metadata()
    metadata.additional_properties = {"region": "eu-west-1", "session": f"s{i}"}
    return CreateUsageEventRequest(
        idempotency_key=f"key_{i:010d}",
        customer_id=CUSTOMER_ID,
        merchant_id=MERCHANT_ID,
        timestamp=T0 + datetime.timedelta(seconds=i),
        properties=[
            CreateUsageEventRequestProperty(
                billable_metric_id="bm_gpu_hours", quantity=3, price="0.125"
            ),
            CreateUsageEventRequestProperty(billable_metric_id="bm_api_calls", quantity=100),
        ],
        entitlement_id="com_abc123",
        metadata=metadata,
    )


def create_request_json(i: int) -> dict[str, Any]:
    """create_request(i) as the plain dict a hand-written client would send."""
    return {
        "idempotencyKey": f"key_{i:010d}",
        "customerId": CUSTOMER_ID,
        "merchantId": MERCHANT_ID,
        "timestamp": (T0 + datetime.timedelta(seconds=i)).isoformat(),
        "properties": [
            {"billableMetricId": "bm_gpu_hours", "quantity": 3, "price": "0.125"},
            {"billableMetricId": "bm_api_calls", "quantity": 100},
        ],
        "entitlementId": "com_abc123",
        "metadata": {"region": "eu-west-1", "session": f"s{i}"},
    }


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"spot-check failed: {what}")


# --- sections ------------------------------------------------------------------------------


def bench_per_call(settings: Settings) -> list[Row]:
    """Issue 8's figure (against a post + json.loads) and issue 6's two (against a bare post
    of the same bytes: the retrying transport alone, and the whole create), one transport."""
    canned = json.dumps(usage_event_json(0, nulls=True)).encode()
    headers = {"content-type": "application/json"}
    transport = httpx.MockTransport(lambda _: httpx.Response(201, content=canned, headers=headers))
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    raw = httpx.Client(base_url=BASE_URL, transport=transport, headers=auth)
    # Raw httpx taking the client's shortcut (an absolute URL): against it, the figure is
    # what our own layers cost.
    lean = httpx.Client(base_url=BASE_URL, transport=transport, headers=auth)
    absolute = lean.build_request("POST", "/v0/usage").url
    body = json.dumps(create_request_json(0)).encode()
    json_type = {"Content-Type": "application/json"}

    def create() -> UsageEvent:
        return create_usage_event.sync(client=client, body=create_request(0))

    def create_with_options() -> UsageEvent:
        return create_usage_event.sync(
            client=client, body=create_request(0), timeout=30.0, extra_headers=json_type
        )

    def post_and_loads() -> Any:
        return json.loads(raw.post("/v0/usage", json=create_request_json(0)).content)

    def bare_post() -> httpx.Response:
        return raw.post("/v0/usage", content=body, headers=json_type)

    def lean_post() -> httpx.Response:
        return lean.post(absolute, content=body, headers=json_type)

    with client, raw, lean:
        event, plain = create(), post_and_loads()
        check(event.id == plain["id"] == "usg_0000000000", "create_usage_event.sync parses")
        check(UsageEvent.from_dict(event.to_dict()) == event, "UsageEvent round-trips")
        check(create_with_options().id == event.id, "per-call options reach the same answer")
        rows = []
        for figure, candidate, baseline, target in (
            ("create_usage_event.sync vs httpx post+loads", create, post_and_loads, 1.10),
            ("create_usage_event.sync vs bare httpx post", create, bare_post, 1.15),
            ("create with per-call options vs bare post", create_with_options, bare_post, 1.15),
            ("create_usage_event.sync vs bare post, same shortcuts", create, lean_post, None),
        ):
            c, b, ratio = compare(candidate, baseline, settings)
            rows.append(Row("1 per call", figure, c, b, ratio, target))
    return rows


def bench_otel_section(settings: Settings) -> list[Row]:
    """Section 7 (see scripts/bench_otel.py): a create with OpenTelemetry versus without."""
    canned = json.dumps(usage_event_json(0, nulls=True)).encode()
    headers = {"content-type": "application/json"}
    transport = httpx.MockTransport(lambda _: httpx.Response(201, content=canned, headers=headers))
    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}
    )

    def create() -> UsageEvent:
        return create_usage_event.sync(client=client, body=create_request(0))

    off, on = bench_otel.switched("off", create), bench_otel.switched("on", create)
    rows = []
    with client:
        c, b, ratio = compare(on, off, settings)
        rows.append(
            Row("7 otel", "create, OTel API without SDK vs PAYGENTIC_OTEL=off", c, b, ratio, None)
        )
        exporter, reader = bench_otel.install_sdk()
        before = exporter.spans
        on()
        check(exporter.spans - before == 2, "a create with the SDK makes two spans")
        check(bench_otel.duration_count(reader) == 1, "and one duration point")
        off()
        check(exporter.spans - before == 2, "PAYGENTIC_OTEL=off makes none")
        c, b, ratio = compare(on, off, settings)
        rows.append(
            Row("7 otel", "create, OTel SDK (in-memory) vs PAYGENTIC_OTEL=off", c, b, ratio, 1.10)
        )
    return rows


# The parse section's bodies: (label, nulls, dispute).
PARSE_BODIES = (
    ("dispute null", False, False),
    ("dispute populated", False, True),
    ("nulls", True, False),
)
PARSE_TARGET = 1.25
SDK_VENV = ROOT / ".bench" / "sdk-venv"
SDK_REQUIREMENT = "paygentic-sdk==0.1.34"


def bench_parse(settings: Settings) -> list[Row]:
    rows: list[Row] = []
    raws = [batch_response_raw(nulls=nulls, dispute=dispute) for _, nulls, dispute in PARSE_BODIES]
    for (label, nulls, _), raw in zip(PARSE_BODIES, raws, strict=True):
        rows += _bench_parse_one(label, nulls, raw, settings)
    sdk_rows, note = _bench_sdk_parse(raws, settings)
    rows += sdk_rows
    if note:
        print(f"parse: {note}")
    return rows


def _parse_through_client(response: httpx.Response) -> Any:
    """What batch_create_usage_events does with a 201's bytes (decode and from_dict)."""
    return batch_create_usage_events._parse_response(response)


def read_every_field(value: Any) -> int:
    """Touch every attribute of a parsed model (or every value of decoded JSON), down to the
    leaves, and count them: a design that defers work to the reads cannot look fast."""
    count = 0
    pending = [value]
    while pending:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending += item.values()
        elif isinstance(item, list):
            pending += item
        elif attrs.has(type(item)):
            pending += [getattr(item, field.name) for field in attrs.fields(type(item))]
    return count


def _bench_parse_one(label: str, nulls: bool, raw: bytes, settings: Settings) -> list[Row]:
    response = httpx.Response(201, content=raw)
    plain = json.loads(raw)
    parsed = _parse_through_client(response)
    check(isinstance(parsed, BatchUsageEventResponse), f"{label}: parsed")
    check(len(parsed.successful) == EVENTS, f"{label}: every event parsed")
    check(BatchUsageEventResponse.from_dict(parsed.to_dict()) == parsed, f"{label}: round-trip")
    check(bench_floor.batch_usage_events(raw) == parsed.successful, f"{label}: the floor")
    first, source = parsed.successful[0], plain["successful"][0]
    check(first.id == source["id"] and first.timestamp == T0, f"{label}: fields parsed")
    check((first.billing is None) == nulls, f"{label}: billing")
    check((first.dispute is None) == (source["dispute"] is None), f"{label}: dispute")
    if not nulls:
        metadata = first.metadata
        check(
            isinstance(metadata, UsageEventMetadata) and metadata["region"] == "eu-west-1",
            f"{label}: metadata",
        )

    def candidate() -> Any:
        return _parse_through_client(response)

    def baseline() -> Any:
        return json.loads(raw)

    def candidate_read() -> int:
        return read_every_field(_parse_through_client(response))

    def baseline_read() -> int:
        return read_every_field(json.loads(raw))

    figure = f"client parse, bytes→models, vs loads, {label}"
    c, b, ratio = compare(candidate, baseline, settings)
    rows = [Row("2 parse", figure, c, b, ratio, PARSE_TARGET)]
    c, b, ratio = compare(candidate_read, baseline_read, settings)
    figure = f"parse+read every field vs loads+read, {label}"
    rows.append(Row("2 parse", figure, c, b, ratio, None))

    def floor() -> Any:
        return bench_floor.batch_usage_events(raw)

    c, b, ratio = compare(floor, baseline, settings)
    figure = f"floor, attrs built by hand, vs loads, {label}"
    rows.append(Row("2 parse", figure, c, b, ratio, None))
    return rows


def _sdk_python() -> tuple[Path | None, str]:
    """The Python of a separate environment with the official SDK, made on first use."""
    python = SDK_VENV / "bin" / "python"
    if python.exists():
        return python, ""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local" / "bin"))
    if uv is None:
        return None, "no uv to make the SDK's environment"
    try:
        subprocess.run([uv, "venv", "-q", str(SDK_VENV)], check=True, capture_output=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), SDK_REQUIREMENT],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        shutil.rmtree(SDK_VENV, ignore_errors=True)
        return None, f"{SDK_REQUIREMENT} could not be installed ({error})"
    return python, ""


def _bench_sdk_parse(raws: list[bytes], settings: Settings) -> tuple[list[Row], str]:
    """The official SDK's model_validate_json on the same bytes, against json.loads in its own
    process (scripts/bench_sdk.py); skipped with a note when it cannot be installed."""
    python, note = _sdk_python()
    if python is None:
        return [], f"skipped the official SDK's row: {note}"
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for (label, _, _), raw in zip(PARSE_BODIES, raws, strict=True):
            path = Path(tmp) / f"{label.replace(' ', '-')}.json"
            path.write_bytes(raw)
            paths.append(str(path))
        command = [str(python), str(ROOT / "scripts" / "bench_sdk.py")]
        command += [str(settings.rounds), str(settings.min_batch_ns), *paths]
        try:
            done = subprocess.run(command, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as error:
            return [], f"skipped the official SDK's row: it failed ({error.stderr.strip()})"
    rows = []
    for (label, _, _), result in zip(PARSE_BODIES, json.loads(done.stdout), strict=True):
        figure = f"official SDK validate_json vs loads, {label}"
        rows.append(
            Row("2 parse", figure, result["sdk_ns"], result["loads_ns"], result["ratio"], None)
        )
    return rows, ""


def bench_serialise(settings: Settings) -> list[Row]:
    models = [create_request(i) for i in range(EVENTS)]
    plain = [create_request_json(i) for i in range(EVENTS)]

    def candidate() -> str:
        return json.dumps(BatchCreateUsageEventsRequest(events=models).to_dict())

    def baseline() -> str:
        return json.dumps({"events": plain})

    def sent() -> bytes:
        """What batch_create_usage_events puts on the wire (_runtime/jsonbody.py)."""
        return encode_json(BatchCreateUsageEventsRequest(events=models).to_dict())

    # The whole batch create through the client: to_dict, encode, send. The mock transport
    # answers with an empty batch answer, so that parsing an echo of 1000 events (section 2's
    # figure) is not billed to serialising.
    wire: list[bytes] = []
    answer = json.dumps(
        {
            "object": "batchUsageEvents",
            "successful": [],
            "failed": [],
            "summary": {"total": 0, "successful": 0, "failed": 0},
        }
    ).encode()

    def answer_batch(request: httpx.Request) -> httpx.Response:
        wire.append(request.content)
        return httpx.Response(201, content=answer)

    client = AuthenticatedClient(
        base_url=BASE_URL, token=TOKEN, httpx_args={"transport": httpx.MockTransport(answer_batch)}
    )

    def batch_create() -> BatchUsageEventResponse:
        wire.clear()
        body = BatchCreateUsageEventsRequest(events=models)
        return batch_create_usage_events.sync(client=client, body=body)

    check(candidate() == baseline(), "to_dict() sends what a hand-written client sends")
    check(json.loads(sent()) == json.loads(baseline()), "the client sends the same JSON")

    c, b, ratio = compare(candidate, baseline, settings)
    rows = [Row("3 serialise", f"dumps(to_dict) vs dumps, {EVENTS} events", c, b, ratio, 1.5)]
    c, b, ratio = compare(sent, baseline, settings)
    rows.append(
        Row(
            "3 serialise",
            f"the client's body (orjson) vs dumps, {EVENTS} events",
            c,
            b,
            ratio,
            None,
        )
    )
    with client:
        batch_create()
        check(json.loads(wire[0]) == json.loads(baseline()), "batch create sends the same JSON")
        c, b, ratio = compare(batch_create, baseline, settings)
    figure = f"batch_create_usage_events.sync (mock) vs dumps, {EVENTS}"
    rows.append(Row("3 serialise", figure, c, b, ratio, 0.8))
    return rows


def sandbox_available() -> bool:
    return importlib.util.find_spec("paygentic_sandbox") is not None


async def _fanout_candidate(url: str, calls: int, run: int) -> None:
    # The client's defaults: timeouts, limits, retries, and the gate in front of the pool.
    async with AuthenticatedClient(base_url=url, token=TOKEN) as client:
        events = await asyncio.gather(
            *(
                create_usage_event.asyncio(client=client, body=_fanout_request(run, i))
                for i in range(calls)
            )
        )
    check(len({event.id for event in events}) == calls, "fan-out: every event created once")


async def _fanout_baseline(url: str, calls: int, run: int) -> None:
    """What a careful hand-written client does: the same timeouts and pool limits, and no more
    calls inside httpx's pool than it has connections (a bare gather of 1000 calls spends
    minutes in httpcore's pool bookkeeping; see paygentic_client/_runtime/pool.py)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    slots = asyncio.Semaphore(DEFAULT_LIMITS.max_connections or calls)
    async with httpx.AsyncClient(
        base_url=url, headers=auth, timeout=DEFAULT_TIMEOUT, limits=DEFAULT_LIMITS
    ) as client:

        async def one(i: int) -> Any:
            body = _fanout_request(run, i).to_dict()
            async with slots:
                response = await client.post("/v0/usage", json=body)
            response.raise_for_status()
            return json.loads(response.content)

        events = await asyncio.gather(*(one(i) for i in range(calls)))
    check(len({event["id"] for event in events}) == calls, "fan-out: every event created once")


def _fanout_request(run: int, i: int) -> CreateUsageEventRequest:
    # A fresh idempotency key per call: a replayed key would be answered from the cache.
    request = create_request(i)
    request.idempotency_key = f"key_{run:04d}_{i:06d}"
    return request


def bench_fanout(settings: Settings) -> list[Row]:
    from paygentic_sandbox.process import SandboxProcess

    calls = settings.fanout_calls
    runs = iter(range(10_000))

    def timed(fanout: Callable[[str, int, int], Coroutine[Any, Any, None]], url: str) -> float:
        start = time.perf_counter_ns()
        asyncio.run(fanout(url, calls, next(runs)))
        return time.perf_counter_ns() - start

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with SandboxProcess(db=db, tokens={TOKEN: MERCHANT_ID}) as sandbox:
            timed(_fanout_candidate, sandbox.url)  # warm-up: connections, sandbox caches
            timed(_fanout_baseline, sandbox.url)
            times_c: list[float] = []
            times_b: list[float] = []
            for round_ in range(settings.fanout_rounds):
                sides = [(times_c, _fanout_candidate), (times_b, _fanout_baseline)]
                for times, fanout in sides if round_ % 2 == 0 else reversed(sides):
                    times.append(timed(fanout, sandbox.url))
    c, b = statistics.median(times_c), statistics.median(times_b)
    ratio = statistics.median(x / y for x, y in zip(times_c, times_b, strict=True))
    figure = f"{calls} concurrent asyncio creates vs raw httpx.AsyncClient"
    return [Row("4 async fan-out", figure, c, b, ratio, 1.15)]


PAGE_LIMIT = 100  # the API's largest page
SEED_BATCH = 1000  # the API's largest batch
MEMORY_CEILING = 20 * 1024 * 1024


def _seed(client: AuthenticatedClient, events: int) -> None:
    """Store `events` events, one second apart from T0, with the batch endpoint."""
    for start in range(0, events, SEED_BATCH):
        requests = []
        for i in range(start, min(start + SEED_BATCH, events)):
            request = create_request(i)
            request.idempotency_key = f"seed_{i:07d}"
            requests.append(request)
        answer = batch_create_usage_events.sync(
            client=client, body=BatchCreateUsageEventsRequest(events=requests)
        )
        check(answer.summary.successful == len(requests), "pagination: the seed is stored")


def _iteration_peak(client: AuthenticatedClient, events: int, seeded: int) -> int:
    """Peak Python memory growth (tracemalloc) while iterating the first `events` events."""
    gc.collect()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    count = 0
    last_id = ""
    everything = list_usage_events.sync_all(
        client=client,
        start_time=T0,
        end_time=T0 + datetime.timedelta(seconds=seeded),
        customer_id=CUSTOMER_ID,
        limit=PAGE_LIMIT,
    )
    for event in itertools.islice(everything, events):
        check(event.id > last_id, "pagination: events arrive once, in order")
        last_id = event.id
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    check(count == events, f"pagination: {events} events iterated, not {count}")
    return peak - before


def bench_pagination(settings: Settings) -> list[Row]:
    from paygentic_sandbox.process import SandboxProcess

    fewer, more = settings.pages_events
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with (
            SandboxProcess(db=db, tokens={TOKEN: MERCHANT_ID}) as sandbox,
            AuthenticatedClient(base_url=sandbox.url, token=TOKEN) as client,
        ):
            _seed(client, more)
            tracemalloc.start()
            try:
                _iteration_peak(client, PAGE_LIMIT, more)  # warm-up: connection, first page
                start = time.perf_counter_ns()
                peak_fewer = _iteration_peak(client, fewer, more)
                peak_more = _iteration_peak(client, more, more)
                elapsed = time.perf_counter_ns() - start
            finally:
                tracemalloc.stop()
    figure = f"peak memory, sync_all over {more:,} vs {fewer:,} events (limit {PAGE_LIMIT})"
    print(f"pagination: {fewer + more:,} events iterated in {elapsed / 1e9:.1f} s (tracemalloc on)")
    row = Row("5 pagination", figure, peak_more, peak_fewer, peak_more / peak_fewer, 1.5)
    return [replace(row, unit="bytes", ceiling=MEMORY_CEILING)]


# --- import cost ---------------------------------------------------------------------------

# Rounds of the import section: each is two fresh interpreters (~0.3 s), so fewer than the
# in-process sections use.
IMPORT_ROUNDS = 15
# Set before the timed import: httpx then skips its CLI (click, rich, pygments), which the
# dev environment has and a plain `pip install paygentic-client` does not.
WITHOUT_CLICK = "import sys; sys.modules['click'] = None; "


def _import_ns(module: str, prelude: str) -> int:
    """The time `import module` takes in a fresh interpreter, start-up excluded."""
    code = (
        f"{prelude}import time; start = time.perf_counter_ns(); import {module}; "
        "print(time.perf_counter_ns() - start)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(run.stdout)


def _compare_imports(candidate: str, prelude: str, rounds: int) -> tuple[float, float, float]:
    """Medians (candidate, httpx, paired ratio) over interleaved fresh-interpreter rounds."""
    times_c: list[float] = []
    times_b: list[float] = []
    for round_ in range(rounds):
        order = ((times_c, candidate), (times_b, "httpx"))
        for times, module in order if round_ % 2 == 0 else reversed(order):
            times.append(_import_ns(module, prelude))
    ratios = [c / b for c, b in zip(times_c, times_b, strict=True)]
    return statistics.median(times_c), statistics.median(times_b), statistics.median(ratios)


def bench_import(settings: Settings) -> list[Row]:
    rounds = min(settings.rounds, IMPORT_ROUNDS)
    rows = []
    for candidate, prelude, label, target in (
        ("paygentic_client", "", "", 1.25),
        ("paygentic_client", WITHOUT_CLICK, ", no click", None),
        ("paygentic_client.api.usage_events", "", " (ops)", None),
    ):
        c, b, ratio = _compare_imports(candidate, prelude, rounds)
        figure = f"import {candidate.removeprefix('paygentic_client.')} vs httpx{label}"
        rows.append(Row("6 import", figure, c, b, ratio, target))
    return rows


# --- report --------------------------------------------------------------------------------


def _duration(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def _amount(value: float, unit: str) -> str:
    return f"{value / 2**20:.2f} MB" if unit == "bytes" else _duration(value)


def table(rows: list[Row], skipped: list[str], *, judged: bool = True) -> str:
    """The rows as text; judged=False (a smoke run) leaves out the targets and verdicts, which
    too few iterations cannot support."""
    lines = [
        f"{'section':<16} {'figure':<56} {'candidate':>10} {'baseline':>10} {'ratio':>7}  target",
    ]
    for row in rows:
        target = f"≤ {row.target:.2f}" if row.target is not None else ""
        if row.ceiling is not None:
            target += f", candidate < {_amount(row.ceiling, row.unit)}"
        judgement = f"{target} {row.verdict}" if judged else ""
        lines.append(
            f"{row.section:<16} {row.figure:<56} {_amount(row.candidate_ns, row.unit):>10} "
            f"{_amount(row.baseline_ns, row.unit):>10} {row.ratio:>6.2f}×  {judgement}".rstrip()
        )
    lines += [f"{'(skipped)':<16} {reason}" for reason in skipped]
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], skipped: list[str], mode: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": [asdict(row) | {"verdict": row.verdict} for row in rows],
        "skipped": skipped,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run")
    parser.add_argument("--json", type=Path, help="where to write the table (default .bench/)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["call", "parse", "serialise", "fanout", "pages", "import", "otel"],
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    wanted = set(args.only or ["call", "parse", "serialise", "fanout", "pages", "import", "otel"])

    rows: list[Row] = []
    skipped: list[str] = []
    sections: list[tuple[str, Callable[[Settings], list[Row]], str | None]] = [
        ("call", bench_per_call, None),
        ("parse", bench_parse, None),
        ("serialise", bench_serialise, None),
        (
            "fanout",
            bench_fanout,
            None if sandbox_available() else "4 async fan-out: paygentic_sandbox is not here",
        ),
        (
            "pages",
            bench_pagination,
            None if sandbox_available() else "5 pagination: paygentic_sandbox is not here",
        ),
        ("import", bench_import, None),
        # Last: it installs OpenTelemetry's SDK as the global providers for good.
        ("otel", bench_otel_section, None),
    ]
    for name, section, unavailable in sections:
        if name not in wanted:
            continue
        if unavailable:
            skipped.append(unavailable)
            continue
        rows += section(settings)

    # A full run keeps every table for later comparison; the quick runs of scripts/test
    # overwrite one file.
    stamp = "" if args.quick else datetime.datetime.now().strftime("-%Y%m%d-%H%M%S")
    path = args.json or DEFAULT_JSON_DIR / f"bench-{mode}{stamp}.json"
    write_json(path, rows, skipped, mode)
    if args.quick:
        print("quick mode: too few iterations for the figures to mean anything (no targets)")
    print(table(rows, skipped, judged=not args.quick))
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
