# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import NUMBER_TYPES as _NUMBER_TYPES
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import item_error as _item_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type
from .._runtime.timestamps import fromisoformat as _fromisoformat
from .._runtime.timestamps import isoformat as _isoformat
from ..types import UNSET, Unset

T = TypeVar("T", bound="UsageEvent")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class UsageEvent:
    """A stored usage event: what a customer consumed and when,
    as created, with what the server added (its id, the
    subscription, and once they happen the billing, a refund
    or a dispute).

    Attributes:
        id (str): Unique identifier of the usage event, `usg_` followed by letters and digits.
        object_ (Literal['usageEvent']): Always "usageEvent".
        customer_id (str): The customer that consumed, e.g. 'cus_abc123xyz'.
        merchant_id (str): The merchant organisation owning the event, e.g.
            'org_abc123xyz'.
        subscription_id (str): The customer's subscription the usage counts against,
            e.g. 'sub_abc123xyz'; set by the server.
        timestamp (datetime.datetime): When the usage happened (RFC 3339), as sent; answered in
            UTC.
        created_at (datetime.datetime): When the server stored the event (RFC 3339, UTC).
        properties (list[UsageEventProperty]): The billable metrics consumed, in the order they
            were
            sent.
        idempotency_key (None | str | Unset): The deduplication key the event was created with.
        description (None | str | Unset): Readable summary explaining what triggered this
            consumption event.
        consumer_id (None | str | Unset): The consumer organisation, when the customer consumes
            on
            behalf of one, e.g. 'org_789def456'.
        entitlement_id (None | str | Unset): The commitment the consumption draws on, `com_...`,
            when
            one was given.
        metadata (None | Unset | UsageEventMetadata): The custom string attributes sent with the
            event.
        billing (Billing | None | Unset): What the event was billed, once it is billed; read-
            only.
        refund (None | Refund | Unset): The refund, once the event is refunded; read-only.
        dispute (Dispute | None | Unset): The customer's dispute, if there is one; read-only.
    """

    id: str
    object_: Literal["usageEvent"]
    customer_id: str
    merchant_id: str
    subscription_id: str
    timestamp: datetime.datetime
    created_at: datetime.datetime
    properties: list[UsageEventProperty]
    idempotency_key: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    consumer_id: None | str | Unset = UNSET
    entitlement_id: None | str | Unset = UNSET
    metadata: None | Unset | UsageEventMetadata = UNSET
    billing: Billing | None | Unset = UNSET
    refund: None | Refund | Unset = UNSET
    dispute: Dispute | None | Unset = UNSET
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "id": "id",
        "object_": "object",
        "customer_id": "customerId",
        "merchant_id": "merchantId",
        "subscription_id": "subscriptionId",
        "timestamp": "timestamp",
        "created_at": "createdAt",
        "properties": "properties",
        "idempotency_key": "idempotencyKey",
        "description": "description",
        "consumer_id": "consumerId",
        "entitlement_id": "entitlementId",
        "metadata": "metadata",
        "billing": "billing",
        "refund": "refund",
        "dispute": "dispute",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        timestamp = _isoformat(self.timestamp)

        created_at = _isoformat(self.created_at)

        properties = [properties_item_data.to_dict() for properties_item_data in self.properties]

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, UsageEventMetadata):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        billing: dict[str, Any] | None | Unset
        if isinstance(self.billing, Unset):
            billing = UNSET
        elif isinstance(self.billing, Billing):
            billing = self.billing.to_dict()
        else:
            billing = self.billing

        refund: dict[str, Any] | None | Unset
        if isinstance(self.refund, Unset):
            refund = UNSET
        elif isinstance(self.refund, Refund):
            refund = self.refund.to_dict()
        else:
            refund = self.refund

        dispute: dict[str, Any] | None | Unset
        if isinstance(self.dispute, Unset):
            dispute = UNSET
        elif isinstance(self.dispute, Dispute):
            dispute = self.dispute.to_dict()
        else:
            dispute = self.dispute

        field_dict: dict[str, Any] = {
            "id": self.id,
            "object": self.object_,
            "customerId": self.customer_id,
            "merchantId": self.merchant_id,
            "subscriptionId": self.subscription_id,
            "timestamp": timestamp,
            "createdAt": created_at,
            "properties": properties,
        }
        if self.idempotency_key is not UNSET:
            field_dict["idempotencyKey"] = self.idempotency_key
        if self.description is not UNSET:
            field_dict["description"] = self.description
        if self.consumer_id is not UNSET:
            field_dict["consumerId"] = self.consumer_id
        if self.entitlement_id is not UNSET:
            field_dict["entitlementId"] = self.entitlement_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if billing is not UNSET:
            field_dict["billing"] = billing
        if refund is not UNSET:
            field_dict["refund"] = refund
        if dispute is not UNSET:
            field_dict["dispute"] = dispute
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
            fields_present = 16
            usage_event = _new(cls)
            usage_event.id = "" + d["id"]

            object_: Literal["usageEvent"] = d["object"]
            if object_ != "usageEvent":
                raise ValueError(f"object must match const 'usageEvent', got '{object_}'")

            usage_event.customer_id = "" + d["customerId"]

            usage_event.merchant_id = "" + d["merchantId"]

            usage_event.subscription_id = "" + d["subscriptionId"]

            usage_event.timestamp = _fromisoformat(d["timestamp"])

            usage_event.created_at = _fromisoformat(d["createdAt"])

            _properties = d["properties"]
            if type(_properties) is not list:
                raise TypeError(f"expected an array, got {type(_properties).__name__}")
            properties: list[UsageEventProperty] = []
            for properties_item_data in _properties:
                properties_item = _new(UsageEventProperty)
                properties_item_present = 3
                properties_item.billable_metric_id = "" + properties_item_data["billableMetricId"]
                properties_item.quantity = properties_item_quantity = properties_item_data[
                    "quantity"
                ]
                if type(properties_item_quantity) not in _NUMBER_TYPES:
                    raise TypeError()
                properties_item.price = properties_item_price = properties_item_data.get(
                    "price", UNSET
                )
                if not (type(properties_item_price) is str or properties_item_price is None):
                    if properties_item_price is not UNSET:
                        raise TypeError()
                    properties_item_present -= 1
                if len(properties_item_data) > properties_item_present:
                    properties_item.additional_properties = _unknown_fields(
                        properties_item_data, UsageEventProperty._json_keys
                    )
                else:
                    properties_item.additional_properties = _NO_UNKNOWN_FIELDS
                properties.append(properties_item)

            idempotency_key: None | str | Unset = d.get("idempotencyKey", UNSET)
            if not (type(idempotency_key) is str or idempotency_key is None):
                if idempotency_key is not UNSET:
                    raise _wrong_type(idempotency_key, "string or null or absent")
                fields_present -= 1

            description: None | str | Unset = d.get("description", UNSET)
            if not (type(description) is str or description is None):
                if description is not UNSET:
                    raise _wrong_type(description, "string or null or absent")
                fields_present -= 1

            consumer_id: None | str | Unset = d.get("consumerId", UNSET)
            if not (type(consumer_id) is str or consumer_id is None):
                if consumer_id is not UNSET:
                    raise _wrong_type(consumer_id, "string or null or absent")
                fields_present -= 1

            entitlement_id: None | str | Unset = d.get("entitlementId", UNSET)
            if not (type(entitlement_id) is str or entitlement_id is None):
                if entitlement_id is not UNSET:
                    raise _wrong_type(entitlement_id, "string or null or absent")
                fields_present -= 1

            _metadata = d.get("metadata", UNSET)
            metadata: None | Unset | UsageEventMetadata
            if _metadata is None:
                metadata = None
            elif _metadata is not UNSET and isinstance(_metadata, dict):
                metadata_type_0 = _new(UsageEventMetadata)
                metadata_type_0_values = {**_metadata}
                for metadata_type_0_value in metadata_type_0_values.values():
                    if type(metadata_type_0_value) is not str:
                        raise TypeError()
                metadata_type_0.additional_properties = metadata_type_0_values
                metadata = metadata_type_0
            elif _metadata is UNSET:
                metadata = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_metadata, "object or null or absent")

            _billing = d.get("billing", UNSET)
            billing: Billing | None | Unset
            if _billing is None:
                billing = None
            elif _billing is not UNSET and isinstance(_billing, dict):
                billing_type_0 = _new(Billing)
                billing_type_0_present = 6
                billing_type_0.billing_event_id = billing_type_0_billing_event_id = _billing.get(
                    "billingEventId", UNSET
                )
                if not (
                    type(billing_type_0_billing_event_id) is str
                    or billing_type_0_billing_event_id is None
                ):
                    if billing_type_0_billing_event_id is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                billing_type_0.currency = billing_type_0_currency = _billing.get("currency", UNSET)
                if not (type(billing_type_0_currency) is str or billing_type_0_currency is None):
                    if billing_type_0_currency is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                billing_type_0.invoice_id = billing_type_0_invoice_id = _billing.get(
                    "invoiceId", UNSET
                )
                if not (
                    type(billing_type_0_invoice_id) is str or billing_type_0_invoice_id is None
                ):
                    if billing_type_0_invoice_id is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                billing_type_0.price = billing_type_0_price = _billing.get("price", UNSET)
                if not (type(billing_type_0_price) is int or billing_type_0_price is None):
                    if billing_type_0_price is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                billing_type_0.total_tax = billing_type_0_total_tax = _billing.get(
                    "totalTax", UNSET
                )
                if not (type(billing_type_0_total_tax) is int or billing_type_0_total_tax is None):
                    if billing_type_0_total_tax is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                billing_type_0.total_amount = billing_type_0_total_amount = _billing.get(
                    "totalAmount", UNSET
                )
                if not (
                    type(billing_type_0_total_amount) is int or billing_type_0_total_amount is None
                ):
                    if billing_type_0_total_amount is not UNSET:
                        raise TypeError()
                    billing_type_0_present -= 1
                if len(_billing) > billing_type_0_present:
                    billing_type_0.additional_properties = _unknown_fields(
                        _billing, Billing._json_keys
                    )
                else:
                    billing_type_0.additional_properties = _NO_UNKNOWN_FIELDS
                billing = billing_type_0
            elif _billing is UNSET:
                billing = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_billing, "object or null or absent")

            _refund = d.get("refund", UNSET)
            refund: None | Refund | Unset
            if _refund is None:
                refund = None
            elif _refund is not UNSET and isinstance(_refund, dict):
                refund_type_0 = _new(Refund)
                refund_type_0_present = 2
                refund_type_0.refunded_at = _fromisoformat(_refund["refundedAt"])
                refund_type_0.reason = refund_type_0_reason = _refund.get("reason", UNSET)
                if not (type(refund_type_0_reason) is str or refund_type_0_reason is None):
                    if refund_type_0_reason is not UNSET:
                        raise TypeError()
                    refund_type_0_present -= 1
                if len(_refund) > refund_type_0_present:
                    refund_type_0.additional_properties = _unknown_fields(
                        _refund, Refund._json_keys
                    )
                else:
                    refund_type_0.additional_properties = _NO_UNKNOWN_FIELDS
                refund = refund_type_0
            elif _refund is UNSET:
                refund = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_refund, "object or null or absent")

            _dispute = d.get("dispute", UNSET)
            dispute: Dispute | None | Unset
            if _dispute is None:
                dispute = None
            elif _dispute is not UNSET and isinstance(_dispute, dict):
                dispute_type_0 = _DISPUTE_FROM_DICT(_dispute)
                dispute = dispute_type_0
            elif _dispute is UNSET:
                dispute = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_dispute, "object or null or absent")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            usage_event.object_ = object_
            usage_event.properties = properties
            usage_event.idempotency_key = idempotency_key
            usage_event.description = description
            usage_event.consumer_id = consumer_id
            usage_event.entitlement_id = entitlement_id
            usage_event.metadata = metadata
            usage_event.billing = billing
            usage_event.refund = refund
            usage_event.dispute = dispute
            if len(d) > fields_present:
                usage_event.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                usage_event.additional_properties = _NO_UNKNOWN_FIELDS
            return usage_event
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        fields_present = 16
        try:
            id = "" + d["id"]
        except Exception as reading_error:
            raise _field_error(reading_error, "id", d, "string") from reading_error

        try:
            object_: Literal["usageEvent"] = d["object"]
            if object_ != "usageEvent":
                raise ValueError(f"object must match const 'usageEvent', got '{object_}'")
        except Exception as reading_error:
            raise _field_error(reading_error, "object", d) from reading_error

        try:
            customer_id = "" + d["customerId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "customerId", d, "string") from reading_error

        try:
            merchant_id = "" + d["merchantId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "merchantId", d, "string") from reading_error

        try:
            subscription_id = "" + d["subscriptionId"]
        except Exception as reading_error:
            raise _field_error(reading_error, "subscriptionId", d, "string") from reading_error

        try:
            timestamp = _fromisoformat(d["timestamp"])
        except Exception as reading_error:
            raise _field_error(reading_error, "timestamp", d) from reading_error

        try:
            created_at = _fromisoformat(d["createdAt"])
        except Exception as reading_error:
            raise _field_error(reading_error, "createdAt", d) from reading_error

        try:
            _properties = d["properties"]
            if type(_properties) is not list:
                raise TypeError(f"expected an array, got {type(_properties).__name__}")
            properties = list(map(_USAGE_EVENT_PROPERTY_FROM_DICT, _properties))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "properties", UsageEventProperty.from_dict, d
            ) from reading_error

        try:
            idempotency_key: None | str | Unset = d.get("idempotencyKey", UNSET)
            if not (type(idempotency_key) is str or idempotency_key is None):
                if idempotency_key is not UNSET:
                    raise _wrong_type(idempotency_key, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "idempotencyKey", d) from reading_error

        try:
            description: None | str | Unset = d.get("description", UNSET)
            if not (type(description) is str or description is None):
                if description is not UNSET:
                    raise _wrong_type(description, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "description", d) from reading_error

        try:
            consumer_id: None | str | Unset = d.get("consumerId", UNSET)
            if not (type(consumer_id) is str or consumer_id is None):
                if consumer_id is not UNSET:
                    raise _wrong_type(consumer_id, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "consumerId", d) from reading_error

        try:
            entitlement_id: None | str | Unset = d.get("entitlementId", UNSET)
            if not (type(entitlement_id) is str or entitlement_id is None):
                if entitlement_id is not UNSET:
                    raise _wrong_type(entitlement_id, "string or null or absent")
                fields_present -= 1
        except Exception as reading_error:
            raise _field_error(reading_error, "entitlementId", d) from reading_error

        try:
            _metadata = d.get("metadata", UNSET)
            metadata: None | Unset | UsageEventMetadata
            if _metadata is None:
                metadata = None
            elif _metadata is not UNSET and isinstance(_metadata, dict):
                metadata_type_0 = _USAGE_EVENT_METADATA_FROM_DICT(_metadata)
                metadata = metadata_type_0
            elif _metadata is UNSET:
                metadata = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_metadata, "object or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "metadata", d) from reading_error

        try:
            _billing = d.get("billing", UNSET)
            billing: Billing | None | Unset
            if _billing is None:
                billing = None
            elif _billing is not UNSET and isinstance(_billing, dict):
                billing_type_0 = _BILLING_FROM_DICT(_billing)
                billing = billing_type_0
            elif _billing is UNSET:
                billing = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_billing, "object or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "billing", d) from reading_error

        try:
            _refund = d.get("refund", UNSET)
            refund: None | Refund | Unset
            if _refund is None:
                refund = None
            elif _refund is not UNSET and isinstance(_refund, dict):
                refund_type_0 = _REFUND_FROM_DICT(_refund)
                refund = refund_type_0
            elif _refund is UNSET:
                refund = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_refund, "object or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "refund", d) from reading_error

        try:
            _dispute = d.get("dispute", UNSET)
            dispute: Dispute | None | Unset
            if _dispute is None:
                dispute = None
            elif _dispute is not UNSET and isinstance(_dispute, dict):
                dispute_type_0 = _DISPUTE_FROM_DICT(_dispute)
                dispute = dispute_type_0
            elif _dispute is UNSET:
                dispute = UNSET
                fields_present -= 1
            else:
                raise _wrong_type(_dispute, "object or null or absent")
        except Exception as reading_error:
            raise _field_error(reading_error, "dispute", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        usage_event = _new(cls)
        usage_event.id = id
        usage_event.object_ = object_
        usage_event.customer_id = customer_id
        usage_event.merchant_id = merchant_id
        usage_event.subscription_id = subscription_id
        usage_event.timestamp = timestamp
        usage_event.created_at = created_at
        usage_event.properties = properties
        usage_event.idempotency_key = idempotency_key
        usage_event.description = description
        usage_event.consumer_id = consumer_id
        usage_event.entitlement_id = entitlement_id
        usage_event.metadata = metadata
        usage_event.billing = billing
        usage_event.refund = refund
        usage_event.dispute = dispute
        if len(d) > fields_present:
            usage_event.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            usage_event.additional_properties = _NO_UNKNOWN_FIELDS
        return usage_event


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.billing import Billing  # noqa: E402
from ..models.dispute import Dispute  # noqa: E402
from ..models.refund import Refund  # noqa: E402
from ..models.usage_event_metadata import UsageEventMetadata  # noqa: E402
from ..models.usage_event_property import UsageEventProperty  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_USAGE_EVENT_PROPERTY_FROM_DICT = UsageEventProperty.from_dict
_USAGE_EVENT_METADATA_FROM_DICT = UsageEventMetadata.from_dict
_BILLING_FROM_DICT = Billing.from_dict
_REFUND_FROM_DICT = Refund.from_dict
_DISPUTE_FROM_DICT = Dispute.from_dict
