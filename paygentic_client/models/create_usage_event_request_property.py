# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateUsageEventRequestProperty")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class CreateUsageEventRequestProperty:
    """One billable metric consumed by a usage event, with how
    much of it and, optionally, its unit price.

    Attributes:
        billable_metric_id (str): The billable metric consumed, e.g. `bm_gpu_hours`; 1 to 255
            characters.
        quantity (float): How much of the billable metric was consumed, in the
            metric's unit: at least 1, and a number, not only an
            integer (fractional units such as 2.5 GPU hours are
            allowed).
        price (str | Unset): Price per unit in US dollars as a decimal string, e.g.
            "0.125" (up to 15 digits before the point and 18 after).
            An event whose every property has a price is billed at
            once; otherwise it is priced later by the merchant's
            plan.
    """

    billable_metric_id: str
    quantity: float
    price: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "billableMetricId": self.billable_metric_id,
            "quantity": self.quantity,
        }
        if self.price is not UNSET:
            field_dict["price"] = self.price

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        billable_metric_id = d["billableMetricId"]

        quantity = d["quantity"]

        price = d.get("price", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        create_usage_event_request_property = _new(cls)
        create_usage_event_request_property.billable_metric_id = billable_metric_id
        create_usage_event_request_property.quantity = quantity
        create_usage_event_request_property.price = price

        return create_usage_event_request_property
