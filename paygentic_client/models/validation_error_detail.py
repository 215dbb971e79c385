# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ValidationErrorDetail")


@_attrs_define
class ValidationErrorDetail:
    """
    Attributes:
        field (str): Where the error is, e.g. `events[3].properties[0].quantity`.
        message (str):
        code (None | str | Unset):
    """

    field: str
    message: str
    code: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        field = self.field

        message = self.message

        code: None | str | Unset = self.code

        field_dict: dict[str, Any] = {
            "field": field,
            "message": message,
        }
        if code is not UNSET:
            field_dict["code"] = code

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        field = d["field"]

        message = d["message"]

        code: None | str | Unset = d.get("code", UNSET)

        # In the order the attributes are declared: positional arguments are much faster.
        validation_error_detail = cls(
            field,
            message,
            code,
        )

        return validation_error_detail
