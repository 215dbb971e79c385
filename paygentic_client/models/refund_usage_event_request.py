# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define

from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import wrong_type as _wrong_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="RefundUsageEventRequest")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class RefundUsageEventRequest:
    """The body of a refund. Refunding reverts the consumption
    the event recorded; a refund cannot be undone or
    repeated (a second one is answered 422).

    Attributes:
        refunded (bool): Must be `true`; a refund cannot be undone.
        reason (str | Unset): Why the event is refunded.
    """

    refunded: bool
    reason: str | Unset = UNSET

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "refunded": "refunded",
        "reason": "reason",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "refunded": self.refunded,
        }
        if self.reason is not UNSET:
            field_dict["reason"] = self.reason

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = src_dict
            refund_usage_event_request = _new(cls)
            refunded = d["refunded"]
            if type(refunded) is not bool:
                raise _wrong_type(refunded, "boolean")

            reason = d.get("reason", UNSET)
            if type(reason) is not str and reason is not UNSET:
                raise _wrong_type(reason, "string")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            refund_usage_event_request.refunded = refunded
            refund_usage_event_request.reason = reason
            return refund_usage_event_request
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            refunded = d["refunded"]
            if type(refunded) is not bool:
                raise _wrong_type(refunded, "boolean")
        except Exception as reading_error:
            raise _field_error(reading_error, "refunded", d, "boolean") from reading_error

        try:
            reason = d.get("reason", UNSET)
            if type(reason) is not str and reason is not UNSET:
                raise _wrong_type(reason, "string")
        except Exception as reading_error:
            raise _field_error(reading_error, "reason", d, "string") from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        refund_usage_event_request = _new(cls)
        refund_usage_event_request.refunded = refunded
        refund_usage_event_request.reason = reason
        return refund_usage_event_request
