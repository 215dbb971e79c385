# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from enum import StrEnum

from .._runtime.parsing import unknown_member


class DisputeStatus(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PENDING = "pending"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "DisputeStatus | None":
        """A value the spec does not list (yet): kept, as a pseudo-member that is not in the
        enum's iteration nor in `__members__` (see paygentic_client._runtime.parsing)."""
        return unknown_member(cls, value)
