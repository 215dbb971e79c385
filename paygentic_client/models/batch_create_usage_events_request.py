# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define

from .._runtime.parsing import item_error as _item_error
from .._runtime.parsing import located_error as _located_error

T = TypeVar("T", bound="BatchCreateUsageEventsRequest")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class BatchCreateUsageEventsRequest:
    """Usage events to create in one request.

    Attributes:
        events (list[CreateUsageEventRequest]): The events to create, 1 to 1000; each is
            validated and
            created on its own, and one invalid event does not stop
            the others.
    """

    events: list[CreateUsageEventRequest]

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "events": "events",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        events = [events_item_data.to_dict() for events_item_data in self.events]

        field_dict: dict[str, Any] = {
            "events": events,
        }

        return field_dict

    def to_wire_dict(self) -> dict[str, Any]:
        """The JSON body the operation functions send: `to_dict()`, with the date-times that
        the JSON encoder writes the same way left for it to write."""
        events = [events_item_data.to_wire_dict() for events_item_data in self.events]

        field_dict: dict[str, Any] = {
            "events": events,
        }

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = src_dict
            batch_create_usage_events_request = _new(cls)
            _events = d["events"]
            if type(_events) is not list:
                raise TypeError(f"expected an array, got {type(_events).__name__}")
            events = list(map(_CREATE_USAGE_EVENT_REQUEST_FROM_DICT, _events))

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            batch_create_usage_events_request.events = events
            return batch_create_usage_events_request
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            _events = d["events"]
            if type(_events) is not list:
                raise TypeError(f"expected an array, got {type(_events).__name__}")
            events = list(map(_CREATE_USAGE_EVENT_REQUEST_FROM_DICT, _events))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "events", CreateUsageEventRequest.from_dict, d
            ) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        batch_create_usage_events_request = _new(cls)
        batch_create_usage_events_request.events = events
        return batch_create_usage_events_request


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.create_usage_event_request import CreateUsageEventRequest  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_CREATE_USAGE_EVENT_REQUEST_FROM_DICT = CreateUsageEventRequest.from_dict
