# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Billing")


@_attrs_define
class Billing:
    """Billing information for the usage event when it has been billed. This object
    is populated by the server and returned in GET and PATCH responses. It cannot
    be set directly in request bodies. Amounts are integers in atomic units
    (1000000000 = one unit of `currency`); totalAmount = price + totalTax.

        Attributes:
            billing_event_id (None | str | Unset):
            currency (None | str | Unset): ISO 4217 currency code.
            invoice_id (None | str | Unset):
            price (int | None | Unset):
            total_tax (int | None | Unset):
            total_amount (int | None | Unset):
    """

    billing_event_id: None | str | Unset = UNSET
    currency: None | str | Unset = UNSET
    invoice_id: None | str | Unset = UNSET
    price: int | None | Unset = UNSET
    total_tax: int | None | Unset = UNSET
    total_amount: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        billing_event_id: None | str | Unset = self.billing_event_id

        currency: None | str | Unset = self.currency

        invoice_id: None | str | Unset = self.invoice_id

        price: int | None | Unset = self.price

        total_tax: int | None | Unset = self.total_tax

        total_amount: int | None | Unset = self.total_amount

        field_dict: dict[str, Any] = {}
        if billing_event_id is not UNSET:
            field_dict["billingEventId"] = billing_event_id
        if currency is not UNSET:
            field_dict["currency"] = currency
        if invoice_id is not UNSET:
            field_dict["invoiceId"] = invoice_id
        if price is not UNSET:
            field_dict["price"] = price
        if total_tax is not UNSET:
            field_dict["totalTax"] = total_tax
        if total_amount is not UNSET:
            field_dict["totalAmount"] = total_amount

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        billing_event_id: None | str | Unset = d.get("billingEventId", UNSET)

        currency: None | str | Unset = d.get("currency", UNSET)

        invoice_id: None | str | Unset = d.get("invoiceId", UNSET)

        price: int | None | Unset = d.get("price", UNSET)

        total_tax: int | None | Unset = d.get("totalTax", UNSET)

        total_amount: int | None | Unset = d.get("totalAmount", UNSET)

        # In the order the attributes are declared: positional arguments are much faster.
        billing = cls(
            billing_event_id,
            currency,
            invoice_id,
            price,
            total_tax,
            total_amount,
        )

        return billing
