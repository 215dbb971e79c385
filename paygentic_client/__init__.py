"""paygentic_client: the Python client of the Paygentic usage-events API.

The client (`AuthenticatedClient`), its operations (`paygentic_client.api.usage_events`), the
models (`paygentic_client.models`) and the errors (`paygentic_client.errors`) load with this
package. The ingesters and the idempotency-key helper (`paygentic_client.ingest`) load the
first time one of them is used: a program that only makes calls never pays for their threads,
queues or exit hook.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._runtime.config import version as _version
from ._runtime.retries import RetryPolicy
from .client import AuthenticatedClient, Client
from .errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConfigurationError,
    PaygenticError,
)

if TYPE_CHECKING:
    from .ingest import AsyncUsageIngester, UsageIngester, derive_idempotency_key

__version__: str = _version()

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AsyncUsageIngester",
    "AuthenticatedClient",
    "Client",
    "ConfigurationError",
    "PaygenticError",
    "RetryPolicy",
    "UsageIngester",
    "__version__",
    "derive_idempotency_key",
]

# Names served by paygentic_client.ingest, imported on first use (PEP 562).
_LAZY = frozenset({"AsyncUsageIngester", "UsageIngester", "derive_idempotency_key"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(".ingest", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
