"""Where an ingester's events wait, as its arguments (spool=, store=) said: what it opens,
and what a forked child opens instead. One source for both drivers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import NamedTuple

from . import forks
from .spool import Durability, Spool
from .stores import MemoryStore, SpoolStore, Store, reopen

__all__ = ["SpoolOptions", "StorePlan"]


class SpoolOptions(NamedTuple):
    path: str | os.PathLike[str]
    durability: Durability
    lease: float


@dataclass(frozen=True)
class StorePlan:
    """given: the caller's own store (store=, the PostgreSQL outbox), used as it is. spool: an
    open Spool the caller gave (spool=Spool(...)), used as it is in this process. options: how
    to open the spool (again, in a forked child). None of them: memory."""

    given: Store | None = None
    spool: Spool | None = None
    options: SpoolOptions | None = None

    @classmethod
    def of(
        cls,
        spool: str | os.PathLike[str] | Spool | None,
        durability: Durability,
        lease: float,
        store: Store | None,
    ) -> StorePlan:
        """The plan of an ingester's spool=, durability=, spool_lease= and store=."""
        if store is not None:
            if spool is not None:
                raise ValueError("pass spool= or store=, not both")
            return cls(given=store)
        if isinstance(spool, Spool):
            return cls(spool=spool, options=SpoolOptions(spool.path, spool.durability, spool.lease))
        if spool is not None:
            return cls(options=SpoolOptions(spool, durability, lease))
        return cls()

    @property
    def opens_a_file(self) -> bool:
        """Whether open() opens a SQLite file (it blocks: asyncio does it in a thread)."""
        return self.given is None and self.spool is None and self.options is not None

    def open(self) -> Store:
        if self.given is not None:
            return self.given
        if self.spool is not None:
            return SpoolStore(self.spool)
        if self.options is not None:
            path, durability, lease = self.options
            return SpoolStore(Spool(path, durability=durability, lease=lease))
        return MemoryStore()

    def keep_parents(self, store: Store | None) -> None:
        """In a forked child: the parent's stores (the one in use, the caller's) are kept
        referenced, never used or closed (closing the child's copy of a SQLite connection
        could delete the WAL file under the parent)."""
        for kept in {id(each): each for each in (store, self.given) if each is not None}.values():
            if kept is self.given or isinstance(kept, SpoolStore):
                forks.keep_inherited(kept)

    def for_child(self) -> StorePlan:
        """What a forked child opens: the spool again, or the caller's store's reopen()."""
        given = None if self.given is None else reopen(self.given)
        return StorePlan(given=given, options=self.options)
