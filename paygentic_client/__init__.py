# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
"""A client library for accessing Paygentic usage events API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
