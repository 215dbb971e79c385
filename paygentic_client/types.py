# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
"""Contains some shared types for properties"""

from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import IO, BinaryIO, Generic, Literal, TypeVar

from attrs import define


class Unset:
    """The value of a field that is absent (not sent, or not in the answer): falsy, and
    distinct from `None`, which is a JSON `null`. There is one instance, `UNSET`."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@define
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@define
class Response(Generic[T]):
    """A response from an endpoint"""

    # paygentic: an int for codes that HTTPStatus does not know (e.g. Cloudflare's 520),
    # which would otherwise make HTTPStatus(code) raise ValueError before any error handling.
    status_code: HTTPStatus | int
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None

    # paygentic: the retrying transport counts the attempts in the X-Paygentic-Attempts header.
    @property
    def attempts(self) -> int:
        """How many attempts the call took: 1 unless it was retried"""
        return int(self.headers.get("x-paygentic-attempts", "1"))


__all__ = ["UNSET", "File", "FileTypes", "RequestFiles", "Response", "Unset"]
