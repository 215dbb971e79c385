"""The loopback guard: while a test runs, nothing in this process may reach past 127.0.0.1.

It is an audit hook (PEP 578) on the `socket.*` events, not a monkeypatch of
`socket.socket.connect`, because:
- CPython raises "socket.connect" inside the C `connect()` method after parsing the address and
  before the connect(2) syscall, so the guard refuses before a single packet leaves;
- it sees every caller: the `socket.socket` class, `_socket.socket` used directly, asyncio's
  `sock_connect`/`create_connection` (which call `sock.connect` on a non-blocking socket), the
  ingesters' sender threads and anyio's resolver threads; a monkeypatch sees only the callers
  that go through the attribute it replaced;
- it is per process, so a sandbox started as a subprocess (tests/support/sandbox_fixture.py) is not
  affected: the server binds and answers as in production.

A pytest plugin (registered by tests/conftest.py): an audit hook cannot be removed, so it is
installed once, at configure time, and stays on for the whole session, fixtures included.

Names are checked where they are resolved (`socket.getaddrinfo`, which httpx, httpcore,
anyio and asyncio all call first); a name passed straight to `socket.connect` is resolved by
the C layer before the event, so there the guard refuses any name but localhost (the lookup
has happened by then, the connection does not).

A refusal raises NetworkGuardError (not an OSError, so that no retry loop takes it for a
network failure and tries again) and is recorded: code that swallows the error still fails
its test, when the fixture checks the record at teardown.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

# Switched on when pytest is configured (pytest_configure below); off in a plain import.
ACTIVE = False
# What was refused since the last reset, for the fixture to report.
REFUSED: list[str] = []

_LOCAL_NAMES = {"localhost", "localhost.", "ip6-localhost"}
# The events whose first argument after the socket (or the first argument) is an address.
_ADDRESS_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}
_NAME_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
_installed = False


class NetworkGuardError(RuntimeError):
    """A test tried to reach something other than the loopback addresses."""


def is_loopback_host(host: object) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped, with a scope) and the local names."""
    if host is None:  # getaddrinfo(None, port): the local wildcard, for bind()
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _destination(event: str, args: tuple[Any, ...]) -> tuple[int | None, object] | None:
    """(address family, host) of an event to check, or None for an event the guard ignores."""
    if event in _NAME_EVENTS:
        return None, args[0]
    if event in _ADDRESS_EVENTS:
        sock, address = args[0], args[1]
        family = getattr(sock, "family", None)
        if family not in (socket.AF_INET, socket.AF_INET6):
            return None  # AF_UNIX and the like never leave the machine
        if address is None:  # sendmsg on a connected socket: checked at its connect
            return None
        return family, address[0] if isinstance(address, tuple) else address
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not ACTIVE or not event.startswith("socket."):
        return
    destination = _destination(event, args)
    if destination is None or is_loopback_host(destination[1]):
        return
    message = f"{event} to {destination[1]!r}: tests may only reach 127.0.0.0/8 and ::1"
    REFUSED.append(message)
    raise NetworkGuardError(message)


def install() -> None:
    """Add the audit hook (once per process; an audit hook cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def pytest_configure(config: pytest.Config) -> None:
    global ACTIVE
    install()
    ACTIVE = True


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Fail the test if it tried to reach anything but loopback, even if the code under test
    caught the guard's error (a retry loop, a `suppress`)."""
    REFUSED.clear()
    yield
    refused, REFUSED[:] = list(REFUSED), []
    if refused:
        pytest.fail("reached past loopback:\n" + "\n".join(refused), pytrace=False)
