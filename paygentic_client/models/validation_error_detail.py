# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

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

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "field": self.field,
            "message": self.message,
        }
        if self.code is not UNSET:
            field_dict["code"] = self.code

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        field = d["field"]

        message = d["message"]

        code: None | str | Unset = d.get("code", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        validation_error_detail = _new(cls)
        validation_error_detail.field = field
        validation_error_detail.message = message
        validation_error_detail.code = code

        return validation_error_detail
