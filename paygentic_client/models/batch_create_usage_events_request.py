# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.create_usage_event_request import CreateUsageEventRequest


T = TypeVar("T", bound="BatchCreateUsageEventsRequest")


@_attrs_define
class BatchCreateUsageEventsRequest:
    """
    Attributes:
        events (list[CreateUsageEventRequest]):
    """

    events: list[CreateUsageEventRequest]

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_usage_event_request import CreateUsageEventRequest  # noqa: PLC0415

        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = CreateUsageEventRequest.from_dict(events_item_data)

            events.append(events_item)

        batch_create_usage_events_request = cls(
            events=events,
        )

        return batch_create_usage_events_request
