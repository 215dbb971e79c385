# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

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
        billing_event_id: None | str | Unset
        if isinstance(self.billing_event_id, Unset):
            billing_event_id = UNSET
        else:
            billing_event_id = self.billing_event_id

        currency: None | str | Unset
        currency = UNSET if isinstance(self.currency, Unset) else self.currency

        invoice_id: None | str | Unset
        invoice_id = UNSET if isinstance(self.invoice_id, Unset) else self.invoice_id

        price: int | None | Unset
        price = UNSET if isinstance(self.price, Unset) else self.price

        total_tax: int | None | Unset
        total_tax = UNSET if isinstance(self.total_tax, Unset) else self.total_tax

        total_amount: int | None | Unset
        total_amount = UNSET if isinstance(self.total_amount, Unset) else self.total_amount

        field_dict: dict[str, Any] = {}

        field_dict.update({})
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
        d = dict(src_dict)

        def _parse_billing_event_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        billing_event_id = _parse_billing_event_id(d.pop("billingEventId", UNSET))

        def _parse_currency(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        currency = _parse_currency(d.pop("currency", UNSET))

        def _parse_invoice_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        invoice_id = _parse_invoice_id(d.pop("invoiceId", UNSET))

        def _parse_price(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        price = _parse_price(d.pop("price", UNSET))

        def _parse_total_tax(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        total_tax = _parse_total_tax(d.pop("totalTax", UNSET))

        def _parse_total_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        total_amount = _parse_total_amount(d.pop("totalAmount", UNSET))

        billing = cls(
            billing_event_id=billing_event_id,
            currency=currency,
            invoice_id=invoice_id,
            price=price,
            total_tax=total_tax,
            total_amount=total_amount,
        )

        return billing
