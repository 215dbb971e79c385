"""Defaults of the generated clients."""

# The production server, servers[0] of openapi.yaml (a test keeps the two in step).
PRODUCTION_BASE_URL = "https://api.paygentic.io"
