# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define

from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import item_error as _item_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import wrong_type as _wrong_type
from .._runtime.timestamps import fromisoformat as _fromisoformat
from .._runtime.timestamps import isoformat as _isoformat
from .._runtime.timestamps import wire_datetime as _wire_datetime
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateUsageEventRequest")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class CreateUsageEventRequest:
    """A usage event to create: who consumed what, how much,
    and when. The `idempotencyKey` makes sending it again
    safe: the API stores one event per key and merchant.

    Attributes:
        idempotency_key (str): Deduplication key, 1 to 255 characters, unique per
            merchant: a repeated key is accepted and answered with
            the event stored the first time, which is billed once.
            Sample values: 'usg_2024_01_15_abc123',
            'event_wallet_xyz789', 'consumption_ref_456def'.
        customer_id (str): The customer that consumed, 1 to 255 characters. Sample
            values: 'cus_abc123xyz', 'cus_789def456'.
        merchant_id (str): The merchant organisation owning the event: the one the
            token acts for (403 otherwise). Sample values:
            'org_abc123xyz', 'org_789def456'.
        timestamp (datetime.datetime): When the usage happened, not when Paygentic received it:
            an RFC 3339 date-time with an offset, e.g.
            '2024-01-15T10:30:00Z', that falls within the years
            0001-9999 in UTC (400 otherwise: '0001-01-01T00:00:00+00:01'
            is before year 1); stored to the microsecond, answered in
            UTC.
        properties (list[CreateUsageEventRequestProperty]): The billable metrics consumed, at
            most 100.
        entitlement_id (str | Unset): The commitment (entitlement) this consumption draws on,
            `com_` followed by letters and digits, e.g.
            'com_abc123xyz'.
        metadata (Metadata | Unset): Custom key-value attributes about the consumption, at
            most 50, values strings; stored and returned as sent,
            e.g. {"model_name": "claude-3-opus", "input_tokens":
            "1500"}.
    """

    idempotency_key: str
    customer_id: str
    merchant_id: str
    timestamp: datetime.datetime
    properties: list[CreateUsageEventRequestProperty]
    entitlement_id: str | Unset = UNSET
    metadata: Metadata | Unset = UNSET

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "idempotency_key": "idempotencyKey",
        "customer_id": "customerId",
        "merchant_id": "merchantId",
        "timestamp": "timestamp",
        "properties": "properties",
        "entitlement_id": "entitlementId",
        "metadata": "metadata",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        timestamp = _isoformat(self.timestamp)

        properties = [properties_item_data.to_dict() for properties_item_data in self.properties]

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {
            "idempotencyKey": self.idempotency_key,
            "customerId": self.customer_id,
            "merchantId": self.merchant_id,
            "timestamp": timestamp,
            "properties": properties,
        }
        if self.entitlement_id is not UNSET:
            field_dict["entitlementId"] = self.entitlement_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    def to_wire_dict(self) -> dict[str, Any]:
        """The JSON body the operation functions send: `to_dict()`, with the date-times that
        the JSON encoder writes the same way left for it to write."""
        timestamp = _wire_datetime(self.timestamp)

        properties = [
            properties_item_data.to_wire_dict() for properties_item_data in self.properties
        ]

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_wire_dict()

        field_dict: dict[str, Any] = {
            "idempotencyKey": self.idempotency_key,
            "customerId": self.customer_id,
            "merchantId": self.merchant_id,
            "timestamp": timestamp,
            "properties": properties,
        }
        if self.entitlement_id is not UNSET:
            field_dict["entitlementId"] = self.entitlement_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = src_dict
            create_usage_event_request = _new(cls)
            create_usage_event_request.idempotency_key = "" + d["idempotencyKey"]

            create_usage_event_request.customer_id = "" + d["customerId"]

            create_usage_event_request.merchant_id = "" + d["merchantId"]

            create_usage_event_request.timestamp = _fromisoformat(d["timestamp"])

            _properties = d["properties"]
            if type(_properties) is not list:
                raise TypeError(f"expected an array, got {type(_properties).__name__}")
            properties = list(map(_CREATE_USAGE_EVENT_REQUEST_PROPERTY_FROM_DICT, _properties))

            entitlement_id = d.get("entitlementId", UNSET)
            if type(entitlement_id) is not str and entitlement_id is not UNSET:
                raise _wrong_type(entitlement_id, "string")

            _metadata = d.get("metadata", UNSET)
            metadata: Metadata | Unset
            metadata = UNSET if isinstance(_metadata, Unset) else _METADATA_FROM_DICT(_metadata)

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            create_usage_event_request.properties = properties
            create_usage_event_request.entitlement_id = entitlement_id
            create_usage_event_request.metadata = metadata
            return create_usage_event_request
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            idempotency_key = "" + d["idempotencyKey"]
        except Exception as reading_error:
            raise _field_error(reading_error, "idempotencyKey", d, "string") from reading_error

        try:
            customer_id = "" + d["customerId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "customerId", d, "string") from reading_error

        try:
            merchant_id = "" + d["merchantId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "merchantId", d, "string") from reading_error

        try:
            timestamp = _fromisoformat(d["timestamp"])
        except Exception as reading_error:
            raise _field_error(reading_error, "timestamp", d) from reading_error

        try:
            _properties = d["properties"]
            if type(_properties) is not list:
                raise TypeError(f"expected an array, got {type(_properties).__name__}")
            properties = list(map(_CREATE_USAGE_EVENT_REQUEST_PROPERTY_FROM_DICT, _properties))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "properties", CreateUsageEventRequestProperty.from_dict, d
            ) from reading_error

        try:
            entitlement_id = d.get("entitlementId", UNSET)
            if type(entitlement_id) is not str and entitlement_id is not UNSET:
                raise _wrong_type(entitlement_id, "string")
        except Exception as reading_error:
            raise _field_error(reading_error, "entitlementId", d, "string") from reading_error

        try:
            _metadata = d.get("metadata", UNSET)
            metadata: Metadata | Unset
            metadata = UNSET if isinstance(_metadata, Unset) else _METADATA_FROM_DICT(_metadata)
        except Exception as reading_error:
            raise _field_error(reading_error, "metadata", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        create_usage_event_request = _new(cls)
        create_usage_event_request.idempotency_key = idempotency_key
        create_usage_event_request.customer_id = customer_id
        create_usage_event_request.merchant_id = merchant_id
        create_usage_event_request.timestamp = timestamp
        create_usage_event_request.properties = properties
        create_usage_event_request.entitlement_id = entitlement_id
        create_usage_event_request.metadata = metadata
        return create_usage_event_request


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.create_usage_event_request_property import CreateUsageEventRequestProperty  # noqa: E402
from ..models.metadata import Metadata  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_CREATE_USAGE_EVENT_REQUEST_PROPERTY_FROM_DICT = CreateUsageEventRequestProperty.from_dict
_METADATA_FROM_DICT = Metadata.from_dict
