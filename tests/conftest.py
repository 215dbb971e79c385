"""Shared fixtures: see tests/sandbox_fixture.py."""

from sandbox_fixture import sandbox, sandbox_factory

__all__ = ["sandbox", "sandbox_factory"]
