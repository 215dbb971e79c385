# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import item_error as _item_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields

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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "object_": "object",
        "data": "data",
        "pagination": "pagination",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        data = [data_item_data.to_dict() for data_item_data in self.data]

        pagination = self.pagination.to_dict()

        field_dict: dict[str, Any] = {
            "object": self.object_,
            "data": data,
            "pagination": pagination,
        }
        if self.additional_properties:
            # The fields a newer API sent, back as they came (a declared field wins).
            for prop_name, prop in self.additional_properties.items():
                field_dict.setdefault(prop_name, prop)

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        try:
            d = src_dict
            usage_event_list = _new(cls)
            object_: Literal["list"] = d["object"]
            if object_ != "list":
                raise ValueError(f"object must match const 'list', got '{object_}'")

            _data = d["data"]
            if type(_data) is not list:
                raise TypeError(f"expected an array, got {type(_data).__name__}")
            data = list(map(_USAGE_EVENT_FROM_DICT, _data))

            _pagination = d["pagination"]
            pagination = _new(OffsetPagination)
            pagination.limit = pagination_limit = _pagination["limit"]
            if type(pagination_limit) is not int:
                raise TypeError()
            pagination.offset = pagination_offset = _pagination["offset"]
            if type(pagination_offset) is not int:
                raise TypeError()
            pagination.total = pagination_total = _pagination["total"]
            if type(pagination_total) is not int:
                raise TypeError()
            if len(_pagination) > 3:
                pagination.additional_properties = _unknown_fields(
                    _pagination, OffsetPagination._json_keys
                )
            else:
                pagination.additional_properties = _NO_UNKNOWN_FIELDS

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            usage_event_list.object_ = object_
            usage_event_list.data = data
            usage_event_list.pagination = pagination
            if len(d) > 3:
                usage_event_list.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                usage_event_list.additional_properties = _NO_UNKNOWN_FIELDS
            return usage_event_list
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            object_: Literal["list"] = d["object"]
            if object_ != "list":
                raise ValueError(f"object must match const 'list', got '{object_}'")
        except Exception as reading_error:
            raise _field_error(reading_error, "object", d) from reading_error

        try:
            _data = d["data"]
            if type(_data) is not list:
                raise TypeError(f"expected an array, got {type(_data).__name__}")
            data = list(map(_USAGE_EVENT_FROM_DICT, _data))
        except Exception as reading_error:
            raise _item_error(reading_error, "data", UsageEvent.from_dict, d) from reading_error

        try:
            pagination = _OFFSET_PAGINATION_FROM_DICT(d["pagination"])
        except Exception as reading_error:
            raise _field_error(reading_error, "pagination", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        usage_event_list = _new(cls)
        usage_event_list.object_ = object_
        usage_event_list.data = data
        usage_event_list.pagination = pagination
        if len(d) > 3:
            usage_event_list.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            usage_event_list.additional_properties = _NO_UNKNOWN_FIELDS
        return usage_event_list


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.offset_pagination import OffsetPagination  # noqa: E402
from ..models.usage_event import UsageEvent  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_USAGE_EVENT_FROM_DICT = UsageEvent.from_dict
_OFFSET_PAGINATION_FROM_DICT = OffsetPagination.from_dict
