# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="BatchUsageEventFailure")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class BatchUsageEventFailure:
    """An event of a batch that was not created, and why.

    Attributes:
        index (int): Position of the failed event in the request's `events`.
        error (str): Why the event was not created.
        idempotency_key (None | str | Unset): The failed event's idempotencyKey. Production's
            contract
            requires a string here (both official SDKs refuse an answer
            without one), so an event without a readable key (missing,
            or not a string) gets an empty string. A client should
            still accept it absent or null.
    """

    index: int
    error: str
    idempotency_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        field_dict: dict[str, Any] = {
            "index": self.index,
            "error": self.error,
        }
        if self.idempotency_key is not UNSET:
            field_dict["idempotencyKey"] = self.idempotency_key

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        index = d["index"]

        error = d["error"]

        idempotency_key: None | str | Unset = d.get("idempotencyKey", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        batch_usage_event_failure = _new(cls)
        batch_usage_event_failure.index = index
        batch_usage_event_failure.error = error
        batch_usage_event_failure.idempotency_key = idempotency_key

        return batch_usage_event_failure
