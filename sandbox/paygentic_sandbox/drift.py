"""`--drift SEED`: answer as a newer API might, so that clients can be tried against the future.

Every JSON object of an answer (but the caller's own metadata) gets fields the spec does not
define (a scalar and an object, named from the seed), and every dispute an enum value the spec
does not list for its `status` (where the stored data has disputes). Nothing is stored
differently: only what is sent changes, so a client that reads answers leniently sees the same
events.
"""

from __future__ import annotations

import json
import random
from typing import Any

from . import jsontext

# A dispute status a newer API might add.
UNKNOWN_DISPUTE_STATUSES = ("escalated", "in_review", "withdrawn")

# Objects that hold the caller's own keys and values (an event's string `metadata`): a newer
# API echoes them as they were sent, so they are left alone.
USER_MAPS = frozenset({"metadata"})


class Drift:
    """The changes of one seed: the same names and values on every answer."""

    def __init__(self, seed: int) -> None:
        draw = random.Random(seed)
        self.seed = seed
        self.scalar_key = f"addedIn{draw.randrange(2, 100)}"
        self.object_key = f"{self.scalar_key}Details"
        self.dispute_status = draw.choice(UNKNOWN_DISPUTE_STATUSES)

    def content(self, text: str) -> str:
        """The JSON text of an answer, drifted (text that is not JSON is left alone)."""
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return jsontext.dumps(self._drifted(value))

    def _drifted(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._drifted(item) for item in value]
        if not isinstance(value, dict):
            return value
        drifted = {
            key: item if key in USER_MAPS else self._drifted(item) for key, item in value.items()
        }
        if drifted.get("object") == "dispute" and "status" in drifted:
            drifted["status"] = self.dispute_status
        drifted[self.scalar_key] = self.seed
        drifted[self.object_key] = {"seed": self.seed, "tags": ["v2"]}
        return drifted
