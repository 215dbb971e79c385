"""Whether OpenTelemetry instruments this process.

The client depends on `opentelemetry-api` only through the `otel` extra, and imports it on the
first request or ingester, never with `import paygentic_client`: a process without it pays
nothing, and one with it pays the import once, where it uses the client. The modules that use
the API (http_telemetry.py, ingest_telemetry.py) import it at their top and are themselves
imported only once `enabled()` said yes. The application configures the SDK (or not: the API
alone is a no-op); we only use the global tracer and meter providers. `PAYGENTIC_OTEL=off`
switches our instrumentation off even when both are installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SWITCH_VARIABLE = "PAYGENTIC_OTEL"
_OFF = frozenset({"off", "0", "false", "no"})

# The name of our tracers and meters (the instrumentation scope).
SCOPE = "paygentic_client"

_installed: bool | None = None


def switched_off(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(SWITCH_VARIABLE, "").strip().lower() in _OFF


def enabled() -> bool:
    """True when the OpenTelemetry API is installed and PAYGENTIC_OTEL is not `off`.

    The variable is read on every call (a dict lookup), so it may be flipped in a running
    process; whether the API is installed is found out once, without importing it.
    """
    global _installed
    if switched_off():
        return False
    if _installed is None:
        _installed = _api_installed()
    return _installed


def _api_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except ImportError:  # no `opentelemetry` namespace package at all
        return False


def error_type(error: BaseException) -> str:
    """`error.type` for an exception: its class, named as users import it (`httpx.ReadTimeout`,
    not `httpx._exceptions.ReadTimeout`). Here, not in http_telemetry.py, so that the ingesters
    can name what failed whether OpenTelemetry is installed or not."""
    cls = type(error)
    package = cls.__module__.partition(".")[0]
    return f"{package}.{cls.__qualname__}" if package != "builtins" else cls.__qualname__
