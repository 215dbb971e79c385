"""Issue 24: the two ingester drivers only move bytes and time, and stay thin. Their lines of
code (scripts/code_lines.py: no blanks, comments or docstrings) are held to a budget, so that
logic both need goes to the shared modules (driver_base.py, driver_flows.py, store_plan.py)
rather than into each."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.scripts_modules import load

INGEST = Path(__file__).resolve().parents[2] / "paygentic_client" / "ingest"
# The issue asks for about 400; before the shared modules they were 773.
DRIVERS_BUDGET = 445


@pytest.mark.timeout(10)
def test_the_two_drivers_stay_within_their_budget_of_code_lines() -> None:
    counted = load("code_lines").code_lines
    lines = sum(counted((INGEST / name).read_text()) for name in ("threaded.py", "aio.py"))
    assert lines <= DRIVERS_BUDGET, f"threaded.py + aio.py: {lines} lines of code"


@pytest.mark.timeout(10)
def test_the_counter_skips_blanks_comments_and_docstrings_only() -> None:
    source = '''"""A module docstring
on two lines."""

# a comment
def f() -> str:
    """Its docstring."""
    text = """not a docstring"""
    return text  # counted
'''
    assert load("code_lines").code_lines(source) == 3
