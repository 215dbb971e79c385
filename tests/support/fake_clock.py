"""A clock for code that takes one as a parameter: it stands still until a test moves it."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now
