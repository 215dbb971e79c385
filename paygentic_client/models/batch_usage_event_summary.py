# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .._runtime.parsing import NO_UNKNOWN_FIELDS as _NO_UNKNOWN_FIELDS
from .._runtime.parsing import field_error as _field_error
from .._runtime.parsing import located_error as _located_error
from .._runtime.parsing import unknown_fields as _unknown_fields
from .._runtime.parsing import wrong_type as _wrong_type

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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "total": "total",
        "successful": "successful",
        "failed": "failed",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "total": self.total,
            "successful": self.successful,
            "failed": self.failed,
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
            batch_usage_event_summary = _new(cls)
            total = d["total"]
            if type(total) is not int:
                raise _wrong_type(total, "integer")

            successful = d["successful"]
            if type(successful) is not int:
                raise _wrong_type(successful, "integer")

            failed = d["failed"]
            if type(failed) is not int:
                raise _wrong_type(failed, "integer")

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            batch_usage_event_summary.total = total
            batch_usage_event_summary.successful = successful
            batch_usage_event_summary.failed = failed
            if len(d) > 3:
                batch_usage_event_summary.additional_properties = _unknown_fields(d, cls._json_keys)
            else:
                batch_usage_event_summary.additional_properties = _NO_UNKNOWN_FIELDS
            return batch_usage_event_summary
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            total = d["total"]
            if type(total) is not int:
                raise _wrong_type(total, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "total", d, "integer") from reading_error

        try:
            successful = d["successful"]
            if type(successful) is not int:
                raise _wrong_type(successful, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "successful", d, "integer") from reading_error

        try:
            failed = d["failed"]
            if type(failed) is not int:
                raise _wrong_type(failed, "integer")
        except Exception as reading_error:
            raise _field_error(reading_error, "failed", d, "integer") from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        batch_usage_event_summary = _new(cls)
        batch_usage_event_summary.total = total
        batch_usage_event_summary.successful = successful
        batch_usage_event_summary.failed = failed
        if len(d) > 3:
            batch_usage_event_summary.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            batch_usage_event_summary.additional_properties = _NO_UNKNOWN_FIELDS
        return batch_usage_event_summary
