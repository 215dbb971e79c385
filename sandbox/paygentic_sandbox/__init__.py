"""paygentic_sandbox: a reference server for the Paygentic usage-events API.

It implements the five operations of `openapi.yaml` (shipped with this package) on SQLite,
validates every request against that spec, and can inject faults for reliability tests.
Run it with `python -m paygentic_sandbox` or the `paygentic-sandbox` console script; in a
pytest suite, use the fixtures of `paygentic_sandbox.pytest_plugin` (installed with the
package: `paygentic_sandbox`, `paygentic_sandbox_factory`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from paygentic_sandbox.config import DEMO_MERCHANT_ID, DEMO_TOKEN

if TYPE_CHECKING:
    from paygentic_sandbox.app import SandboxApp, create_app
    from paygentic_sandbox.faults import FaultPlan
    from paygentic_sandbox.process import SandboxProcess
    from paygentic_sandbox.testing import Sandbox

__all__ = [
    "DEMO_MERCHANT_ID",
    "DEMO_TOKEN",
    "FaultPlan",
    "Sandbox",
    "SandboxApp",
    "SandboxProcess",
    "create_app",
]

# Imported on first use: pytest loads the plugin (and so this package) in every session of a
# user's suite, and the server's modules (starlette, the spec's validators) take ~0.3 s.
_LAZY = {
    "SandboxApp": "paygentic_sandbox.app",
    "create_app": "paygentic_sandbox.app",
    "FaultPlan": "paygentic_sandbox.faults",
    "SandboxProcess": "paygentic_sandbox.process",
    "Sandbox": "paygentic_sandbox.testing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'paygentic_sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
