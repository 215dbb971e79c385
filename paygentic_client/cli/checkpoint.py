"""The checkpoint of a bulk import: how far acknowledged delivery got in a file.

It holds `line`: every line up to and including it is settled (delivered, or written to the
rejects file). Lines after it may or may not have been delivered; a re-run sends them again
with the same idempotency keys, which the API answers without creating anything twice, so a
checkpoint that lags behind (a crash between two saves) costs time, never money.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import CheckpointError

VERSION = 1


@dataclass
class Checkpoint:
    file: str  # the imported file's absolute path
    line: int = 0
    delivered: int = 0
    rejected: int = 0

    @classmethod
    def load(cls, path: Path, source: Path) -> Checkpoint:
        """The checkpoint at path for importing source; a fresh one if there is none."""
        if not path.exists():
            return cls(file=str(source.resolve()))
        try:
            data = json.loads(path.read_text())
            checkpoint = cls(
                file=data["file"],
                line=int(data["line"]),
                delivered=int(data["delivered"]),
                rejected=int(data["rejected"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"{path}: not a checkpoint of paygentic-usage ({error})"
            ) from None
        if checkpoint.file != str(source.resolve()):
            raise CheckpointError(
                f"{path} is the checkpoint of {checkpoint.file}, not of {source.resolve()}; "
                "pass --checkpoint with another path, or --restart to start over"
            )
        return checkpoint

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old checkpoint or the new one, never half."""
        data = json.dumps({"version": VERSION, **asdict(self)})
        handle, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent or Path("."))
        with os.fdopen(handle, "w") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)


class Watermark:
    """The highest line number below which every line is settled, as lines settle in any
    order (batches are answered out of order)."""

    def __init__(self, line: int) -> None:
        self.line = line
        self._open: dict[int, bool] = {}  # submitted line -> settled yet?
        self._order: list[int] = []
        self._head = 0

    def opened(self, line: int) -> None:
        self._open[line] = False
        self._order.append(line)

    def settled(self, line: int) -> None:
        self._open[line] = True
        while self._head < len(self._order) and self._open[self._order[self._head]]:
            done = self._order[self._head]
            del self._open[done]
            self.line = done
            self._head += 1
        if self._head > 4096:  # keep the list short
            del self._order[: self._head]
            self._head = 0
