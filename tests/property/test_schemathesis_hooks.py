"""The schemathesis hook's timestamp repair (scripts/schemathesis_hooks.py): a positive create
whose schema-valid date-time falls outside the years 0001-9999 in UTC is given its wall time
in UTC, which the API accepts; everything else is left as generated."""

from __future__ import annotations

import datetime
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import schemathesis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The hooks file as a module of its own, its `@schemathesis.hook` made a no-op while it
    loads: registering its map_case a second time (the property tests load it through
    schemathesis.toml) would map every case twice, for another merchant."""

    def not_registered(function: Callable[..., Any]) -> Callable[..., Any]:
        return function

    monkeypatch.setattr(schemathesis, "hook", not_registered)
    monkeypatch.setenv("PAYGENTIC_MERCHANT_ID", "org_testmerchant")
    spec = importlib.util.spec_from_file_location(
        "hooks_under_test", ROOT / "scripts" / "schemathesis_hooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("stamp", "repaired"),
    [
        ("0001-01-01T01:00:00+02:03", "0001-01-01T01:00:00+00:00"),
        ("0001-01-01t00:00:00.5+00:01", "0001-01-01T00:00:00.500000+00:00"),
        ("9999-12-31T23:30:00-01:00", "9999-12-31T23:30:00+00:00"),
    ],
)
def test_an_instant_outside_the_utc_years_gets_its_wall_time_in_utc(
    hooks: ModuleType, stamp: str, repaired: str
) -> None:
    assert hooks.within_utc_years(stamp) == repaired
    moment = datetime.datetime.fromisoformat(repaired)
    assert moment.astimezone(datetime.UTC).year in (1, 9999)


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-01-15T10:30:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T05:00:00+02:00",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T22:00:00-01:00",
        "not a date",
        "2024-01-15T10:30:00",
    ],
)
def test_anything_else_is_left_as_generated(hooks: ModuleType, stamp: str) -> None:
    assert hooks.within_utc_years(stamp) == stamp
