# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
"""Contains all the data models used in inputs/outputs"""

from .batch_create_usage_events_request import BatchCreateUsageEventsRequest
from .batch_usage_event_failure import BatchUsageEventFailure
from .batch_usage_event_response import BatchUsageEventResponse
from .batch_usage_event_summary import BatchUsageEventSummary
from .billing import Billing
from .create_usage_event_request import CreateUsageEventRequest
from .create_usage_event_request_property import CreateUsageEventRequestProperty
from .dispute import Dispute
from .dispute_status import DisputeStatus
from .error_body import Error
from .error_details import ErrorDetails
from .metadata import Metadata
from .offset_pagination import OffsetPagination
from .refund import Refund
from .refund_usage_event_request import RefundUsageEventRequest
from .usage_event import UsageEvent
from .usage_event_list import UsageEventList
from .usage_event_metadata import UsageEventMetadata
from .usage_event_property import UsageEventProperty
from .validation_error import ValidationError
from .validation_error_detail import ValidationErrorDetail

__all__ = (
    "BatchCreateUsageEventsRequest",
    "BatchUsageEventFailure",
    "BatchUsageEventResponse",
    "BatchUsageEventSummary",
    "Billing",
    "CreateUsageEventRequest",
    "CreateUsageEventRequestProperty",
    "Dispute",
    "DisputeStatus",
    "Error",
    "ErrorDetails",
    "Metadata",
    "OffsetPagination",
    "Refund",
    "RefundUsageEventRequest",
    "UsageEvent",
    "UsageEventList",
    "UsageEventMetadata",
    "UsageEventProperty",
    "ValidationError",
    "ValidationErrorDetail",
)

# Names of earlier releases, kept so that code written against them still imports.
ErrorDetailsType0 = ErrorDetails
UsageEventMetadataType0 = UsageEventMetadata
