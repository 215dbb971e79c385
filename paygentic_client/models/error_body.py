# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Error:
    """The body of an error answer. `code`, when present, is a
    business reason from a closed list (such as
    `TAX_NOT_ENABLED` or `PAYMENT_SESSION_EXPIRED`); errors
    without one carry no `code`.

    Attributes:
        message (str): What went wrong, readable by a person.
        error (None | str | Unset): Coarse category such as "bad_request" or "not_found".
        code (None | str | Unset): UPPER_SNAKE_CASE business code.
        details (ErrorDetails | None | Unset): Structured context about the error.
    """

    message: str
    error: None | str | Unset = UNSET
    code: None | str | Unset = UNSET
    details: ErrorDetails | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        details: dict[str, Any] | None | Unset
        if isinstance(self.details, Unset):
            details = UNSET
        elif isinstance(self.details, ErrorDetails):
            details = self.details.to_dict()
        else:
            details = self.details

        field_dict: dict[str, Any] = {
            "message": self.message,
        }
        if self.error is not UNSET:
            field_dict["error"] = self.error
        if self.code is not UNSET:
            field_dict["code"] = self.code
        if details is not UNSET:
            field_dict["details"] = details

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        message = d["message"]

        error: None | str | Unset = d.get("error", UNSET)

        code: None | str | Unset = d.get("code", UNSET)

        _details = d.get("details", UNSET)
        details: ErrorDetails | None | Unset
        if _details is not None and _details is not UNSET and isinstance(_details, dict):
            try:
                details_type_0 = ErrorDetails.from_dict(_details)
                details = details_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                details = cast(ErrorDetails | None | Unset, _details)
        else:
            details = _details

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        error_body = _new(cls)
        error_body.message = message
        error_body.error = error
        error_body.code = code
        error_body.details = details

        return error_body


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.error_details import ErrorDetails  # noqa: E402
