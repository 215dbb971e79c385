"""An ingester made before fork() (gunicorn --preload, Celery prefork, multiprocessing's fork
start method) keeps working in the child: the child delivers what it submits, exactly once,
never the parent's queued events, and opens the spool again instead of sharing the parent's
SQLite connection; the parent delivers its own. Against a sandbox process (the children must
reach the same API), so these are the slow tier's.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import MERCHANT_ID, TOKEN
from test_ingest_sandbox import stored_keys

from paygentic_client import AuthenticatedClient, UsageIngester
from paygentic_client.errors import IngesterClosedError
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

# fork() in the test's own process: never inside a pytest-xdist worker (see pyproject.toml).
pytestmark = pytest.mark.forks

STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
CHILD_DEADLINE = 30.0  # a child's close(); a loaded machine, and still bounded


def usage(customer: str, tag: str, n: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"{customer}_{tag}_{n:03d}",
        customer_id=customer,
        merchant_id=MERCHANT_ID,
        timestamp=STAMP + datetime.timedelta(milliseconds=n),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_f", quantity=1)],
    )


def keys(customer: str, tag: str, count: int) -> list[str]:
    return [f"{customer}_{tag}_{n:03d}" for n in range(count)]


def queued_parent(
    sandbox: SandboxProcess, tmp_path: Path, store: str, customer: str
) -> tuple[UsageIngester, list[Any]]:
    """An ingester with 5 events of the parent's queued (flush_interval 60: not sent yet)."""
    client = AuthenticatedClient(base_url=sandbox.url, token=TOKEN)
    spool = tmp_path / "fork.spool" if store == "spool" else None
    ingester = UsageIngester(client, spool=spool, flush_interval=60)
    handles = [ingester.submit(usage(customer, "parent", n)) for n in range(5)]
    return ingester, handles


def in_child(ingester: UsageIngester, customer: str, tag: str) -> int:
    """What a child does: submit 4 events, close, and say by its exit code whether every one
    of them was created (0), not (1), or the child broke (2)."""
    try:
        handles = [ingester.submit(usage(customer, tag, n)) for n in range(4)]
        ingester.close(timeout=CHILD_DEADLINE)
        created = all(handle.exception(timeout=0) is None for handle in handles)
        stats = ingester.stats()
        counted = (stats.submitted, stats.delivered, stats.recovered) == (4, 4, 0)
        return 0 if created and counted else 1
    except BaseException:
        return 2


def assert_delivered_once_each(
    sandbox: SandboxProcess, ingester: UsageIngester, handles: list[Any], expected: list[str]
) -> None:
    ingester.close(timeout=CHILD_DEADLINE)
    assert all(handle.exception(timeout=0) is None for handle in handles)
    assert ingester.stats().delivered == 5  # the parent's, not a child's
    customer = expected[0].rsplit("_", 2)[0]
    reader = AuthenticatedClient(base_url=sandbox.url, token=TOKEN)
    stored = stored_keys(reader, customer)
    assert len(stored) == len(set(stored))  # nothing twice
    assert sorted(stored) == sorted(expected)


@pytest.mark.parametrize("store", ["memory", "spool"])
def test_a_forked_child_delivers_its_own_events_and_never_the_parents(
    sandbox: SandboxProcess, tmp_path: Path, store: str
) -> None:
    customer = f"cus_osfork_{store}"
    ingester, handles = queued_parent(sandbox, tmp_path, store, customer)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os._exit(in_child(ingester, customer, "child"))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert_delivered_once_each(
        sandbox,
        ingester,
        handles,
        keys(customer, "parent", 5) + keys(customer, "child", 4),
    )
    if store == "spool":
        with Spool(tmp_path / "fork.spool") as spool:
            assert spool.status().pending == 0


def _child_main(ingester: UsageIngester, customer: str, tag: str) -> None:
    # multiprocessing runs no exit hook in a child: it closes the ingester itself.
    raise SystemExit(in_child(ingester, customer, tag))


@pytest.mark.parametrize("store", ["memory", "spool"])
def test_multiprocessing_fork_children_each_deliver_their_own_events(
    sandbox: SandboxProcess, tmp_path: Path, store: str
) -> None:
    customer = f"cus_mpfork_{store}"
    ingester, handles = queued_parent(sandbox, tmp_path, store, customer)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_child_main, args=(ingester, customer, f"child{n}"))
        for n in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(CHILD_DEADLINE + 10)
    assert [child.exitcode for child in children] == [0, 0]
    assert_delivered_once_each(
        sandbox,
        ingester,
        handles,
        keys(customer, "parent", 5) + keys(customer, "child0", 4) + keys(customer, "child1", 4),
    )


def test_an_ingester_closed_before_the_fork_stays_closed_in_the_child(tmp_path: Path) -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)  # never reached
    ingester = UsageIngester(client, spool=tmp_path / "closed.spool")
    ingester.close()
    pid = os.fork()
    if pid == 0:
        try:
            ingester.submit(usage("cus_closed", "child", 0))
            os._exit(1)
        except IngesterClosedError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
