"""The ingesters' fixtures: `ingesting` makes an ingester of each of the four kinds (the test
runs once per driver × store: threads or asyncio, memory or spool); see
tests/support/ingest_harness.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.ingest_harness import Asynchronous, Ingesting, IngestingFactory, Threaded

from paygentic_client import AuthenticatedClient


@pytest.fixture(params=["threads", "asyncio"])
def driver(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture(params=["memory", "spool"])
def store(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def ingesting(driver: str, store: str, tmp_path: Path) -> Iterator[IngestingFactory]:
    """Make ingesters of this test's driver and store; each is closed (1 s deadline) and its
    loop stopped after the test."""
    made: list[Ingesting] = []

    def make(client: AuthenticatedClient, **options: Any) -> Ingesting:
        spool = tmp_path / f"spool-{len(made)}.db" if store == "spool" else None
        kind = Threaded if driver == "threads" else Asynchronous
        ingester = kind(client, spool, **options)
        made.append(ingester)
        return ingester

    yield make
    for ingester in made:
        if isinstance(ingester, Asynchronous):
            ingester.stop()
        else:
            ingester.close(1.0)
