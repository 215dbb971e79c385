# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="BatchUsageEventSummary")


@_attrs_define
class BatchUsageEventSummary:
    """
    Attributes:
        total (int):
        successful (int):
        failed (int):
    """

    total: int
    successful: int
    failed: int

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        successful = self.successful

        failed = self.failed

        field_dict: dict[str, Any] = {
            "total": total,
            "successful": successful,
            "failed": failed,
        }

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        total = d["total"]

        successful = d["successful"]

        failed = d["failed"]

        # In the order the attributes are declared: positional arguments are much faster.
        batch_usage_event_summary = cls(
            total,
            successful,
            failed,
        )

        return batch_usage_event_summary
