"""Shared fixtures (see tests/sandbox_fixture.py), Hypothesis settings, and the count of
property-test cases printed at the end of the session."""

import pytest
from hypothesis import settings
from property_support import CASES, client_sandbox, null_optionals_sandbox, property_sandbox
from sandbox_fixture import sandbox, sandbox_factory

__all__ = [
    "client_sandbox",
    "null_optionals_sandbox",
    "property_sandbox",
    "sandbox",
    "sandbox_factory",
]

# Hypothesis's example database would otherwise land in .hypothesis/ in the repository.
settings.register_profile("paygentic", database=None)
settings.load_profile("paygentic")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES:
        terminalreporter.section("property-test cases run")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{name}: {count}")
        terminalreporter.write_line(f"total: {sum(CASES.values())}")
