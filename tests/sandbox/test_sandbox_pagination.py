"""The sandbox's listing: pages read one after the other are the pages limit/offset defines,
and cost what they return (no count, no OFFSET scan once a listing is under way)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from paygentic_sandbox.store import ListFilter, NewEvent, Store

MERCHANT = "org_pages"


def _event(n: int, customer: str, timestamp_us: int, merchant: str = MERCHANT) -> NewEvent:
    return NewEvent(
        id=f"usg_{merchant}_{n:06d}",
        merchant_id=merchant,
        idempotency_key=f"key_{n:06d}",
        customer_id=customer,
        subscription_id="sub_1",
        consumer_id="org_consumer",
        timestamp_us=timestamp_us,
        document=f'{{"n":{n}}}',
    )


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store(":memory:")
    # Repeated timestamps, so that the order within one timestamp (by id) matters too.
    store.insert_many([_event(n, f"cus_{n % 3}", n // 4) for n in range(500)])
    yield store
    store.close()


def _statements(store: Store) -> list[str]:
    """The SQL the store runs from now on (sqlite3's trace callback on its connection)."""
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    return seen


def _walk(store: Store, where: ListFilter, limit: int) -> list[tuple[list[str], int]]:
    pages = []
    for offset in itertools.count(0, limit):
        page = store.page(where, limit, offset)
        pages.append(page)
        if not page[0]:
            return pages
    raise AssertionError("unreachable")


@pytest.mark.parametrize("customer", [None, "cus_1"])
@pytest.mark.parametrize("limit", [1, 7, 100])
def test_pages_in_a_row_are_the_offset_pages(
    store: Store, customer: str | None, limit: int
) -> None:
    where = ListFilter(MERCHANT, 10, 100, customer_id=customer)
    walked = _walk(store, where, limit)
    # The same offsets asked out of order: each counted and skipped from scratch.
    fresh = Store(":memory:")
    try:
        fresh.insert_many([_event(n, f"cus_{n % 3}", n // 4) for n in range(500)])
        expected = [
            fresh.page(where, limit, offset)
            for offset in range(0, len(walked) * limit, limit)[::-1]
        ]
    finally:
        fresh.close()
    assert walked == expected[::-1]
    assert sum(len(page) for page, _ in walked) == walked[0][1] > 0


def test_a_continued_page_neither_counts_nor_skips(store: Store) -> None:
    where = ListFilter(MERCHANT, 0, 10**6, customer_id="cus_2")
    store.page(where, 50, 0)
    seen = _statements(store)
    store.page(where, 50, 50)
    assert seen and not any("count(" in sql or "OFFSET" in sql for sql in seen), seen


def test_an_insert_of_the_merchant_ends_the_shortcut(store: Store) -> None:
    where = ListFilter(MERCHANT, -10, 10**6)
    first, total = store.page(where, 50, 0)
    # An event that sorts first shifts every later offset by one.
    store.insert_many([_event(900, "cus_0", -1)])
    second, new_total = store.page(where, 50, 50)
    assert new_total == total + 1
    assert second[0] == first[-1]


def test_another_merchants_insert_keeps_it(store: Store) -> None:
    where = ListFilter(MERCHANT, 0, 10**6)
    store.page(where, 50, 0)
    store.insert_many([_event(1, "cus_0", 0, merchant="org_other")])
    seen = _statements(store)
    store.page(where, 50, 50)
    assert not any("count(" in sql for sql in seen), seen
