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
from ..types import UNSET

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
    additional_properties: Mapping[str, Any] = _attrs_field(init=False, default=_NO_UNKNOWN_FIELDS)
    """The fields of the answer that this version of the client does not know (a newer API's),
    by their JSON name, read-only; to_dict() sends them back. Without any, one shared empty
    mapping (a dict per object cost ~3% of parsing)."""

    # The JSON name of each attribute: the paths of errors.ResponseValidationError.
    _json_keys: ClassVar[dict[str, str]] = {
        "object_": "object",
        "successful": "successful",
        "failed": "failed",
        "summary": "summary",
    }
    # Whether the schema lists every field (an unknown one is a newer API's: see
    # _runtime/parsing.drift_of, for strict_responses).
    _closed: ClassVar[bool] = True

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
            batch_usage_event_response = _new(cls)
            object_: Literal["batchUsageEvents"] = d["object"]
            if object_ != "batchUsageEvents":
                raise ValueError(f"object must match const 'batchUsageEvents', got '{object_}'")

            _successful = d["successful"]
            if type(_successful) is not list:
                raise TypeError(f"expected an array, got {type(_successful).__name__}")
            successful = list(map(_USAGE_EVENT_FROM_DICT, _successful))

            _failed = d["failed"]
            if type(_failed) is not list:
                raise TypeError(f"expected an array, got {type(_failed).__name__}")
            failed: list[BatchUsageEventFailure] = []
            for failed_item_data in _failed:
                failed_item = _new(BatchUsageEventFailure)
                failed_item_present = 3
                failed_item.index = failed_item_index = failed_item_data["index"]
                if type(failed_item_index) is not int:
                    raise TypeError()
                failed_item.error = "" + failed_item_data["error"]
                failed_item.idempotency_key = failed_item_idempotency_key = failed_item_data.get(
                    "idempotencyKey", UNSET
                )
                if not (
                    type(failed_item_idempotency_key) is str or failed_item_idempotency_key is None
                ):
                    if failed_item_idempotency_key is not UNSET:
                        raise TypeError()
                    failed_item_present -= 1
                if len(failed_item_data) > failed_item_present:
                    failed_item.additional_properties = _unknown_fields(
                        failed_item_data, BatchUsageEventFailure._json_keys
                    )
                else:
                    failed_item.additional_properties = _NO_UNKNOWN_FIELDS
                failed.append(failed_item)

            _summary = d["summary"]
            summary = _new(BatchUsageEventSummary)
            summary.total = summary_total = _summary["total"]
            if type(summary_total) is not int:
                raise TypeError()
            summary.successful = summary_successful = _summary["successful"]
            if type(summary_successful) is not int:
                raise TypeError()
            summary.failed = summary_failed = _summary["failed"]
            if type(summary_failed) is not int:
                raise TypeError()
            if len(_summary) > 3:
                summary.additional_properties = _unknown_fields(
                    _summary, BatchUsageEventSummary._json_keys
                )
            else:
                summary.additional_properties = _NO_UNKNOWN_FIELDS

            # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
            batch_usage_event_response.object_ = object_
            batch_usage_event_response.successful = successful
            batch_usage_event_response.failed = failed
            batch_usage_event_response.summary = summary
            if len(d) > 4:
                batch_usage_event_response.additional_properties = _unknown_fields(
                    d, cls._json_keys
                )
            else:
                batch_usage_event_response.additional_properties = _NO_UNKNOWN_FIELDS
            return batch_usage_event_response
        except Exception as reading_error:
            # Read again field by field, for the path of what failed (the slow path).
            raise _located_error(reading_error, cls._from_dict_located, src_dict) from reading_error

    @classmethod
    def _from_dict_located(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        """from_dict, each field read in its own `try`: the ResponseValidationError with the
        path of the first field that cannot be read (run only when from_dict failed)."""
        d = src_dict
        try:
            object_: Literal["batchUsageEvents"] = d["object"]
            if object_ != "batchUsageEvents":
                raise ValueError(f"object must match const 'batchUsageEvents', got '{object_}'")
        except Exception as reading_error:
            raise _field_error(reading_error, "object", d) from reading_error

        try:
            _successful = d["successful"]
            if type(_successful) is not list:
                raise TypeError(f"expected an array, got {type(_successful).__name__}")
            successful = list(map(_USAGE_EVENT_FROM_DICT, _successful))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "successful", UsageEvent.from_dict, d
            ) from reading_error

        try:
            _failed = d["failed"]
            if type(_failed) is not list:
                raise TypeError(f"expected an array, got {type(_failed).__name__}")
            failed = list(map(_BATCH_USAGE_EVENT_FAILURE_FROM_DICT, _failed))
        except Exception as reading_error:
            raise _item_error(
                reading_error, "failed", BatchUsageEventFailure.from_dict, d
            ) from reading_error

        try:
            summary = _BATCH_USAGE_EVENT_SUMMARY_FROM_DICT(d["summary"])
        except Exception as reading_error:
            raise _field_error(reading_error, "summary", d) from reading_error

        # Attributes set on object.__new__(cls): no attrs __init__ (a second call per object).
        batch_usage_event_response = _new(cls)
        batch_usage_event_response.object_ = object_
        batch_usage_event_response.successful = successful
        batch_usage_event_response.failed = failed
        batch_usage_event_response.summary = summary
        if len(d) > 4:
            batch_usage_event_response.additional_properties = _unknown_fields(d, cls._json_keys)
        else:
            batch_usage_event_response.additional_properties = _NO_UNKNOWN_FIELDS
        return batch_usage_event_response


# The models this one refers to are imported here, after the class, rather than at the top or
# inside each method (an import per call is slow): models may refer to each other in a cycle,
# and by the time another model's module imports this one, this module's class exists.
from ..models.batch_usage_event_failure import BatchUsageEventFailure  # noqa: E402
from ..models.batch_usage_event_summary import BatchUsageEventSummary  # noqa: E402
from ..models.usage_event import UsageEvent  # noqa: E402

# from_dict calls the nested models' from_dict bound here once: `Model.from_dict` binds the
# classmethod again on every call.
_USAGE_EVENT_FROM_DICT = UsageEvent.from_dict
_BATCH_USAGE_EVENT_FAILURE_FROM_DICT = BatchUsageEventFailure.from_dict
_BATCH_USAGE_EVENT_SUMMARY_FROM_DICT = BatchUsageEventSummary.from_dict
