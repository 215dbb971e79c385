"""The sandbox as a process: durability under kill -9, fault injection, the command line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from paygentic_sandbox.config import DEMO_MERCHANT_ID, DEMO_TOKEN, READY_LINE_PREFIX
from paygentic_sandbox.faults import Fault, FaultInjector, FaultPlan, FaultSpecError
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import AUTH, MERCHANT_ID, SandboxFactory
from support.spec_conformance import assert_conforms


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotencyKey": uuid.uuid4().hex,
        "customerId": "cus_process",
        "merchantId": MERCHANT_ID,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_calls", "quantity": 1}],
    }
    return {**body, **changes}


def count_events(url: str) -> int:
    response = httpx.get(
        url + "/v0/usage",
        params={
            "customerId": "cus_process",
            "startTime": "2024-01-01T00:00:00Z",
            "endTime": "2024-12-31T00:00:00Z",
        },
        headers=AUTH,
    )
    total: int = assert_conforms(response)["pagination"]["total"]
    return total


def test_an_acknowledged_event_survives_kill_9(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory()
    created = httpx.post(server.url + "/v0/usage/batch", json={"events": [event()]}, headers=AUTH)
    single = httpx.post(server.url + "/v0/usage", json=event(), headers=AUTH)
    assert (created.status_code, single.status_code) == (201, 201)
    server.kill()
    restarted = sandbox_factory()
    for acknowledged in (created.json()["successful"][0], single.json()):
        response = httpx.get(f"{restarted.url}/v0/usage/{acknowledged['id']}", headers=AUTH)
        assert assert_conforms(response) == acknowledged


def test_503_happens_before_anything_is_written(sandbox_factory: SandboxFactory) -> None:
    faulty = sandbox_factory(faults="503=1")
    response = httpx.post(faulty.url + "/v0/usage", json=event(), headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    faulty.stop()
    assert count_events(sandbox_factory().url) == 0


def test_429_carries_retry_after(sandbox_factory: SandboxFactory) -> None:
    faulty = sandbox_factory(faults="429=1,retry-after=3")
    response = httpx.post(faulty.url + "/v0/usage", json=event(), headers=AUTH)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert assert_conforms(response)["error"] == "rate_limited"


def test_drop_after_commit_commits_then_closes_without_a_response(
    sandbox_factory: SandboxFactory,
) -> None:
    faulty = sandbox_factory(faults="drop-after-commit=1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(faulty.url + "/v0/usage", json=event(), headers=AUTH)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(faulty.url + "/v0/usage/batch", json={"events": [event()]}, headers=AUTH)
    faulty.stop()
    assert count_events(sandbox_factory().url) == 2


def test_faults_spare_what_is_not_an_operation(sandbox_factory: SandboxFactory) -> None:
    faulty = sandbox_factory(faults="503=1")
    assert httpx.get(faulty.url + "/nowhere", headers=AUTH).status_code == 404
    assert httpx.post(faulty.url + "/v0/usage", json=event()).status_code == 401


def test_latency_is_added(sandbox_factory: SandboxFactory) -> None:
    slow = sandbox_factory(faults="latency=0.3")
    started = time.perf_counter()
    httpx.get(slow.url + "/v0/usage/usg_x", headers=AUTH)
    assert time.perf_counter() - started >= 0.3


def test_mixed_faults_with_a_seed_are_reproducible() -> None:
    plan = FaultPlan.parse("drop-after-commit=0.2,503=0.1,429=0.05,latency=0.01:0.05")
    assert plan == FaultPlan(0.2, 0.1, 0.05, 1, (0.01, 0.05))
    injectors = [FaultInjector(plan, seed=7), FaultInjector(plan, seed=7)]
    draws = [[injector.draw() for _ in range(2000)] for injector in injectors]
    assert draws[0] == draws[1]
    share = {f: draws[0].count(f) / 2000 for f in Fault}
    assert share[Fault.DROP_AFTER_COMMIT] == pytest.approx(0.2, abs=0.04)
    assert share[Fault.UNAVAILABLE] == pytest.approx(0.1, abs=0.03)
    assert share[Fault.RATE_LIMITED] == pytest.approx(0.05, abs=0.02)


@pytest.mark.parametrize(
    "spec", ["503", "503=2", "503=0.6,429=0.6", "boom=0.1", "latency=a", "retry-after=1.5"]
)
def test_bad_fault_specs_are_refused(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultPlan.parse(spec)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_cleanly(sandbox_factory: SandboxFactory, sig: int) -> None:
    server = sandbox_factory()
    process = server._process
    assert process is not None
    process.send_signal(sig)
    assert process.wait(10) == 0


def test_defaults_demo_token_and_embedded_database(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "paygentic_sandbox", "--port", "0"]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        demo = process.stdout.readline()
        ready = process.stdout.readline()
        assert demo.startswith(f"demo token: {DEMO_TOKEN} (merchant {DEMO_MERCHANT_ID})")
        assert ready.startswith(READY_LINE_PREFIX + "http://127.0.0.1:")
        url = ready.removeprefix(READY_LINE_PREFIX).strip()
        body = event(merchantId=DEMO_MERCHANT_ID)
        response = httpx.post(
            url + "/v0/usage", json=body, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
        )
        assert response.status_code == 201
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    assert (tmp_path / ".sandbox" / "sandbox.db").is_file()


def test_an_in_memory_database_works(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(db=":memory:")
    assert httpx.post(server.url + "/v0/usage", json=event(), headers=AUTH).status_code == 201


def test_the_process_repr_hides_tokens(tmp_path: Path) -> None:
    server = SandboxProcess(db=tmp_path / "x.db", tokens={"secret-token": "org_x"})
    assert "secret-token" not in repr(server)
