"""High-volume ingestion: batching ingesters that deliver every usage event exactly once.

`submit()` enqueues an event and returns a handle that resolves to the created `UsageEvent`;
batches of up to 1000 events go out in the background, and a batch that gets no answer about
its events is sent again with the same idempotency keys.

The design, one file each:
- engine.py: the one delivery engine, sans-I/O. It owns all delivery state (what waits, what
  is in flight, the retry schedule, the counters, the lifecycle as one table of transitions)
  and its flows yield what to do: send this body, wait until then, call the store, resolve
  these handles.
- stores.py: where events wait, behind one protocol: memory, or a durable SQLite spool
  (spool.py) with `spool=PATH`, to which each ingester commits its own events through a
  journal of its own (journal.py) and delivers them from memory.
- threaded.py (`UsageIngester`) and aio.py (`AsyncUsageIngester`): the drivers; they only
  perform the engine's actions with threads or asyncio tasks. What they share is written once:
  driver_base.py (settings, the engine and its reporter, encoding, stats, the start afresh
  after fork), driver_flows.py (a sender that outlives a bug; the close and its deadlines),
  store_plan.py (what spool= and store= open), group_commit.py (spool appends that share a
  commit or a sync). forks.py: what fork() does to either (one registry, one set of hooks).
- core.py: pure helpers (encoding, batch bodies, what an answer means, the failure log);
  handles.py: both drivers' handles; idempotency.py: derived keys.
"""

from ..errors import (
    EventRejectedError,
    IngesterClosedError,
    IngestError,
    QueueFullError,
    SpoolError,
)
from .aio import AsyncEventFuture, AsyncUsageIngester
from .core import IngestStats
from .idempotency import derive_idempotency_key
from .spool import Spool, SpoolStatus
from .threaded import DEFAULT_CLOSE_TIMEOUT, DEFAULT_EXIT_TIMEOUT, EventHandle, UsageIngester

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_EXIT_TIMEOUT",
    "AsyncEventFuture",
    "AsyncUsageIngester",
    "EventHandle",
    "EventRejectedError",
    "IngestError",
    "IngestStats",
    "IngesterClosedError",
    "QueueFullError",
    "Spool",
    "SpoolError",
    "SpoolStatus",
    "UsageIngester",
    "derive_idempotency_key",
]
