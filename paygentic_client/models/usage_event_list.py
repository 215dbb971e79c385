# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.offset_pagination import OffsetPagination
    from ..models.usage_event import UsageEvent


T = TypeVar("T", bound="UsageEventList")


@_attrs_define
class UsageEventList:
    """
    Attributes:
        object_ (Literal['list']):
        data (list[UsageEvent]):
        pagination (OffsetPagination):
    """

    object_: Literal["list"]
    data: list[UsageEvent]
    pagination: OffsetPagination

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        pagination = self.pagination.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "data": data,
                "pagination": pagination,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.offset_pagination import OffsetPagination  # noqa: PLC0415
        from ..models.usage_event import UsageEvent  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["list"], d.pop("object"))
        if object_ != "list":
            raise ValueError(f"object must match const 'list', got '{object_}'")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = UsageEvent.from_dict(data_item_data)

            data.append(data_item)

        pagination = OffsetPagination.from_dict(d.pop("pagination"))

        usage_event_list = cls(
            object_=object_,
            data=data,
            pagination=pagination,
        )

        return usage_event_list
