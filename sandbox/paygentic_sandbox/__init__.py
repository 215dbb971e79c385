"""paygentic_sandbox: a reference server for the Paygentic usage-events API.

It implements the five operations of `openapi.yaml` (shipped with this package) on SQLite,
validates every request against that spec, and can inject faults for reliability tests.
Run it with `python -m paygentic_sandbox` or the `paygentic-sandbox` console script.
"""

from paygentic_sandbox.app import SandboxApp, create_app
from paygentic_sandbox.faults import FaultPlan
from paygentic_sandbox.process import SandboxProcess

__all__ = [
    "DEMO_MERCHANT_ID",
    "DEMO_TOKEN",
    "FaultPlan",
    "SandboxApp",
    "SandboxProcess",
    "create_app",
]

from paygentic_sandbox.config import DEMO_MERCHANT_ID, DEMO_TOKEN
