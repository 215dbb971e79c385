"""Fixtures that run the sandbox for tests: a real process on 127.0.0.1 and a free port,
with a temporary SQLite file, always stopped.

    def test_something(sandbox: SandboxProcess) -> None:            # shared, session-wide
        httpx.get(sandbox.url + "/v0/usage/usg_1", headers=AUTH)

    def test_faults(sandbox_factory: SandboxFactory) -> None:       # one of your own
        server = sandbox_factory(faults="503=0.5", seed=1)

Registered for every test by tests/conftest.py. TOKEN acts for MERCHANT_ID, OTHER_TOKEN for
OTHER_MERCHANT_ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from paygentic_sandbox.process import SandboxProcess

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
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One sandbox shared by the session (TOKENS, a temporary database file)."""
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    with SandboxProcess(db=db, tokens=TOKENS) as server:
        yield server


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start sandboxes with options of SandboxProcess (defaults: TOKENS and a database file
    in tmp_path); every one still running is stopped after the test."""
    started: list[SandboxProcess] = []

    def start(**options: Any) -> SandboxProcess:
        options.setdefault("db", tmp_path / "sandbox.db")
        options.setdefault("tokens", TOKENS)
        server = SandboxProcess(**options)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
