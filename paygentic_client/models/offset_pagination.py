# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type

T = TypeVar("T", bound="OffsetPagination")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class OffsetPagination:
    """Where a page lies among all matching events.

    Attributes:
        limit (int): The page size asked for (1 to 100).
        offset (int): Number of matching events before this page.
        total (int): Number of events matching the filters, over all pages.
    """

    limit: int
    offset: int
    total: int
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "limit": "limit",
        "offset": "offset",
        "total": "total",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "limit": self.limit,
            "offset": self.offset,
            "total": self.total,
        }
        if self.additional_properties:
            # The fields a newer API sent, back as they came (a declared field wins).
            for prop_name, prop in self.additional_properties.items():
                field_dict.setdefault(prop_name, prop)

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = src_dict
            offset_pagination = _new(cls)
            limit = d["limit"]
            if type(limit) is not int:
                raise _wrong_type(limit, "integer")

            offset = d["offset"]
            if type(offset) is not int:
                raise _wrong_type(offset, "integer")

            total = d["total"]
            if type(total) is not int:
                raise _wrong_type(total, "integer")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            offset_pagination.limit = limit
            offset_pagination.offset = offset
            offset_pagination.total = total
            if len(d) > 3:
                offset_pagination.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                offset_pagination.additional_properties = _NO_UNKNOWN_FIELDS
            return offset_pagination
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            limit = d["limit"]
            if type(limit) is not int:
                raise _wrong_type(limit, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "limit", d, "integer") from reading_error

        try:
            offset = d["offset"]
            if type(offset) is not int:
                raise _wrong_type(offset, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "offset", d, "integer") from reading_error

        try:
            total = d["total"]
            if type(total) is not int:
                raise _wrong_type(total, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "total", d, "integer") from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        offset_pagination = _new(cls)
        offset_pagination.limit = limit
        offset_pagination.offset = offset
        offset_pagination.total = total
        if len(d) > 3:
            offset_pagination.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            offset_pagination.additional_properties = _NO_UNKNOWN_FIELDS
        return offset_pagination
