"""Where an ingester's events wait (ingest/store_plan.py): what spool= and store= open, in
this process and in a forked child."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paygentic_client.ingest import forks
from paygentic_client.ingest.spool import Spool
from paygentic_client.ingest.store_plan import SpoolOptions, StorePlan
from paygentic_client.ingest.stores import MemoryStore, SpoolStore


class OwnStore(MemoryStore):
    """A caller's store (as the PostgreSQL outbox is) that reopens as a new one."""

    def __init__(self) -> None:
        super().__init__()
        self.reopened: OwnStore | None = None

    def reopen(self) -> OwnStore:
        self.reopened = OwnStore()
        return self.reopened


@pytest.mark.timeout(10)
def test_no_spool_and_no_store_is_memory() -> None:
    plan = StorePlan.of(None, "process-crash", 30.0, None)
    assert not plan.opens_a_file
    assert type(plan.open()) is MemoryStore


@pytest.mark.timeout(10)
def test_a_spool_path_opens_the_file_with_its_options(tmp_path: Path) -> None:
    plan = StorePlan.of(tmp_path / "s.db", "power-loss", 12.0, None)
    assert plan.opens_a_file
    store = plan.open()
    try:
        assert isinstance(store, SpoolStore)
        assert store.spool.durability == "power-loss" and store.lease == 12.0
    finally:
        store.close()


@pytest.mark.timeout(10)
def test_an_open_spool_is_used_as_it_is_and_a_child_opens_its_file_again(
    tmp_path: Path,
) -> None:
    with Spool(tmp_path / "s.db", lease=7.0) as spool:
        plan = StorePlan.of(spool, "process-crash", 30.0, None)
        assert not plan.opens_a_file
        store = plan.open()
        assert isinstance(store, SpoolStore) and store.spool is spool
        child = plan.for_child()
        assert child.spool is None and child.opens_a_file
        assert child.options == SpoolOptions(spool.path, spool.durability, 7.0)


@pytest.mark.timeout(10)
def test_a_store_of_the_callers_is_used_as_it_is_and_reopened_in_a_child() -> None:
    own = OwnStore()
    plan = StorePlan.of(None, "process-crash", 30.0, own)
    assert plan.open() is own
    child = plan.for_child()
    assert own.reopened is not None and child.open() is own.reopened


@pytest.mark.timeout(10)
def test_spool_and_store_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        StorePlan.of(tmp_path / "s.db", "process-crash", 30.0, OwnStore())


@pytest.mark.timeout(10)
def test_a_child_keeps_the_parents_stores_but_not_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept: list[Any] = []
    monkeypatch.setattr(forks, "keep_inherited", kept.append)
    own = OwnStore()
    StorePlan.of(None, "process-crash", 30.0, own).keep_parents(own)
    StorePlan().keep_parents(MemoryStore())
    assert kept == [own]
