"""A check that a parsed value is of its annotation's type all the way down, shared by the
drift tests of the client (tests/client/test_client_drift.py) and the property tests against
a drifted sandbox (tests/property/test_property_client.py): a lenient client must never
hand back a value of another type than the one its model declares."""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs


def check_types(value: Any, hint: Any, where: str) -> None:
    """value is of the annotation hint, all the way down (models, lists, unions, enums)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for member in typing.get_args(hint):
            try:
                check_types(value, member, where)
                return
            except AssertionError as error:
                errors.append(str(error))
        raise AssertionError(f"{where}: {value!r} is none of {hint}: {errors}")
    if origin is list:
        assert type(value) is list, f"{where}: {value!r} is not a list"
        for index, item in enumerate(value):
            check_types(item, typing.get_args(hint)[0], f"{where}[{index}]")
        return
    if origin is typing.Literal:
        assert value in typing.get_args(hint), f"{where}: {value!r} is not {hint}"
        return
    if origin is not None:  # dict[str, str], Mapping[str, Any]
        assert isinstance(value, origin), f"{where}: {value!r} is not {hint}"
        return
    if hint is Any:
        return
    if hint is type(None):
        assert value is None, f"{where}: {value!r} is not None"
        return
    if hint is float:
        assert type(value) in (int, float), f"{where}: {value!r} is not a number"
        return
    assert isinstance(value, hint), f"{where}: {value!r} is not a {hint.__name__}"
    if hint in (int, str):
        assert type(value) is hint, f"{where}: {value!r} is not exactly a {hint.__name__}"
    if attrs.has(hint):
        hints = typing.get_type_hints(hint)
        for field in attrs.fields(hint):
            check_types(getattr(value, field.name), hints[field.name], f"{where}.{field.name}")
