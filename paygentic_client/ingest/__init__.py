"""High-volume ingestion: batching ingesters that deliver every usage event exactly once.

`UsageIngester` (threads) and `AsyncUsageIngester` (asyncio) are thin drivers around one
sans-I/O core (core.py): `submit()` enqueues an event and returns a handle that resolves to
the created `UsageEvent`; batches of up to 1000 events go out in the background, and a batch
that fails as a whole is sent again with the same idempotency keys. With `spool=PATH` the
events wait in a durable SQLite file instead of memory (spool.py, spooled.py).
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
