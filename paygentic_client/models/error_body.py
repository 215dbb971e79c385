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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "message": "message",
        "error": "error",
        "code": "code",
        "details": "details",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

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
            fields_present = 4
            error_body = _new(cls)
            error_body.message = "" + d["message"]

            error: None | str | Unset = d.get("error", UNSET)
            if not (type(error) is str or error is None):
                if error is not UNSET:
                    raise _wrong_type(error, "string or null or absent")
                fields_present -= 1

            code: None | str | Unset = d.get("code", UNSET)
            if not (type(code) is str or code is None):
                if code is not UNSET:
                    raise _wrong_type(code, "string or null or absent")
                fields_present -= 1

            _details = d.get("details", UNSET)
            details: ErrorDetails | None | Unset
            if _details is None:
                details = None
            elif _details is not UNSET and isinstance(_details, dict):
                details_type_0 = _ERROR_DETAILS_FROM_DICT(_details)
                details = details_type_0
            elif _details is UNSET:
                details = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_details, "object or null or absent")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            error_body.error = error
            error_body.code = code
            error_body.details = details
            if len(d) > fields_present:
                error_body.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                error_body.additional_properties = _NO_UNKNOWN_FIELDS
            return error_body
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 4
        try:
            message = "" + d["message"]
        except Exception as reading_error:
            raise _field_error(reading_error, "message", d, "string") from reading_error

        try:
            error: None | str | Unset = d.get("error", UNSET)
            if not (type(error) is str or error is None):
                if error is not UNSET:
                    raise _wrong_type(error, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "error", d) from reading_error

        try:
            code: None | str | Unset = d.get("code", UNSET)
            if not (type(code) is str or code is None):
                if code is not UNSET:
                    raise _wrong_type(code, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "code", d) from reading_error

        try:
            _details = d.get("details", UNSET)
            details: ErrorDetails | None | Unset
            if _details is None:
                details = None
            elif _details is not UNSET and isinstance(_details, dict):
                details_type_0 = _ERROR_DETAILS_FROM_DICT(_details)
                details = details_type_0
            elif _details is UNSET:
                details = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_details, "object or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "details", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        error_body = _new(cls)
        error_body.message = message
        error_body.error = error
        error_body.code = code
        error_body.details = details
        if len(d) > fields_present:
            error_body.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            error_body.additional_properties = _NO_UNKNOWN_FIELDS
        return error_body


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.error_details import ErrorDetails  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_ERROR_DETAILS_FROM_DICT = ErrorDetails.from_dict
