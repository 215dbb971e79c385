"""Fault injection for reliability tests (`--faults`), off by default.

Syntax: a comma-separated list of NAME=VALUE, for example
    drop-after-commit=0.2,503=0.1,429=0.05,latency=0.01:0.05,retry-after=1

    drop-after-commit=P  with probability P, handle the request (commit its transaction),
                         then abort the connection without sending any response
    503=P                with probability P, answer 503 before anything is written
    429=P                with probability P, answer 429 with a Retry-After header
    retry-after=SECONDS  the Retry-After value of those 429s (an integer, default 1)
    latency=S or MIN:MAX add S seconds (or a uniform random delay between MIN and MAX)
                         to every API request

The three probabilities are exclusive outcomes of one draw per request, so their sum must be
at most 1. Faults apply only to the five API operations, after authentication. `--seed`
makes the draws reproducible.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class Fault(enum.Enum):
    NONE = "none"
    DROP_AFTER_COMMIT = "drop-after-commit"
    UNAVAILABLE = "503"
    RATE_LIMITED = "429"


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultPlan:
    drop_after_commit: float = 0.0
    unavailable: float = 0.0
    rate_limited: float = 0.0
    retry_after_seconds: int = 1
    latency: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        values: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, equals, value = item.partition("=")
            if not equals or not value.strip():
                raise FaultSpecError(f"{item!r}: expected NAME=VALUE")
            values[name.strip()] = value.strip()
        unknown = set(values) - {"drop-after-commit", "503", "429", "retry-after", "latency"}
        if unknown:
            raise FaultSpecError(f"unknown fault {sorted(unknown)[0]!r}")
        plan = cls(
            drop_after_commit=_probability(values, "drop-after-commit"),
            unavailable=_probability(values, "503"),
            rate_limited=_probability(values, "429"),
            retry_after_seconds=_whole_seconds(values.get("retry-after", "1")),
            latency=_latency(values.get("latency", "0")),
        )
        if plan.drop_after_commit + plan.unavailable + plan.rate_limited > 1:
            raise FaultSpecError("the probabilities of the faults add up to more than 1")
        return plan

    @property
    def enabled(self) -> bool:
        return self != FaultPlan()

    def describe(self) -> str:
        """The plan in the syntax `parse` reads ("" when no fault is injected)."""
        items = [
            f"{name}={probability:g}"
            for name, probability in (
                ("drop-after-commit", self.drop_after_commit),
                ("503", self.unavailable),
                ("429", self.rate_limited),
            )
            if probability
        ]
        if self.rate_limited:
            items.append(f"retry-after={self.retry_after_seconds}")
        low, high = self.latency
        if high:
            items.append(f"latency={low:g}" if low == high else f"latency={low:g}:{high:g}")
        return ",".join(items)


def _probability(values: dict[str, str], name: str) -> float:
    try:
        probability = float(values.get(name, "0"))
    except ValueError:
        raise FaultSpecError(f"{name}: {values[name]!r} is not a number") from None
    if not 0 <= probability <= 1:
        raise FaultSpecError(f"{name}: a probability must be between 0 and 1")
    return probability


def _whole_seconds(text: str) -> int:
    if not text.isdigit():
        raise FaultSpecError(f"retry-after: {text!r} is not a whole number of seconds")
    return int(text)


def _latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise FaultSpecError(f"latency: {text!r} is not SECONDS or MIN:MAX") from None
    if not 0 <= bounds[0] <= bounds[1] or bounds[1] > 60:
        raise FaultSpecError("latency: need 0 <= MIN <= MAX <= 60 seconds")
    return bounds


class FaultInjector:
    """Draws the fault of each request from a plan, with its own (seedable) generator."""

    def __init__(self, plan: FaultPlan, seed: int | None = None) -> None:
        self.plan = plan
        self._random = random.Random(seed)

    def draw(self) -> Fault:
        if not self.plan.enabled:
            return Fault.NONE
        draw = self._random.random()
        for fault, probability in (
            (Fault.DROP_AFTER_COMMIT, self.plan.drop_after_commit),
            (Fault.UNAVAILABLE, self.plan.unavailable),
            (Fault.RATE_LIMITED, self.plan.rate_limited),
        ):
            if draw < probability:
                return fault
            draw -= probability
        return Fault.NONE

    def delay(self) -> float:
        low, high = self.plan.latency
        return low if low == high else self._random.uniform(low, high)
