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

T = TypeVar("T", bound="Billing")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Billing:
    """Billing information for the usage event when it has been
    billed. This object is populated by the server and
    returned in GET and PATCH responses. It cannot be set
    directly in request bodies. Amounts are integers in
    atomic units (1000000000 = one unit of `currency`);
    totalAmount = price + totalTax.

    Attributes:
        billing_event_id (None | str | Unset): The billing event created for this usage,
            `bev_...`.
        currency (None | str | Unset): ISO 4217 currency code.
        invoice_id (None | str | Unset): The invoice the billing event is on, once invoiced.
        price (int | None | Unset): The price of the usage before tax, in atomic units
            (1000000000 = one unit of `currency`).
        total_tax (int | None | Unset): The tax on the usage, in atomic units.
        total_amount (int | None | Unset): price + totalTax, in atomic units.
    """

    billing_event_id: None | str | Unset = UNSET
    currency: None | str | Unset = UNSET
    invoice_id: None | str | Unset = UNSET
    price: int | None | Unset = UNSET
    total_tax: int | None | Unset = UNSET
    total_amount: int | None | Unset = UNSET
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "billing_event_id": "billingEventId",
        "currency": "currency",
        "invoice_id": "invoiceId",
        "price": "price",
        "total_tax": "totalTax",
        "total_amount": "totalAmount",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {}
        if self.billing_event_id is not UNSET:
            field_dict["billingEventId"] = self.billing_event_id
        if self.currency is not UNSET:
            field_dict["currency"] = self.currency
        if self.invoice_id is not UNSET:
            field_dict["invoiceId"] = self.invoice_id
        if self.price is not UNSET:
            field_dict["price"] = self.price
        if self.total_tax is not UNSET:
            field_dict["totalTax"] = self.total_tax
        if self.total_amount is not UNSET:
            field_dict["totalAmount"] = self.total_amount
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
            fields_present = 6
            billing = _new(cls)
            billing_event_id: None | str | Unset = d.get("billingEventId", UNSET)
            if not (type(billing_event_id) is str or billing_event_id is None):
                if billing_event_id is not UNSET:
                    raise _wrong_type(billing_event_id, "string or null or absent")
                fields_present -= 1

            currency: None | str | Unset = d.get("currency", UNSET)
            if not (type(currency) is str or currency is None):
                if currency is not UNSET:
                    raise _wrong_type(currency, "string or null or absent")
                fields_present -= 1

            invoice_id: None | str | Unset = d.get("invoiceId", UNSET)
            if not (type(invoice_id) is str or invoice_id is None):
                if invoice_id is not UNSET:
                    raise _wrong_type(invoice_id, "string or null or absent")
                fields_present -= 1

            price: int | None | Unset = d.get("price", UNSET)
            if not (type(price) is int or price is None):
                if price is not UNSET:
                    raise _wrong_type(price, "integer or null or absent")
                fields_present -= 1

            total_tax: int | None | Unset = d.get("totalTax", UNSET)
            if not (type(total_tax) is int or total_tax is None):
                if total_tax is not UNSET:
                    raise _wrong_type(total_tax, "integer or null or absent")
                fields_present -= 1

            total_amount: int | None | Unset = d.get("totalAmount", UNSET)
            if not (type(total_amount) is int or total_amount is None):
                if total_amount is not UNSET:
                    raise _wrong_type(total_amount, "integer or null or absent")
                fields_present -= 1

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            billing.billing_event_id = billing_event_id
            billing.currency = currency
            billing.invoice_id = invoice_id
            billing.price = price
            billing.total_tax = total_tax
            billing.total_amount = total_amount
            if len(d) > fields_present:
                billing.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                billing.additional_properties = _NO_UNKNOWN_FIELDS
            return billing
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 6
        try:
            billing_event_id: None | str | Unset = d.get("billingEventId", UNSET)
            if not (type(billing_event_id) is str or billing_event_id is None):
                if billing_event_id is not UNSET:
                    raise _wrong_type(billing_event_id, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "billingEventId", d) from reading_error

        try:
            currency: None | str | Unset = d.get("currency", UNSET)
            if not (type(currency) is str or currency is None):
                if currency is not UNSET:
                    raise _wrong_type(currency, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "currency", d) from reading_error

        try:
            invoice_id: None | str | Unset = d.get("invoiceId", UNSET)
            if not (type(invoice_id) is str or invoice_id is None):
                if invoice_id is not UNSET:
                    raise _wrong_type(invoice_id, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "invoiceId", d) from reading_error

        try:
            price: int | None | Unset = d.get("price", UNSET)
            if not (type(price) is int or price is None):
                if price is not UNSET:
                    raise _wrong_type(price, "integer or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "price", d) from reading_error

        try:
            total_tax: int | None | Unset = d.get("totalTax", UNSET)
            if not (type(total_tax) is int or total_tax is None):
                if total_tax is not UNSET:
                    raise _wrong_type(total_tax, "integer or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "totalTax", d) from reading_error

        try:
            total_amount: int | None | Unset = d.get("totalAmount", UNSET)
            if not (type(total_amount) is int or total_amount is None):
                if total_amount is not UNSET:
                    raise _wrong_type(total_amount, "integer or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "totalAmount", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        billing = _new(cls)
        billing.billing_event_id = billing_event_id
        billing.currency = currency
        billing.invoice_id = invoice_id
        billing.price = price
        billing.total_tax = total_tax
        billing.total_amount = total_amount
        if len(d) > fields_present:
            billing.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            billing.additional_properties = _NO_UNKNOWN_FIELDS
        return billing
