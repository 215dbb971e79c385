"""The repository's sandbox fixtures, built on the plugin that `paygentic-sandbox` installs
(paygentic_sandbox.pytest_plugin, registered by its `pytest11` entry point, so not listed in
conftest's pytest_plugins): real processes on 127.0.0.1 and a free port, always stopped.

    def test_something(sandbox: SandboxProcess) -> None:            # shared, session-wide
        httpx.get(sandbox.url + "/v0/usage/usg_1", headers=AUTH)

    def test_faults(sandbox_factory: SandboxFactory) -> None:       # one of your own
        server = sandbox_factory(faults="503=0.5", seed=1)

Registered for every test by tests/conftest.py. TOKEN acts for MERCHANT_ID, OTHER_TOKEN for
OTHER_MERCHANT_ID. A new test that needs a merchant of its own takes the plugin's
`paygentic_sandbox` fixture instead (docs/sandbox/testing.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pytest
from paygentic_sandbox.process import SandboxProcess
from paygentic_sandbox.pytest_plugin import SandboxFactory as PluginFactory
from paygentic_sandbox.testing import SandboxServer

TOKEN = "test_token_merchant_a"
MERCHANT_ID = "org_testmerchanta"
OTHER_TOKEN = "test_token_merchant_b"
OTHER_MERCHANT_ID = "org_testmerchantb"
TOKENS = {TOKEN: MERCHANT_ID, OTHER_TOKEN: OTHER_MERCHANT_ID}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}


class SandboxFactory(Protocol):
    def __call__(self, **options: Any) -> SandboxProcess: ...


@pytest.fixture(scope="session")
def sandbox(paygentic_sandbox_server: SandboxServer) -> SandboxProcess:
    """The plugin's session-wide sandbox, where TOKENS act for their merchants."""
    for token, merchant_id in TOKENS.items():
        paygentic_sandbox_server.new_merchant(token, merchant_id)
    return paygentic_sandbox_server.process


@pytest.fixture
def sandbox_factory(paygentic_sandbox_factory: PluginFactory, tmp_path: Path) -> SandboxFactory:
    """Start sandboxes with options of SandboxProcess (defaults: TOKENS and a database file
    in tmp_path) through the plugin's factory, which stops them after the test."""

    def start(**options: Any) -> SandboxProcess:
        options.setdefault("db", tmp_path / "sandbox.db")
        options.setdefault("tokens", TOKENS)
        return paygentic_sandbox_factory(**options).process

    return start
