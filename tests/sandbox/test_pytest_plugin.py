"""The pytest plugin of paygentic-sandbox (paygentic_sandbox/pytest_plugin.py), as a user's
suite meets it: a merchant of one's own per test on a shared server, faults for a block,
the factory's options, and the failure when a sandbox process is left running."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
from paygentic_sandbox.process import SandboxStartError
from paygentic_sandbox.pytest_plugin import SandboxFactory
from paygentic_sandbox.testing import Sandbox, SandboxServer


def send(sandbox: Sandbox, key: str, customer: str = "cus_1") -> httpx.Response:
    body = {
        "idempotencyKey": key,
        "customerId": customer,
        "merchantId": sandbox.merchant_id,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "properties": [{"billableMetricId": "bm_calls", "quantity": 2}],
    }
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    return httpx.post(sandbox.url + "/v0/usage", json=body, headers=headers, timeout=10)


def test_each_test_gets_a_merchant_of_its_own_on_the_shared_server(
    paygentic_sandbox: Sandbox, paygentic_sandbox_server: SandboxServer
) -> None:
    neighbour = paygentic_sandbox_server.new_merchant()
    assert paygentic_sandbox.process is neighbour.process
    assert paygentic_sandbox.merchant_id != neighbour.merchant_id
    assert send(paygentic_sandbox, "a", "cus_1").status_code == 201
    assert send(paygentic_sandbox, "b", "cus_2").status_code == 201
    assert send(neighbour, "a").status_code == 201
    assert [e["idempotencyKey"] for e in paygentic_sandbox.events()] == ["a", "b"]
    assert [e["customerId"] for e in paygentic_sandbox.events(customer_id="cus_2")] == ["cus_2"]
    assert len(neighbour.events()) == 1


def test_faults_hold_for_the_block_and_for_this_merchant_only(
    paygentic_sandbox: Sandbox, paygentic_sandbox_server: SandboxServer
) -> None:
    neighbour = paygentic_sandbox_server.new_merchant()
    with paygentic_sandbox.faults("503=1"):
        assert send(paygentic_sandbox, "k").status_code == 503
        assert send(neighbour, "k").status_code == 201
        assert paygentic_sandbox.events() == []  # reading what was stored is never faulted
    assert send(paygentic_sandbox, "k").status_code == 201
    with pytest.raises(RuntimeError), paygentic_sandbox.faults("drop-after-commit=1"):
        raise RuntimeError("the block fails")
    assert send(paygentic_sandbox, "k2").status_code == 201  # the faults ended with it


def test_the_factory_starts_a_server_with_its_options(
    paygentic_sandbox_factory: SandboxFactory,
) -> None:
    # null_optionals is SandboxProcess's; access_log is not: it becomes --access-log.
    sandbox = paygentic_sandbox_factory(null_optionals=True, access_log=True)
    assert "--access-log" in sandbox.process.command()
    assert send(sandbox, "k").status_code == 201
    (event,) = sandbox.events()
    assert "refund" in event and event["refund"] is None
    # An unknown option reaches the server as a flag, which refuses it (argparse: status 2).
    with pytest.raises(SandboxStartError, match="exited with status 2"):
        paygentic_sandbox_factory(no_such_flag=True)


def test_the_plugin_is_registered_once(pytestconfig: pytest.Config) -> None:
    plugins = [
        plugin
        for plugin in pytestconfig.pluginmanager.get_plugins()
        if getattr(plugin, "__name__", "") == "paygentic_sandbox.pytest_plugin"
    ]
    assert len(plugins) == 1
    assert pytestconfig.pluginmanager.get_plugin("paygentic_sandbox") is plugins[0]


def run(pytester: pytest.Pytester, source: str) -> Any:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)


def test_a_test_that_leaves_a_sandbox_process_running_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from paygentic_sandbox import SandboxProcess

def test_forgets_to_stop():
    SandboxProcess().start()

def test_stops_it():
    with SandboxProcess():
        pass
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_user.py::test_forgets_to_stop left a sandbox process behind (pid * at http://127.0.0.1:*"
        ]
    )


def test_a_fixture_that_leaves_a_sandbox_process_running_fails_the_session(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
import pytest
from paygentic_sandbox import SandboxProcess

@pytest.fixture(scope="module")
def leaky():
    yield SandboxProcess().start()

def test_uses_it(leaky):
    assert leaky.startswith("http://127.0.0.1:")
""",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*sandbox processes were still running at the end of the session*"]
    )
