"""Reading answers leniently, and saying exactly where one cannot be read.

The generated models call these (scripts/templates/model.py.jinja, str_enum.py.jinja):
- an enum value the spec does not list becomes a pseudo-member of the enum (`unknown_member`):
  an instance of it that equals and prints as its string, but is not in the enum's iteration;
- a field whose value cannot be read (missing, of another type, a nested error) raises
  errors.ResponseValidationError with its path (`located_error`, which reads the object
  again field by field, then `field_error`, `item_error`, `wrong_type`);
- `drift_of` finds what a newer API added (unknown fields and enum values) for
  `strict_responses=True`.

Only the failing path comes here: from_dict's happy path runs no call into this module, and
its one `try` costs nothing until something raises (Python 3.11's zero-cost exceptions, but
for a NOP and a jump per `try` block: hence one for the whole object).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from ..errors import ResponseValidationError

E = TypeVar("E", bound=StrEnum)

# The additional_properties of every model read without unknown fields: one shared read-only
# mapping rather than a new dict per object.
NO_UNKNOWN_FIELDS: Mapping[str, Any] = MappingProxyType({})
# The types of a JSON number (`type(x) in NUMBER_TYPES`: one test, not two; a bool is not one).
NUMBER_TYPES = (int, float)

# JSON's names for Python's types, for the reasons of errors.
_JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    dict: "object",
}


def unknown_member(cls: type[E], value: object) -> E | None:
    """A pseudo-member of the str enum cls for a string value it does not list, for
    `_missing_`: `cls(value)` then answers it instead of raising ValueError.

    It is an instance of cls (so the static type of the field stays the enum), equal to its
    string and printed as it, and `.value` and `.name` are the string, so it is sent back
    unchanged. Enum never stores what `_missing_` returns: the enum's members, `len()`,
    iteration and `__members__` stay the listed ones (`is_known` tells an unknown value).
    Each call makes a new pseudo-member (an API sending ever new values must not grow a
    cache); they are equal to each other as strings. Not a string: None, and the Enum call
    raises its ValueError.
    """
    if not isinstance(value, str):
        return None
    member = str.__new__(cls, value)
    # The two attributes an Enum member carries (enum's documented _sunder_ names).
    member._value_ = value
    member._name_ = value
    return member


def is_known(member: Enum) -> bool:
    """Whether an enum value is one the spec lists (False for a pseudo-member). Not
    `member in type(member)`: Python 3.11 answers that by name, and a pseudo-member of
    "ACCEPTED" has the name of the member ACCEPTED."""
    return type(member).__members__.get(member.name) is member


def type_name(value: object) -> str:
    """The JSON type of a decoded value, for messages."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def wrong_type(value: object, expected: str) -> ResponseValidationError:
    """The error of a value of another type than the field's."""
    return ResponseValidationError(f"expected {expected}, got {type_name(value)}")


def field_error(
    error: Exception, key: str, data: object, expected: str = ""
) -> ResponseValidationError:
    """The ResponseValidationError for `error`, raised while reading the field `key` of the
    object `data` (whose plain values are of the JSON type `expected`): an error from
    further in gets the key in front of its path."""
    if isinstance(error, ResponseValidationError):
        return error.at(key)
    if not isinstance(data, Mapping):
        # Not an object at all: the first key read failed for that reason, not its own.
        return ResponseValidationError(f"expected object, got {type_name(data)}")
    if isinstance(error, KeyError) and key not in data:
        return ResponseValidationError("required field is missing", key)
    if isinstance(error, TypeError) and expected and key in data:
        return wrong_type(data[key], expected).at(key)
    return ResponseValidationError(_reason(error), key)


def item_error(
    error: Exception, key: str, parse: Callable[[Any], object], data: object
) -> ResponseValidationError:
    """The error of the list field `key` of the object `data`, whose items `parse` could not
    all read: found again item by item (the slow path: only when something failed), so that
    the path has the index of the first bad item, e.g. `data[3].subscriptionId`."""
    if not isinstance(data, Mapping) or key not in data:
        return field_error(error, key, data)
    items = data[key]
    if not isinstance(items, list):
        return ResponseValidationError(f"expected array, got {type_name(items)}", key)
    for index, item in enumerate(items):
        try:
            parse(item)
        except Exception as inner:  # noqa: BLE001 -- whatever it is, it is this item's
            found = inner if isinstance(inner, ResponseValidationError) else None
            if found is None:
                found = ResponseValidationError(_reason(inner))
            return found.at(index).at(key)
    return field_error(error, key, data)


def located_error(
    error: Exception, read_located: Callable[[Any], object], data: object
) -> ResponseValidationError:
    """The ResponseValidationError of an object that a model's from_dict could not read
    (`error`): `read_located` (the model's _from_dict_located) reads it again, each field in
    its own `try`, and raises it with the path of the field that failed. from_dict reads all
    its fields in one `try`, which costs less than one per field (the slow path: only when
    something failed)."""
    try:
        read_located(data)
    except ResponseValidationError as located:
        return located
    # Not expected (the same reads fail the same way), but never a bare error.
    if isinstance(error, ResponseValidationError):
        return error
    return ResponseValidationError(_reason(error))


def unknown_fields(data: Mapping[str, Any], json_keys: Mapping[str, str]) -> dict[str, Any]:
    """The fields of an object that its model does not declare (a newer API's), in order."""
    known = set(json_keys.values())
    return {key: value for key, value in data.items() if key not in known}


def drift_of(value: object) -> ResponseValidationError | None:
    """The first thing in a parsed answer that the spec does not describe: a field in
    `additional_properties` of a model whose schema lists its fields, or an enum value that
    is not a member. None when the answer is exactly as documented."""
    keys: Mapping[str, str] | None = getattr(type(value), "_json_keys", None)
    if keys is not None:
        if getattr(type(value), "_closed", False):
            extra: Mapping[str, Any] = getattr(value, "additional_properties", {})
            for name in extra:
                return ResponseValidationError("a field the spec does not define", name)
        for attribute, key in keys.items():
            found = drift_of(getattr(value, attribute))
            if found is not None:
                return found.at(key)
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = drift_of(item)
            if found is not None:
                return found.at(index)
        return None
    if isinstance(value, Enum) and not is_known(value):
        values = ", ".join(repr(member.value) for member in type(value))
        return ResponseValidationError(
            f"{value.value!r} is not a value of {type(value).__name__} ({values})"
        )
    return None


def _reason(error: Exception) -> str:
    """An exception as the reason of a ResponseValidationError."""
    text = str(error) if not isinstance(error, KeyError) else f"no key {error}"
    return f"{text} ({type(error).__name__})" if text else type(error).__name__
