# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .._runtime.timestamps import fromisoformat as _fromisoformat
from .._runtime.timestamps import isoformat as _isoformat
from ..types import UNSET, Unset

T = TypeVar("T", bound="Refund")

# from_dict creates instances with it. Bound once: `cls.__new__` looks it up through the
# metaclass and the class's bases on every call.
_new = object.__new__


@_attrs_define
class Refund:
    """Refund information for the usage event when it has been
    refunded. This object is populated by the server and
    returned in GET and PATCH responses. It cannot be set
    directly in request bodies.

    Attributes:
        refunded_at (datetime.datetime): When the event was refunded (RFC 3339, UTC).
        reason (None | str | Unset): Why the event was refunded, as given in the refund
            request.
    """

    refunded_at: datetime.datetime
    reason: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        refunded_at = _isoformat(self.refunded_at)

        field_dict: dict[str, Any] = {
            "refundedAt": refunded_at,
        }
        if self.reason is not UNSET:
            field_dict["reason"] = self.reason

        return field_dict

    # Not in a request body, or nothing in it for orjson to write: the endpoint functions send
    # to_dict().
    to_wire_dict = to_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = src_dict
        refunded_at = _fromisoformat(d["refundedAt"])

        reason: None | str | Unset = d.get("reason", UNSET)

        # Every attribute is set here, so attrs' __init__ (a second call per object) is skipped.
        refund = _new(cls)
        refund.refunded_at = refunded_at
        refund.reason = reason

        return refund
