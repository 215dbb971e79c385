# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import item_error as _item_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "message": "message",
        "errors": "errors",
        "error": "error",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        errors = [errors_item_data.to_dict() for errors_item_data in self.errors]

        field_dict: dict[str, Any] = {
            "message": self.message,
            "errors": errors,
        }
        if self.error is not UNSET:
            field_dict["error"] = self.error
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
            validation_error = _new(cls)
            validation_error.message = "" + d["message"]

            _errors = d["errors"]
            if type(_errors) is not list:
                raise TypeError(f"expected an array, got {type(_errors).__name__}")
            errors: list[ValidationErrorDetail] = []
            for errors_item_data in _errors:
                errors_item = _new(ValidationErrorDetail)
                errors_item_present = 3
                errors_item.field = "" + errors_item_data["field"]
                errors_item.message = "" + errors_item_data["message"]
                errors_item.code = errors_item_code = errors_item_data.get("code", UNSET)
                if not (type(errors_item_code) is str or errors_item_code is None):
                    if errors_item_code is not UNSET:
                        raise TypeError()
                    errors_item_present -= 1
                if len(errors_item_data) > errors_item_present:
                    errors_item.additional_properties = _unknown_fields(
                        errors_item_data, ValidationErrorDetail._json_keys
                    )
                else:
                    errors_item.additional_properties = _NO_UNKNOWN_FIELDS
                errors.append(errors_item)

            error: Literal["validation_error"] | Unset = d.get("error", UNSET)
            if error != "validation_error" and not isinstance(error, Unset):
                raise ValueError(f"error must match const 'validation_error', got '{error}'")

            if error is UNSET:
                fields_present -= 1
            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            validation_error.errors = errors
            validation_error.error = error
            if len(d) > fields_present:
                validation_error.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                validation_error.additional_properties = _NO_UNKNOWN_FIELDS
            return validation_error
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
            message = "" + d["message"]
        except Exception as reading_error:
            raise _field_error(reading_error, "message", d, "string") from reading_error

        try:
            _errors = d["errors"]
            if type(_errors) is not list:
                raise TypeError(f"expected an array, got {type(_errors).__name__}")
            errors = list(map(_VALIDATION_ERROR_DETAIL_FROM_DICT, _errors))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "errors", ValidationErrorDetail.from_dict, d
            ) from reading_error

        try:
            error: Literal["validation_error"] | Unset = d.get("error", UNSET)
            if error != "validation_error" and not isinstance(error, Unset):
                raise ValueError(f"error must match const 'validation_error', got '{error}'")
        except Exception as reading_error:
            raise _field_error(reading_error, "error", d) from reading_error

        if error is UNSET:
            fields_present -= 1
        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        validation_error = _new(cls)
        validation_error.message = message
        validation_error.errors = errors
        validation_error.error = error
        if len(d) > fields_present:
            validation_error.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            validation_error.additional_properties = _NO_UNKNOWN_FIELDS
        return validation_error


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.validation_error_detail import ValidationErrorDetail  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_VALIDATION_ERROR_DETAIL_FROM_DICT = ValidationErrorDetail.from_dict
