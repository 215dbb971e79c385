# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

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

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        billing_event_id: None | str | Unset = d.get("billingEventId", UNSET)

        currency: None | str | Unset = d.get("currency", UNSET)

        invoice_id: None | str | Unset = d.get("invoiceId", UNSET)

        price: int | None | Unset = d.get("price", UNSET)

        total_tax: int | None | Unset = d.get("totalTax", UNSET)

        total_amount: int | None | Unset = d.get("totalAmount", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        billing = _new(cls)
        billing.billing_event_id = billing_event_id
        billing.currency = currency
        billing.invoice_id = invoice_id
        billing.price = price
        billing.total_tax = total_tax
        billing.total_amount = total_amount

        return billing
