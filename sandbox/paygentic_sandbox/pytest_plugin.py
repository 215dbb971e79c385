"""The sandbox in your pytest suite. Installing `paygentic-sandbox` registers this plugin
(the `pytest11` entry point); there is nothing to configure.

    def test_usage_is_recorded(paygentic_sandbox):
        client = AuthenticatedClient(base_url=paygentic_sandbox.url, token=paygentic_sandbox.token)
        ...  # your code sends usage for paygentic_sandbox.merchant_id
        assert len(paygentic_sandbox.events(customer_id="cus_1")) == 1

Fixtures:
    paygentic_sandbox          a merchant of its own on a sandbox shared by the session: the
                               server starts once (~1 s), each test gets a fresh token and
                               merchant (~1 ms), so no test sees another's events or faults
    paygentic_sandbox_factory  `paygentic_sandbox_factory(**options)`: a server of its own, for
                               server-wide options: faults="503=0.2", seed=1,
                               null_optionals=True, spec="openapi.yaml", db=path, tokens={...};
                               any other option becomes a flag (drift=7 -> --drift 7). Stopped
                               after the test.
    paygentic_sandbox_server   the session's shared server (SandboxServer: `new_merchant()`).

A test that starts a sandbox process itself (SandboxProcess) and leaves it running fails in
its teardown with the process named; one left by a fixture is reported at the end of the
session, which then fails.

Turn the plugin off with `-p no:paygentic_sandbox`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paygentic_sandbox.process import SandboxProcess, running_processes
from paygentic_sandbox.testing import Sandbox, SandboxServer, start_sandbox

SandboxFactory = Callable[..., Sandbox]

_STARTED_BY_CALL = pytest.StashKey[list[SandboxProcess]]()


@pytest.fixture(scope="session")
def paygentic_sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox process for the whole session (in-memory database, control API on)."""
    with SandboxServer.start() as server:
        yield server


@pytest.fixture
def paygentic_sandbox(paygentic_sandbox_server: SandboxServer) -> Sandbox:
    """A fresh merchant and its token on the session's sandbox."""
    return paygentic_sandbox_server.new_merchant()


@pytest.fixture
def paygentic_sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandbox processes of your own; every one is stopped after the test."""
    started: list[Sandbox] = []

    def start(**options: Any) -> Sandbox:
        sandbox = start_sandbox(**options)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.process.stop()


def _describe(process: SandboxProcess) -> str:
    return f"pid {process.pid} at {process.url}" if process.running else repr(process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    before = set(running_processes())
    try:
        return (yield)
    finally:
        item.stash[_STARTED_BY_CALL] = [p for p in running_processes() if p not in before]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    result = yield
    left = [process for process in item.stash.get(_STARTED_BY_CALL, []) if process.running]
    if left:
        names = ", ".join(map(_describe, left))
        for process in left:
            process.stop()
        pytest.fail(
            f"{item.nodeid} left a sandbox process behind ({names}); it is stopped now. "
            "Stop what you start (`with SandboxProcess(...) as server:`), or use the "
            "paygentic_sandbox / paygentic_sandbox_factory fixtures, which stop theirs.",
            pytrace=False,
        )
    return result


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # trylast: after pytest's own sessionfinish has torn down the session's fixtures.
    left = running_processes()
    if not left:
        return
    names = ", ".join(map(_describe, left))
    for process in left:
        process.stop()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"paygentic_sandbox: sandbox processes were still running at the end of the session "
        f"({names}); they are stopped now. A fixture that starts one must stop it."
    )
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
