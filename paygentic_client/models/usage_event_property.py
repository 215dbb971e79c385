# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UsageEventProperty")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class UsageEventProperty:
    """One billable metric of a stored usage event: the metric,
    the quantity and, if one was sent, the unit price.

    Attributes:
        billable_metric_id (str): The billable metric consumed.
        quantity (float): How much of the metric was consumed, in the metric's
            unit.
        price (None | str | Unset): Price per unit as a decimal number of US dollars, or null.
    """

    billable_metric_id: str
    quantity: float
    price: None | str | Unset = UNSET

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

        price: None | str | Unset = d.get("price", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        usage_event_property = _new(cls)
        usage_event_property.billable_metric_id = billable_metric_id
        usage_event_property.quantity = quantity
        usage_event_property.price = price

        return usage_event_property
