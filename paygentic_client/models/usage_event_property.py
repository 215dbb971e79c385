# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import NUMBER_TYPES as _NUMBER_TYPES
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type
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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

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
            fields_present = 3
            usage_event_property = _new(cls)
            usage_event_property.billable_metric_id = "" + d["billableMetricId"]

            quantity = d["quantity"]
            if type(quantity) not in _NUMBER_TYPES:
                raise _wrong_type(quantity, "number")

            price: None | str | Unset = d.get("price", UNSET)
            if not (type(price) is str or price is None):
                if price is not UNSET:
                    raise _wrong_type(price, "string or null or absent")
                fields_present -= 1

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            usage_event_property.quantity = quantity
            usage_event_property.price = price
            if len(d) > fields_present:
                usage_event_property.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                usage_event_property.additional_properties = _NO_UNKNOWN_FIELDS
            return usage_event_property
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 3
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
            price: None | str | Unset = d.get("price", UNSET)
            if not (type(price) is str or price is None):
                if price is not UNSET:
                    raise _wrong_type(price, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "price", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        usage_event_property = _new(cls)
        usage_event_property.billable_metric_id = billable_metric_id
        usage_event_property.quantity = quantity
        usage_event_property.price = price
        if len(d) > fields_present:
            usage_event_property.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            usage_event_property.additional_properties = _NO_UNKNOWN_FIELDS
        return usage_event_property
