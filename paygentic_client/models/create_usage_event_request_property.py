# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define

from .._runtime.parsing import NUMBER_TYPES as _NUMBER_TYPES
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import wrong_type as _wrong_type
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

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "billable_metric_id": "billableMetricId",
        "quantity": "quantity",
        "price": "price",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

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
        try:
            d = src_dict
            create_usage_event_request_property = _new(cls)
            create_usage_event_request_property.billable_metric_id = "" + d["billableMetricId"]

            quantity = d["quantity"]
            if type(quantity) not in _NUMBER_TYPES:
                raise _wrong_type(quantity, "number")

            price = d.get("price", UNSET)
            if type(price) is not str and price is not UNSET:
                raise _wrong_type(price, "string")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            create_usage_event_request_property.quantity = quantity
            create_usage_event_request_property.price = price
            return create_usage_event_request_property
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            billable_metric_id = "" + d["billableMetricId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "billableMetricId", d, "string") from reading_error

        try:
            quantity = d["quantity"]
            if type(quantity) not in _NUMBER_TYPES:
                raise _wrong_type(quantity, "number")
        except Exception as reading_error:
            raise _field_error(reading_error, "quantity", d, "number") from reading_error

        try:
            price = d.get("price", UNSET)
            if type(price) is not str and price is not UNSET:
                raise _wrong_type(price, "string")
        except Exception as reading_error:
            raise _field_error(reading_error, "price", d, "string") from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        create_usage_event_request_property = _new(cls)
        create_usage_event_request_property.billable_metric_id = billable_metric_id
        create_usage_event_request_property.quantity = quantity
        create_usage_event_request_property.price = price
        return create_usage_event_request_property
