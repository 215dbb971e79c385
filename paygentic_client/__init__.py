# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
"""A client library for accessing Paygentic usage events API"""

from .client import AuthenticatedClient, Client
from .lib.idempotency import derive_idempotency_key
from .lib.ingest import AsyncUsageIngester, UsageIngester

__all__ = (
    "AsyncUsageIngester",
    "AuthenticatedClient",
    "Client",
    "UsageIngester",
    "derive_idempotency_key",
)
