"""Helpers shared by the test modules: fixtures, fakes, servers and spec readers."""
