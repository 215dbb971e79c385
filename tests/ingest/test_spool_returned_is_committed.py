"""A submit that returned was committed (issue 26): a child process submits to a spool from
several producers at once (so that commits are grouped), some with submit(), some with
submit_many(), and writes each key once its call returned; it is SIGKILLed at a random
moment, and every key it wrote is in the spool. Threads and asyncio.

Nothing is delivered (the API's address refuses connections): every event stays pending, and
a Spool opened after the kill, which takes over what the dead process held at once, claims
them all."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paygentic_client.ingest.spool import Spool

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, nothing is delivered

# argv: spool, log, prefix. Four producers call submit() and two call submit_many() with
# lists of 40, without pause, until killed; each writes the keys whose call returned, whole
# lines under one lock (a kill can only cut the last line short).
THREADS = textwrap.dedent(
    """
    import datetime, os, sys, threading
    from paygentic_client import AuthenticatedClient, UsageIngester
    from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
    spool, log, prefix = sys.argv[1:4]
    stamp = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    written = threading.Lock()

    def event(key):
        return CreateUsageEventRequest(
            idempotency_key=key, customer_id="cus_ret", merchant_id="mer_ret", timestamp=stamp,
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)])

    def returned(keys):
        with written:
            os.write(out, "".join(key + "\\n" for key in keys).encode())

    ingester = UsageIngester(AuthenticatedClient(base_url=sys.argv[4], token="t"), spool=spool)

    def one_by_one(name):
        n = 0
        while True:
            key = f"{prefix}_{name}_{n:06d}"
            ingester.submit(event(key))
            returned([key])
            n += 1

    def in_lists(name):
        n = 0
        while True:
            keys = [f"{prefix}_{name}_{m:06d}" for m in range(n, n + 40)]
            ingester.submit_many([event(key) for key in keys])
            returned(keys)
            n += 40

    work = [(one_by_one, f"s{n}") for n in range(4)] + [(in_lists, f"m{n}") for n in range(2)]
    for target, name in work:
        threading.Thread(target=target, args=(name,), daemon=True).start()
    threading.Event().wait()
    """
)

# The same with an AsyncUsageIngester: twenty submit() tasks and four submit_many() tasks.
ASYNCIO = textwrap.dedent(
    """
    import asyncio, datetime, os, sys
    from paygentic_client import AsyncUsageIngester, AuthenticatedClient
    from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
    spool, log, prefix = sys.argv[1:4]
    stamp = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def event(key):
        return CreateUsageEventRequest(
            idempotency_key=key, customer_id="cus_ret", merchant_id="mer_ret", timestamp=stamp,
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)])

    def returned(keys):  # one thread: whole lines
        os.write(out, "".join(key + "\\n" for key in keys).encode())

    async def main():
        client = AuthenticatedClient(base_url=sys.argv[4], token="t")
        ingester = AsyncUsageIngester(client, spool=spool)

        async def one_by_one(name):
            n = 0
            while True:
                key = f"{prefix}_{name}_{n:06d}"
                await ingester.submit(event(key))
                returned([key])
                n += 1
                # A submit() to a journal returns without suspending (as in memory): a task
                # that does nothing else would keep the loop from the submit_many() tasks.
                await asyncio.sleep(0)

        async def in_lists(name):
            n = 0
            while True:
                keys = [f"{prefix}_{name}_{m:06d}" for m in range(n, n + 40)]
                await ingester.submit_many([event(key) for key in keys])
                returned(keys)
                n += 40

        await asyncio.gather(
            *(one_by_one(f"s{n}") for n in range(20)), *(in_lists(f"m{n}") for n in range(4))
        )

    asyncio.run(main())
    """
)

PRODUCERS = {"threads": THREADS, "asyncio": ASYNCIO}
ROUNDS = 2  # kills per driver, each at its own random moment, on the same spool


def returned_keys(log: Path) -> list[str]:
    """The keys the child wrote, whole lines only."""
    if not log.exists():
        return []
    return log.read_text().split("\n")[:-1]


def both_kinds_returned(keys: list[str], prefix: str) -> bool:
    return any(key.startswith(f"{prefix}_s") for key in keys) and any(
        key.startswith(f"{prefix}_m") for key in keys
    )


def kill_at_a_random_moment(code: str, spool: Path, log: Path, prefix: str, pause: float) -> None:
    """Start the child, let it submit for `pause` seconds after its first returned calls, then
    SIGKILL it; it must still have been submitting then."""
    before = len(returned_keys(log))
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(spool), str(log), prefix, UNREACHABLE],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        # Both kinds of call returned once (a submit_many() may start later than a submit()).
        while not both_kinds_returned(returned_keys(log)[before:], prefix):
            assert process.poll() is None, "the producer failed"
            assert time.monotonic() < deadline, "the producer never got going"
            time.sleep(0.005)
        time.sleep(pause)  # a random moment of submitting (and of failing to deliver)
        assert process.poll() is None, "the producer ended before the kill"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.slow  # processes of its own
@pytest.mark.parametrize("driver", ["threads", "asyncio"])
def test_every_submit_that_returned_before_a_sigkill_is_in_the_spool(
    tmp_path: Path, driver: str
) -> None:
    spool, log = tmp_path / "s.db", tmp_path / "returned.txt"
    moments = random.Random(f"returned-{driver}")
    for round_ in range(ROUNDS):
        kill_at_a_random_moment(
            PRODUCERS[driver], spool, log, f"r{round_}", moments.uniform(0.05, 0.4)
        )
    returned = returned_keys(log)
    assert len(returned) == len(set(returned))
    # Both kinds of call returned in every round.
    for round_ in range(ROUNDS):
        assert any(key.startswith(f"r{round_}_s") for key in returned)
        assert any(key.startswith(f"r{round_}_m") for key in returned)
    with Spool(spool) as reopened:  # the dead processes' claims are taken over at once
        spooled = [event.key for event in reopened.claim(10**9)]
    assert len(spooled) == len(set(spooled))  # each event stored once
    missing = set(returned) - set(spooled)
    assert not missing, f"{len(missing)} of {len(returned)} returned events are not in the spool"
