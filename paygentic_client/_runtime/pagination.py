"""Iterating over every item of an offset-paginated list, one page at a time.

The generated `sync_all` / `asyncio_all` of an operation with `limit` and `offset` whose
answer has `data` and `pagination` are thin wrappers around these: they pass a function that
fetches the page at an offset. Only one page is held at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Protocol, TypeVar

Item = TypeVar("Item", covariant=True)
T = TypeVar("T")


class Pagination(Protocol):
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def total(self) -> int: ...


class Page(Protocol[Item]):
    @property
    def data(self) -> Sequence[Item]: ...
    @property
    def pagination(self) -> Pagination: ...


def first_offset(offset: object) -> int:
    """The offset to start from: the caller's, or 0 when it is unset."""
    return offset if isinstance(offset, int) else 0


def is_last(page: Page[object]) -> bool:
    """Whether no page follows this one.

    The end is where `total` says, or a short (or empty) page, whichever comes first, so
    that a list that shrinks while it is read still ends, and one that does not ends
    without an extra request for an empty page.
    """
    pagination = page.pagination
    count = len(page.data)
    return count == 0 or count < pagination.limit or pagination.offset + count >= pagination.total


def iterate_pages(fetch: Callable[[int], Page[T]], offset: int) -> Iterator[T]:
    """Every item of the pages fetch(offset), fetch(offset + len(page)), ... until the end."""
    while True:
        page = fetch(offset)
        yield from page.data
        if is_last(page):
            return
        offset += len(page.data)


async def aiterate_pages(
    fetch: Callable[[int], Awaitable[Page[T]]], offset: int
) -> AsyncIterator[T]:
    """The asyncio twin of iterate_pages."""
    while True:
        page = await fetch(offset)
        for item in page.data:
            yield item
        if is_last(page):
            return
        offset += len(page.data)
