# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type
from .._runtime.timestamps import fromisoformat as _fromisoformat
from .._runtime.timestamps import isoformat as _isoformat
from ..types import UNSET, Unset

T = TypeVar("T", bound="Refund")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Refund:
    """Refund information for the usage event when it has been
    refunded. This object is populated by the server and
    returned in GET and PATCH responses. It cannot be set
    directly in request bodies.

    Attributes:
        refunded_at (datetime.datetime): When the event was refunded (RFC 3339, UTC).
        reason (None | str | Unset): Why the event was refunded, as given in the refund
            request.
    """

    refunded_at: datetime.datetime
    reason: None | str | Unset = UNSET
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "refunded_at": "refundedAt",
        "reason": "reason",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        refunded_at = _isoformat(self.refunded_at)

        field_dict: dict[str, Any] = {
            "refundedAt": refunded_at,
        }
        if self.reason is not UNSET:
            field_dict["reason"] = self.reason
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
            fields_present = 2
            refund = _new(cls)
            refund.refunded_at = _fromisoformat(d["refundedAt"])

            reason: None | str | Unset = d.get("reason", UNSET)
            if not (type(reason) is str or reason is None):
                if reason is not UNSET:
                    raise _wrong_type(reason, "string or null or absent")
                fields_present -= 1

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            refund.reason = reason
            if len(d) > fields_present:
                refund.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                refund.additional_properties = _NO_UNKNOWN_FIELDS
            return refund
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 2
        try:
            refunded_at = _fromisoformat(d["refundedAt"])
        except Exception as reading_error:
            raise _field_error(reading_error, "refundedAt", d) from reading_error

        try:
            reason: None | str | Unset = d.get("reason", UNSET)
            if not (type(reason) is str or reason is None):
                if reason is not UNSET:
                    raise _wrong_type(reason, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "reason", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        refund = _new(cls)
        refund.refunded_at = refunded_at
        refund.reason = reason
        if len(d) > fields_present:
            refund.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            refund.additional_properties = _NO_UNKNOWN_FIELDS
        return refund
