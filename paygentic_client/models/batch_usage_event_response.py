# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="BatchUsageEventResponse")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class BatchUsageEventResponse:
    """The answer to a batch create (201 when every event was
    created, 207 when some failed): the created events and
    the failed ones.

    Attributes:
        object_ (Literal['batchUsageEvents']): Always "batchUsageEvents".
        successful (list[UsageEvent]): The created events (an event whose key was already
            stored is the stored event).
        failed (list[BatchUsageEventFailure]): The events that were not created, each with its
            `index`
            in the request.
        summary (BatchUsageEventSummary): Counts of a batch's events: total = successful +
            failed.
    """

    object_: Literal["batchUsageEvents"]
    successful: list[UsageEvent]
    failed: list[BatchUsageEventFailure]
    summary: BatchUsageEventSummary

    def to_dict(self) -> dict[str, Any]:
        successful = [successful_item_data.to_dict() for successful_item_data in self.successful]

        failed = [failed_item_data.to_dict() for failed_item_data in self.failed]

        summary = self.summary.to_dict()

        field_dict: dict[str, Any] = {
            "object": self.object_,
            "successful": successful,
            "failed": failed,
            "summary": summary,
        }

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        object_: Literal["batchUsageEvents"] = d["object"]
        if object_ != "batchUsageEvents":
            raise ValueError(f"object must match const 'batchUsageEvents', got '{object_}'")

        successful = list(map(UsageEvent.from_dict, d["successful"]))

        failed = list(map(BatchUsageEventFailure.from_dict, d["failed"]))

        summary = BatchUsageEventSummary.from_dict(d["summary"])

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        batch_usage_event_response = _new(cls)
        batch_usage_event_response.object_ = object_
        batch_usage_event_response.successful = successful
        batch_usage_event_response.failed = failed
        batch_usage_event_response.summary = summary

        return batch_usage_event_response


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.batch_usage_event_failure import BatchUsageEventFailure  # noqa: E402
from ..models.batch_usage_event_summary import BatchUsageEventSummary  # noqa: E402
from ..models.usage_event import UsageEvent  # noqa: E402
