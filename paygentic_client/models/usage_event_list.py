# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UsageEventList")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class UsageEventList:
    """One page of usage events, ordered by `timestamp` then
    `id`.

    Attributes:
        object_ (Literal['list']): Always "list".
        data (list[UsageEvent]): The events of this page, at most `limit`.
        pagination (OffsetPagination): Where a page lies among all matching events.
    """

    object_: Literal["list"]
    data: list[UsageEvent]
    pagination: OffsetPagination

    def to_dict(self) -> dict[str, Any]:
        data = [data_item_data.to_dict() for data_item_data in self.data]

        pagination = self.pagination.to_dict()

        field_dict: dict[str, Any] = {
            "object": self.object_,
            "data": data,
            "pagination": pagination,
        }

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        object_: Literal["list"] = d["object"]
        if object_ != "list":
            raise ValueError(f"object must match const 'list', got '{object_}'")

        data = list(map(UsageEvent.from_dict, d["data"]))

        pagination = OffsetPagination.from_dict(d["pagination"])

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        usage_event_list = _new(cls)
        usage_event_list.object_ = object_
        usage_event_list.data = data
        usage_event_list.pagination = pagination

        return usage_event_list


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.offset_pagination import OffsetPagination  # noqa: E402
from ..models.usage_event import UsageEvent  # noqa: E402
