# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type
from .._runtime.timestamps import fromisoformat as _fromisoformat
from .._runtime.timestamps import isoformat as _isoformat
from ..models.dispute_status import DisputeStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Dispute")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Dispute:
    """A customer's dispute of a usage event, populated by the
    server; it cannot be set in request bodies.

    Attributes:
        id (str): Unique identifier of the dispute.
        object_ (Literal['dispute']): Always "dispute".
        usage_event_id (str): The disputed usage event.
        customer_id (str): The customer who disputes the event.
        merchant_id (str): The merchant organisation the event belongs to.
        status (DisputeStatus): Where a dispute stands: `pending` (open), `accepted`
            (resolved for the customer) or `declined` (resolved for
            the merchant).
        created_at (datetime.datetime): When the dispute was opened.
        updated_at (datetime.datetime): When the dispute last changed.
        customer_message (None | str | Unset): The customer's explanation.
        merchant_message (None | str | Unset): The merchant's answer, once given.
        disputed_amount (None | str | Unset): Disputed amount as a decimal string.
        resolved_at (datetime.datetime | None | Unset): When the dispute was accepted or
            declined; absent or
            null while pending.
    """

    id: str
    object_: Literal["dispute"]
    usage_event_id: str
    customer_id: str
    merchant_id: str
    status: DisputeStatus
    created_at: datetime.datetime
    updated_at: datetime.datetime
    customer_message: None | str | Unset = UNSET
    merchant_message: None | str | Unset = UNSET
    disputed_amount: None | str | Unset = UNSET
    resolved_at: datetime.datetime | None | Unset = UNSET
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "id": "id",
        "object_": "object",
        "usage_event_id": "usageEventId",
        "customer_id": "customerId",
        "merchant_id": "merchantId",
        "status": "status",
        "created_at": "createdAt",
        "updated_at": "updatedAt",
        "customer_message": "customerMessage",
        "merchant_message": "merchantMessage",
        "disputed_amount": "disputedAmount",
        "resolved_at": "resolvedAt",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        created_at = _isoformat(self.created_at)

        updated_at = _isoformat(self.updated_at)

        resolved_at: None | str | Unset
        if isinstance(self.resolved_at, Unset):
            resolved_at = UNSET
        elif isinstance(self.resolved_at, datetime.datetime):
            resolved_at = _isoformat(self.resolved_at)
        else:
            resolved_at = self.resolved_at

        field_dict: dict[str, Any] = {
            "id": self.id,
            "object": self.object_,
            "usageEventId": self.usage_event_id,
            "customerId": self.customer_id,
            "merchantId": self.merchant_id,
            "status": status,
            "createdAt": created_at,
            "updatedAt": updated_at,
        }
        if self.customer_message is not UNSET:
            field_dict["customerMessage"] = self.customer_message
        if self.merchant_message is not UNSET:
            field_dict["merchantMessage"] = self.merchant_message
        if self.disputed_amount is not UNSET:
            field_dict["disputedAmount"] = self.disputed_amount
        if resolved_at is not UNSET:
            field_dict["resolvedAt"] = resolved_at
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
            fields_present = 12
            dispute = _new(cls)
            dispute.id = "" + d["id"]

            object_: Literal["dispute"] = d["object"]
            if object_ != "dispute":
                raise ValueError(f"object must match const 'dispute', got '{object_}'")

            dispute.usage_event_id = "" + d["usageEventId"]

            dispute.customer_id = "" + d["customerId"]

            dispute.merchant_id = "" + d["merchantId"]

            _status = d["status"]
            try:
                status = _DISPUTE_STATUS_BY_VALUE[_status]
            except (KeyError, TypeError):
                status = DisputeStatus(_status)

            dispute.created_at = _fromisoformat(d["createdAt"])

            dispute.updated_at = _fromisoformat(d["updatedAt"])

            customer_message: None | str | Unset = d.get("customerMessage", UNSET)
            if not (type(customer_message) is str or customer_message is None):
                if customer_message is not UNSET:
                    raise _wrong_type(customer_message, "string or null or absent")
                fields_present -= 1

            merchant_message: None | str | Unset = d.get("merchantMessage", UNSET)
            if not (type(merchant_message) is str or merchant_message is None):
                if merchant_message is not UNSET:
                    raise _wrong_type(merchant_message, "string or null or absent")
                fields_present -= 1

            disputed_amount: None | str | Unset = d.get("disputedAmount", UNSET)
            if not (type(disputed_amount) is str or disputed_amount is None):
                if disputed_amount is not UNSET:
                    raise _wrong_type(disputed_amount, "string or null or absent")
                fields_present -= 1

            _resolved_at = d.get("resolvedAt", UNSET)
            resolved_at: datetime.datetime | None | Unset
            if _resolved_at is None:
                resolved_at = None
            elif _resolved_at is not UNSET and isinstance(_resolved_at, str):
                resolved_at_type_0 = _fromisoformat(_resolved_at)
                resolved_at = resolved_at_type_0
            elif _resolved_at is UNSET:
                resolved_at = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_resolved_at, "date-time string or null or absent")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            dispute.object_ = object_
            dispute.status = status
            dispute.customer_message = customer_message
            dispute.merchant_message = merchant_message
            dispute.disputed_amount = disputed_amount
            dispute.resolved_at = resolved_at
            if len(d) > fields_present:
                dispute.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                dispute.additional_properties = _NO_UNKNOWN_FIELDS
            return dispute
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 12
        try:
            id = "" + d["id"]
        except Exception as reading_error:
            raise _field_error(reading_error, "id", d, "string") from reading_error

        try:
            object_: Literal["dispute"] = d["object"]
            if object_ != "dispute":
                raise ValueError(f"object must match const 'dispute', got '{object_}'")
        except Exception as reading_error:
            raise _field_error(reading_error, "object", d) from reading_error

        try:
            usage_event_id = "" + d["usageEventId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "usageEventId", d, "string") from reading_error

        try:
            customer_id = "" + d["customerId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "customerId", d, "string") from reading_error

        try:
            merchant_id = "" + d["merchantId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "merchantId", d, "string") from reading_error

        try:
            _status = d["status"]
            try:
                status = _DISPUTE_STATUS_BY_VALUE[_status]
            except (KeyError, TypeError):
                status = DisputeStatus(_status)
        except Exception as reading_error:
            raise _field_error(reading_error, "status", d) from reading_error

        try:
            created_at = _fromisoformat(d["createdAt"])
        except Exception as reading_error:
            raise _field_error(reading_error, "createdAt", d) from reading_error

        try:
            updated_at = _fromisoformat(d["updatedAt"])
        except Exception as reading_error:
            raise _field_error(reading_error, "updatedAt", d) from reading_error

        try:
            customer_message: None | str | Unset = d.get("customerMessage", UNSET)
            if not (type(customer_message) is str or customer_message is None):
                if customer_message is not UNSET:
                    raise _wrong_type(customer_message, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "customerMessage", d) from reading_error

        try:
            merchant_message: None | str | Unset = d.get("merchantMessage", UNSET)
            if not (type(merchant_message) is str or merchant_message is None):
                if merchant_message is not UNSET:
                    raise _wrong_type(merchant_message, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "merchantMessage", d) from reading_error

        try:
            disputed_amount: None | str | Unset = d.get("disputedAmount", UNSET)
            if not (type(disputed_amount) is str or disputed_amount is None):
                if disputed_amount is not UNSET:
                    raise _wrong_type(disputed_amount, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "disputedAmount", d) from reading_error

        try:
            _resolved_at = d.get("resolvedAt", UNSET)
            resolved_at: datetime.datetime | None | Unset
            if _resolved_at is None:
                resolved_at = None
            elif _resolved_at is not UNSET and isinstance(_resolved_at, str):
                resolved_at_type_0 = _fromisoformat(_resolved_at)
                resolved_at = resolved_at_type_0
            elif _resolved_at is UNSET:
                resolved_at = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_resolved_at, "date-time string or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "resolvedAt", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        dispute = _new(cls)
        dispute.id = id
        dispute.object_ = object_
        dispute.usage_event_id = usage_event_id
        dispute.customer_id = customer_id
        dispute.merchant_id = merchant_id
        dispute.status = status
        dispute.created_at = created_at
        dispute.updated_at = updated_at
        dispute.customer_message = customer_message
        dispute.merchant_message = merchant_message
        dispute.disputed_amount = disputed_amount
        dispute.resolved_at = resolved_at
        if len(d) > fields_present:
            dispute.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            dispute.additional_properties = _NO_UNKNOWN_FIELDS
        return dispute


# from_dict looks the members of enums up here by value: ~30 ns, where the Enum call takes ~300 ns.
_DISPUTE_STATUS_BY_VALUE: dict[object, DisputeStatus] = {
    member.value: member for member in DisputeStatus
}
