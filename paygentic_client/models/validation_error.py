# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ValidationError")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class ValidationError:
    """The body of a 400 for a request that violates the
    schema, with every field-level error.

    Attributes:
        message (str): A summary readable by a person.
        errors (list[ValidationErrorDetail]): Every field-level error, at least one.
        error (Literal['validation_error'] | Unset): Always "validation_error".
    """

    message: str
    errors: list[ValidationErrorDetail]
    error: Literal["validation_error"] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        errors = [errors_item_data.to_dict() for errors_item_data in self.errors]

        field_dict: dict[str, Any] = {
            "message": self.message,
            "errors": errors,
        }
        if self.error is not UNSET:
            field_dict["error"] = self.error

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        message = d["message"]

        errors = list(map(ValidationErrorDetail.from_dict, d["errors"]))

        error: Literal["validation_error"] | Unset = d.get("error", UNSET)
        if error != "validation_error" and not isinstance(error, Unset):
            raise ValueError(f"error must match const 'validation_error', got '{error}'")

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        validation_error = _new(cls)
        validation_error.message = message
        validation_error.errors = errors
        validation_error.error = error

        return validation_error


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.validation_error_detail import ValidationErrorDetail  # noqa: E402
