"""A real headless Chromium for the dashboard's browser tests: Debian's `chromium` (which
scripts/bootstrap installs), driven by Playwright. Playwright's own browser download is
never used (it cannot work offline): `executable_path` points at the system's.

    def test_x(chromium: Browser) -> None:
        page = chromium.new_context().new_page()    # a fresh profile: no cookie, no cache

Where no Chromium is installed the tests skip, saying so loudly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

# Headless, no sandbox (root in a container), and nothing that phones home: only the
# sandbox on 127.0.0.1 is reached.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("PAYGENTIC_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "NO CHROMIUM: the dashboard's browser tests did NOT run. Install Debian's "
            "`chromium` (scripts/bootstrap does it with apt-get where it can) or point "
            "PAYGENTIC_CHROMIUM at a Chromium binary."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
