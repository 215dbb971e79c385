# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import wrong_type as _wrong_type

T = TypeVar("T", bound="Metadata")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Metadata:
    """Custom key-value attributes about the consumption, at
    most 50, values strings; stored and returned as sent,
    e.g. {"model_name": "claude-3-opus", "input_tokens":
    "1500"}.

    """

    additional_properties: dict[str, str] = _attrs_field(init=False, factory=dict)

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {}
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = dict(self.additional_properties)

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = {**src_dict}
            metadata = _new(cls)
            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            for prop in d.values():
                if type(prop) is not str:
                    raise TypeError()
            metadata.additional_properties = d
            return metadata
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        if type(src_dict) is not dict and not isinstance(src_dict, Mapping):
            raise _wrong_type(src_dict, "object")
        d = dict(src_dict)
        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        metadata = _new(cls)
        for prop in d.values():
            if type(prop) is not str:
                raise _field_error(
                    TypeError(), next(k for k, v in d.items() if v is prop), d, "string"
                )
        metadata.additional_properties = d
        return metadata

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> str:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
