"""The delivery engine (paygentic_client/ingest/engine.py) on a fake clock, driven by hand:
a rig that holds an engine and what it woke, a store the engine must ask its driver to call
(that fails on demand), an observer that records what it is told, and the answers a test
gives a sender's flow. Used by tests/ingest/test_engine.py and test_engine_edges.py."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from paygentic_client import AuthenticatedClient, RetryPolicy
from paygentic_client._runtime.ingest_telemetry import BatchDelivery
from paygentic_client.errors import SpoolError
from paygentic_client.ingest.core import Batch, FailAll, Retry, Split, Verdict, encode_billed
from paygentic_client.ingest.engine import NO_DELIVERY, Engine, Observer, Send, Settings, StoreCall
from paygentic_client.ingest.stores import MemoryStore, Outcome, Row
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
from support.fake_clock import FakeClock

EXACT = RetryPolicy(backoff_initial=0.5, backoff_max=4.0, jitter=lambda: 1.0)
FLUSH = 1.0


def usage(n: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"eng_{n}",
        customer_id="cus_engine",
        merchant_id="org_engine",
        timestamp=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_e", quantity=1)],
    )


class Store(MemoryStore):
    """A memory store the engine must ask its driver to call (as it does a spool's), with a
    lease, that records its calls and fails on demand."""

    inline = False
    append_inline = False
    shared = True
    bounded = False
    lease = 3.0
    where = " from the test store"

    def __init__(self, lease: float = 3.0) -> None:
        super().__init__()
        self.lease = lease
        self.calls: list[str] = []
        self.failing: set[str] = set()
        self.settled: list[tuple[list[str], list[Outcome]]] = []
        self.mine: list[list[bool]] = []  # of each settle: which events this process holds
        self.renewed: list[list[str]] = []  # the keys of each batch whose claim was renewed
        self.released: list[list[str]] = []  # and of each batch given back
        # What another process answered for this one's events, read by answers_for_me().
        self.answers: list[tuple[Row, Outcome]] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise SpoolError(f"spool test: could not {name}: the disk is full")

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]:
        self._call("claim")
        return super().claim(max_count, max_bytes)

    def renew(self, batch: Batch[Row]) -> None:
        self._call("renew")
        self.renewed.append(list(batch.keys))

    def release(self, batch: Batch[Row]) -> None:
        self._call("release")
        self.released.append(list(batch.keys))

    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
        self._call("settle")
        self.settled.append((list(batch.keys), list(outcomes)))
        self.mine.append(list(mine))

    def answers_for_me(self) -> list[tuple[Row, Outcome]]:
        self._call("answers")
        answers, self.answers = self.answers, []
        return answers

    def close(self) -> None:
        self._call("close")


class Rig:
    """An engine on a fake clock, and what its wake-ups and handles were."""

    def __init__(
        self,
        store: MemoryStore | None = None,
        observer: Recorder | None = None,
        **settings: Any,
    ) -> None:
        self.clock = FakeClock()
        self.wakes = 0
        self.store = store if store is not None else MemoryStore()
        options: dict[str, Any] = {
            "max_batch_size": 1000,
            "max_batch_bytes": 4096,
            "flush_interval": FLUSH,
        }
        options["max_queue"] = 10
        options.update(settings)
        self.client = AuthenticatedClient(
            base_url="https://api.test.invalid", token="tok_engine1234", retry_policy=EXACT
        )
        self.observer = observer if observer is not None else Recorder()
        self.engine: Engine[str] = Engine(
            self.store,
            self.client,
            Settings(**options),
            clock=self.clock,
            wake=self._wake,
            observer=self.observer,
        )

    def _wake(self) -> None:
        self.wakes += 1

    def submit(self, *numbers: int) -> None:
        for n in numbers:
            key, payload, billed = encode_billed(usage(n))
            self.engine.submit(key, payload, billed, f"handle_{n}")


class Recorder(Observer):
    """What the engine tells its observer, one tuple per call."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def submitted(self, count: int) -> None:
        self.seen.append(("submitted", count))

    def trouble(self, cause: str) -> None:
        self.seen.append(("trouble", cause))

    def attempt_started(self, size: int) -> BatchDelivery:
        self.seen.append(("started", size))
        return NO_DELIVERY

    def attempt_ended(
        self,
        delivery: BatchDelivery,
        batch: Batch[Any],
        verdict: Verdict,
        accepted: Mapping[Any, float],
        now: float,
    ) -> None:
        size = len(batch.keys)
        if isinstance(verdict, Retry):
            self.seen.append(("retried", size, verdict.reason))
        elif isinstance(verdict, Split):
            self.seen.append(("split", size))
        else:
            rejected = (
                size
                if isinstance(verdict, FailAll)
                else sum(isinstance(outcome, Exception) for outcome in verdict.outcomes)
            )
            waited = [now - accepted[row] for row in batch.rows if row in accepted]
            self.seen.append(("ended", size, size - rejected, rejected, waited))


def sent_keys(action: Any) -> list[str]:
    assert isinstance(action, Send)
    return [event["idempotencyKey"] for event in json.loads(action.body)["events"]]


def created(*numbers: int) -> httpx.Response:
    events = [{"idempotencyKey": f"eng_{n}", "id": f"usg_{n}"} for n in numbers]
    body = {"object": "batchUsageEvents", "successful": events, "failed": []}
    return httpx.Response(201, json=body)


def refused(status: int) -> httpx.Response:
    return httpx.Response(status, json={"message": f"refused {status}", "error": "refused"})


def drive_store(action: Any) -> Any:
    """Perform a StoreCall as a driver would."""
    assert isinstance(action, StoreCall)
    try:
        return action.call()
    except Exception as error:
        return error
