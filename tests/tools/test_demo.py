"""`scripts/demo --keep` leaves its sandbox running and prints the dashboard's URL and a token
that signs in there; the 10,000 events of its ingester are all stored. (scripts/test runs the
plain demo as a step of its own.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def kept(tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    """Run the demo with --keep in tmp_path (its .sandbox/ goes there): the dashboard's URL,
    the token it names, the sandbox's pid. The sandbox is stopped afterwards."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--keep"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"Dashboard: (\S+)  \(sign in with the token (\S+)\)", result.stdout)
    pid = re.search(r"Stop it with: kill (\d+)", result.stdout)
    assert found and pid, result.stdout
    assert "-> 10,000 events stored, each once" in result.stdout
    try:
        yield found.group(1), found.group(2), int(pid.group(1))
    finally:
        os.kill(int(pid.group(1)), signal.SIGTERM)


def test_the_kept_sandbox_serves_the_dashboard_to_the_printed_token(
    kept: tuple[str, str, int],
) -> None:
    url, token, _ = kept
    assert url.startswith("http://127.0.0.1:") and url.endswith("/_sandbox/")
    with httpx.Client(timeout=10) as browser:
        signed_in = browser.post(url + "login", data={"token": token})
        assert signed_in.status_code == 303
        events = browser.get(url + "events")
        assert events.status_code == 200
        total = re.search(r"· (\d+) events", events.text)
        assert total and int(total.group(1)) >= 10_000, events.text[:2000]
        usage = browser.get(url + "usage?metric=bm_api_calls")
        assert "<svg" in usage.text
