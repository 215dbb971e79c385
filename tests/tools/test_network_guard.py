"""The loopback guard of tests/conftest.py (tests/support/network_guard.py) refuses, before any
packet leaves, every connection to anything but 127.0.0.0/8 and ::1, and fails the test even
when the code under test swallows the refusal; loopback and subprocess servers are untouched."""

from __future__ import annotations

import asyncio
import errno
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.network_guard import REFUSED, NetworkGuardError, is_loopback_host

# Unroutable (10/8, a black hole) and public: a connect(2) to either would hang or leave.
OUTSIDE = [("10.255.255.1", 80), ("93.184.216.34", 443)]


@pytest.fixture
def forgive() -> Iterator[None]:
    """Clear the record of this test's deliberate refusals before the guard checks it."""
    yield
    REFUSED.clear()


@pytest.mark.parametrize("address", OUTSIDE)
def test_a_connection_past_loopback_is_refused(address: tuple[str, int], forgive: None) -> None:
    with socket.socket() as sock:
        sock.setblocking(False)  # were connect(2) called, EINPROGRESS: it would not hang
        with pytest.raises(NetworkGuardError, match=address[0]):
            sock.connect(address)
        # Had connect(2) run, this would be EALREADY (a connect under way).
        assert sock.connect_ex(("127.0.0.1", 9)) not in (errno.EALREADY, errno.EISCONN)


def test_the_guard_refuses_before_the_syscall(forgive: None) -> None:
    """On a closed socket connect(2) fails with EBADF; the guard's error instead shows that
    it ran before the syscall, so nothing was sent."""
    sock = socket.socket()
    sock.close()
    with pytest.raises(NetworkGuardError):
        sock.connect(OUTSIDE[0])
    with pytest.raises(OSError) as bad:  # the same call to loopback reaches the syscall
        sock.connect(("127.0.0.1", 9))
    assert bad.value.errno == errno.EBADF


def test_connect_ex_and_udp_are_refused_too(forgive: None) -> None:
    with socket.socket() as sock, pytest.raises(NetworkGuardError):
        sock.connect_ex(OUTSIDE[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(NetworkGuardError):
        udp.sendto(b"x", OUTSIDE[1])


def test_names_are_refused_where_they_are_resolved(forgive: None) -> None:
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo("api.paygentic.io", 443)
    assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)


def test_httpx_to_production_is_refused_sync_and_async(forgive: None) -> None:
    with pytest.raises(NetworkGuardError):
        httpx.get("https://api.paygentic.io/v0/usage/usg_1")

    async def fetch() -> None:
        async with httpx.AsyncClient() as client:
            await client.get("http://10.255.255.1/")

    # anyio's connect wraps what each of its attempts raised in an exception group.
    with pytest.raises(BaseExceptionGroup) as raised:
        asyncio.run(fetch())
    assert raised.group_contains(NetworkGuardError)
    assert any("10.255.255.1" in line for line in REFUSED)


def test_asyncio_open_connection_is_refused(forgive: None) -> None:
    async def dial() -> None:
        await asyncio.open_connection("10.255.255.1", 80)

    with pytest.raises(NetworkGuardError):
        asyncio.run(dial())


def test_loopback_passes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.socket() as client:
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        accepted.close()
    assert all(map(is_loopback_host, ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"]))
    assert not any(map(is_loopback_host, ["10.0.0.1", "::ffff:8.8.8.8", "example.com", 7]))


def test_a_subprocess_is_not_guarded() -> None:
    """The guard is per process: sandbox processes bind and serve as usual. (The child only
    resolves a name, which sends nothing for an IP literal, to show the hook is absent.)"""
    child = "import socket; print(len(socket.getaddrinfo('10.255.255.1', 80)) > 0)"
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr


def test_a_swallowed_refusal_still_fails_the_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import contextlib, socket

        def test_swallows():
            with contextlib.suppress(Exception), socket.socket() as sock:
                sock.connect(("10.255.255.1", 80))
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    result = pytester.runpytest_subprocess("-p", "support.network_guard", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)  # its call passed, its teardown failed it
    result.stdout.fnmatch_lines(["reached past loopback:", "socket.connect to '10.255.255.1'*"])
