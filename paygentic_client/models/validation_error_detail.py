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
from ..types import UNSET, Unset

T = TypeVar("T", bound="ValidationErrorDetail")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class ValidationErrorDetail:
    """One field of the request that violates the schema.

    Attributes:
        field (str): Where the error is, e.g. `events[3].properties[0].quantity`.
        message (str): What is wrong with the field, e.g. "must be greater than
            or equal to 1".
        code (None | str | Unset): The violated rule, e.g. `minimum` or `required`.
    """

    field: str
    message: str
    code: None | str | Unset = UNSET
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "field": "field",
        "message": "message",
        "code": "code",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "field": self.field,
            "message": self.message,
        }
        if self.code is not UNSET:
            field_dict["code"] = self.code
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
            fields_present = 3
            validation_error_detail = _new(cls)
            validation_error_detail.field = "" + d["field"]

            validation_error_detail.message = "" + d["message"]

            code: None | str | Unset = d.get("code", UNSET)
            if not (type(code) is str or code is None):
                if code is not UNSET:
                    raise _wrong_type(code, "string or null or absent")
                fields_present -= 1

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            validation_error_detail.code = code
            if len(d) > fields_present:
                validation_error_detail.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                validation_error_detail.additional_properties = _NO_UNKNOWN_FIELDS
            return validation_error_detail
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 3
        try:
            field = "" + d["field"]
        except Exception as reading_error:
            raise _field_error(reading_error, "field", d, "string") from reading_error

        try:
            message = "" + d["message"]
        except Exception as reading_error:
            raise _field_error(reading_error, "message", d, "string") from reading_error

        try:
            code: None | str | Unset = d.get("code", UNSET)
            if not (type(code) is str or code is None):
                if code is not UNSET:
                    raise _wrong_type(code, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "code", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        validation_error_detail = _new(cls)
        validation_error_detail.field = field
        validation_error_detail.message = message
        validation_error_detail.code = code
        if len(d) > fields_present:
            validation_error_detail.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            validation_error_detail.additional_properties = _NO_UNKNOWN_FIELDS
        return validation_error_detail
