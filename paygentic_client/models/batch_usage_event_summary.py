# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="BatchUsageEventSummary")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class BatchUsageEventSummary:
    """Counts of a batch's events: total = successful + failed.

    Attributes:
        total (int): Number of events in the request.
        successful (int): Number of events created (or already stored under their
            key).
        failed (int): Number of events not created.
    """

    total: int
    successful: int
    failed: int

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "total": self.total,
            "successful": self.successful,
            "failed": self.failed,
        }

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        total = d["total"]

        successful = d["successful"]

        failed = d["failed"]

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        batch_usage_event_summary = _new(cls)
        batch_usage_event_summary.total = total
        batch_usage_event_summary.successful = successful
        batch_usage_event_summary.failed = failed

        return batch_usage_event_summary
