# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

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

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        id = d["id"]

        object_: Literal["usageEvent"] = d["object"]
        if object_ != "usageEvent":
            raise ValueError(f"object must match const 'usageEvent', got '{object_}'")

        customer_id = d["customerId"]

        merchant_id = d["merchantId"]

        subscription_id = d["subscriptionId"]

        timestamp = _fromisoformat(d["timestamp"])

        created_at = _fromisoformat(d["createdAt"])

        properties = list(map(UsageEventProperty.from_dict, d["properties"]))

        idempotency_key: None | str | Unset = d.get("idempotencyKey", UNSET)

        description: None | str | Unset = d.get("description", UNSET)

        consumer_id: None | str | Unset = d.get("consumerId", UNSET)

        entitlement_id: None | str | Unset = d.get("entitlementId", UNSET)

        _metadata = d.get("metadata", UNSET)
        metadata: None | Unset | UsageEventMetadata
        if _metadata is not None and _metadata is not UNSET and isinstance(_metadata, dict):
            try:
                metadata_type_0 = UsageEventMetadata.from_dict(_metadata)
                metadata = metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                metadata = cast(None | Unset | UsageEventMetadata, _metadata)
        else:
            metadata = _metadata

        _billing = d.get("billing", UNSET)
        billing: Billing | None | Unset
        if _billing is not None and _billing is not UNSET and isinstance(_billing, dict):
            try:
                billing_type_0 = Billing.from_dict(_billing)
                billing = billing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                billing = cast(Billing | None | Unset, _billing)
        else:
            billing = _billing

        _refund = d.get("refund", UNSET)
        refund: None | Refund | Unset
        if _refund is not None and _refund is not UNSET and isinstance(_refund, dict):
            try:
                refund_type_0 = Refund.from_dict(_refund)
                refund = refund_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                refund = cast(None | Refund | Unset, _refund)
        else:
            refund = _refund

        _dispute = d.get("dispute", UNSET)
        dispute: Dispute | None | Unset
        if _dispute is not None and _dispute is not UNSET and isinstance(_dispute, dict):
            try:
                dispute_type_0 = Dispute.from_dict(_dispute)
                dispute = dispute_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                dispute = cast(Dispute | None | Unset, _dispute)
        else:
            dispute = _dispute

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
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

        return usage_event


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.billing import Billing  # noqa: E402
from ..models.dispute import Dispute  # noqa: E402
from ..models.refund import Refund  # noqa: E402
from ..models.usage_event_metadata import UsageEventMetadata  # noqa: E402
from ..models.usage_event_property import UsageEventProperty  # noqa: E402
