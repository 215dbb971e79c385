"""What `import paygentic_client` loads: no ingester, CLI or exit hook until they are used.

Each check runs in a fresh interpreter (this process has imported everything already). Exit
hooks are observed through the public `atexit.register`, wrapped before the import: a
registration by any paygentic_client module is recorded (and still made).
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]

PROBE = """
import atexit, json, sys

registered = []
_register = atexit.register

def recording_register(function, *args, **kwargs):
    registered.append(getattr(function, "__module__", None) or "?")
    return _register(function, *args, **kwargs)

atexit.register = recording_register

def ours():
    return sorted(m for m in sys.modules if m.startswith("paygentic_client"))

import paygentic_client

seen = {
    "after_import": ours(),
    "stdlib_after_import": sorted(m for m in STDLIB if m in sys.modules),
    "hooks_after_import": list(registered),
    "version": paygentic_client.__version__,
}
ingester_class = paygentic_client.UsageIngester
seen["after_use"] = ours()
seen["hooks_after_use"] = list(registered)
seen["served_by"] = ingester_class.__module__
print(json.dumps(seen))
"""
# Loaded lazily on purpose (issue 11): asyncio with the first async client or async retry,
# importlib.metadata not at all (the version is a constant).
STDLIB = ["asyncio", "importlib.metadata", "concurrent.futures"]


def probe() -> dict[str, Any]:
    code = f"STDLIB = {STDLIB!r}\n{PROBE}"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_importing_the_package_loads_no_ingester_cli_or_exit_hook() -> None:
    seen = probe()

    loaded = seen["after_import"]
    assert "paygentic_client.client" in loaded
    lazy = ("paygentic_client.ingest", "paygentic_client.cli")
    assert [m for m in loaded if m in lazy or m.startswith(tuple(f"{p}." for p in lazy))] == []
    assert seen["stdlib_after_import"] == []
    assert [m for m in seen["hooks_after_import"] if m.startswith("paygentic_client")] == []


def test_the_ingester_loads_on_first_use_with_its_exit_hook() -> None:
    seen = probe()

    assert seen["served_by"] == "paygentic_client.ingest.threaded"
    assert "paygentic_client.ingest.threaded" in seen["after_use"]
    # The recorder does see our hook once the ingesters are loaded: its silence above counts.
    assert "paygentic_client.ingest.threaded" in seen["hooks_after_use"]


def test_the_version_is_the_installed_distributions() -> None:
    assert probe()["version"] == importlib.metadata.version("paygentic-client")


def test_the_lazily_loaded_ingester_delivers_events() -> None:
    """A fresh interpreter that never named paygentic_client.ingest gets a working ingester."""
    code = """
import datetime, sys
sys.path.insert(0, sys.argv[1])
import paygentic_client
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
from support.inprocess_sandbox import InProcessSandbox
from support.sandbox_fixture import MERCHANT_ID

sandbox = InProcessSandbox()
events = [
    CreateUsageEventRequest(
        idempotency_key=f"evt_lazy_{n}",
        customer_id="cus_abc123xyz",
        merchant_id=MERCHANT_ID,
        timestamp=datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
    )
    for n in range(3)
]
with sandbox.client() as client, paygentic_client.UsageIngester(client) as ingester:
    handles = [ingester.submit(event) for event in events]
print(",".join(handle.result(timeout=0).idempotency_key for handle in handles))
print(",".join(sorted(sandbox.stored_keys())))
sandbox.close()
"""
    run = subprocess.run(
        [sys.executable, "-c", code, str(TESTS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    keys = "evt_lazy_0,evt_lazy_1,evt_lazy_2"
    assert run.stdout.splitlines() == [keys, keys], run.stdout + run.stderr


# OpenTelemetry (the `otel` extra): not imported by `import paygentic_client`, imported by the
# first call when installed; without it (here a finder refuses to import it,
# as in an environment without the extra) calls work and nothing of it is loaded.
OTEL_PROBE = """
import json, sys

class NoOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError(f"no module named {name!r} (refused by the probe)")
        return None

if sys.argv[1] == "absent":
    sys.meta_path.insert(0, NoOpenTelemetry())

import httpx
import paygentic_client
from paygentic_client._runtime.ingest_telemetry import ingester_telemetry
from paygentic_client.api.usage_events import get_usage_event

def otel_modules():
    return sorted(m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry."))

seen = {"after_import": otel_modules()}
sent = []

def answer(request):
    sent.append(dict(request.headers))
    return httpx.Response(404, json={"error": "not_found", "message": "no such event"})

client = paygentic_client.AuthenticatedClient(
    base_url="https://api.test.invalid",
    token="tok_probe",
    httpx_args={"transport": httpx.MockTransport(answer)},
)
with client:
    response = get_usage_event.sync_detailed("usg_1", client=client)
seen["status"] = int(response.status_code)
seen["traceparent_sent"] = "traceparent" in sent[0]
seen["after_call"] = otel_modules()
seen["ingester_reporter"] = type(ingester_telemetry("thread", "memory")).__name__
print(json.dumps(seen))
"""


def otel_probe(case: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", OTEL_PROBE, case],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def test_importing_the_package_imports_no_opentelemetry_module_even_when_installed() -> None:
    seen = otel_probe("installed")

    assert seen["after_import"] == []
    # The first call uses the API, with no SDK configured: a no-op, and no traceparent to send.
    assert "opentelemetry.trace" in seen["after_call"]
    assert seen["status"] == 404 and seen["traceparent_sent"] is False
    assert seen["ingester_reporter"] == "OtelIngesterTelemetry"


def test_without_opentelemetry_calls_work_and_nothing_of_it_is_loaded() -> None:
    seen = otel_probe("absent")

    assert seen["after_import"] == [] and seen["after_call"] == []
    assert seen["status"] == 404 and seen["traceparent_sent"] is False
    assert seen["ingester_reporter"] == "IngesterTelemetry"
