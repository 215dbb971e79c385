# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="BatchUsageEventFailure")


@_attrs_define
class BatchUsageEventFailure:
    """
    Attributes:
        index (int): Position of the failed event in the request's `events`.
        error (str): Why the event was not created.
        idempotency_key (None | str | Unset):
    """

    index: int
    error: str
    idempotency_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        error = self.error

        idempotency_key: None | str | Unset = self.idempotency_key

        field_dict: dict[str, Any] = {
            "index": index,
            "error": error,
        }
        if idempotency_key is not UNSET:
            field_dict["idempotencyKey"] = idempotency_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        index = d["index"]

        error = d["error"]

        idempotency_key: None | str | Unset = d.get("idempotencyKey", UNSET)

        # In the order the attributes are declared: positional arguments are much faster.
        batch_usage_event_failure = cls(
            index,
            error,
            idempotency_key,
        )

        return batch_usage_event_failure
