# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="OffsetPagination")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class OffsetPagination:
    """Where a page lies among all matching events.

    Attributes:
        limit (int): The page size asked for (1 to 100).
        offset (int): Number of matching events before this page.
        total (int): Number of events matching the filters, over all pages.
    """

    limit: int
    offset: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "limit": self.limit,
            "offset": self.offset,
            "total": self.total,
        }

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        limit = d["limit"]

        offset = d["offset"]

        total = d["total"]

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        offset_pagination = _new(cls)
        offset_pagination.limit = limit
        offset_pagination.offset = offset
        offset_pagination.total = total

        return offset_pagination
