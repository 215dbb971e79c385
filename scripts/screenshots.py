"""Screenshots of the sandbox dashboard's pages for the docs (docs/sandbox/img/), taken in
a real headless Chromium (Debian's `chromium`, driven by Playwright, as in the browser tests)
against a sandbox filled with a morning of usage through the public API: three customers,
three billable metrics, a batch with failed entries, replays, a conflict, a refund and a
fault plan.

Usage: scripts/screenshots [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
from paygentic_sandbox.testing import Sandbox, SandboxServer
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
CUSTOMERS = ["cus_acme", "cus_globex", "cus_initech"]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def event(sandbox: Sandbox, key: str, customer: str, minutes: int, **q: Any) -> dict[str, Any]:
    prices = {"bm_input_tokens": "0.000003", "bm_output_tokens": "0.000015"}
    return {
        "idempotencyKey": key,
        "customerId": customer,
        "merchantId": sandbox.merchant_id,
        "timestamp": (START + datetime.timedelta(minutes=minutes)).isoformat(),
        "properties": [
            {"billableMetricId": m, "quantity": n, **({"price": prices[m]} if m in prices else {})}
            for m, n in q.items()
        ],
    }


def fill(sandbox: Sandbox) -> None:
    pick = random.Random(28)
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as api:
        events = []
        for n in range(90):
            customer = CUSTOMERS[n % 3]
            scale = 3 - n % 3
            events.append(
                event(
                    sandbox,
                    f"chat-{n}",
                    customer,
                    n * 4,
                    bm_input_tokens=pick.randint(800, 2400) * scale,
                    bm_output_tokens=pick.randint(200, 900) * scale,
                )
            )
        events.append(event(sandbox, "bad-0", "cus_acme", 30, bm_gpu_hours=0))
        events.append(event(sandbox, "bad-1", "cus_globex", 31, bm_gpu_hours=-2))
        assert api.post("/v0/usage/batch", json={"events": events}).status_code == 207
        gpu = [
            event(sandbox, f"gpu-{n}", "cus_initech", 60 * n + 5, bm_gpu_hours=1 + n)
            for n in range(6)
        ]
        assert api.post("/v0/usage/batch", json={"events": gpu}).status_code == 201
        replayed = api.post("/v0/usage", json=events[88])  # a replay
        assert replayed.status_code == 201
        conflict = {
            **events[85],
            "properties": [{"billableMetricId": "bm_input_tokens", "quantity": 1}],
        }
        assert api.post("/v0/usage", json=conflict).status_code == 201  # a conflict
        refund = {"refunded": True, "reason": "generation failed"}
        assert api.patch(f"/v0/usage/{replayed.json()['id']}", json=refund).status_code == 200
        put = {"faults": "503=0.02,latency=0.01:0.03", "seed": 1}
        assert api.put("/_sandbox/api/faults", json=put).status_code == 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "sandbox" / "img")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("screenshots: no chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with SandboxServer.start() as server, sync_playwright() as playwright:
        sandbox = server.new_merchant(token="sbx_docs_token", merchant_id="org_docs")
        fill(sandbox)
        browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        page.goto(sandbox.dashboard_url)
        page.get_by_label("Token").fill(sandbox.token)
        shots = [("signin", None)] + [
            (name.lower(), name) for name in ("Events", "Usage", "Activity")
        ]
        for name, link in shots:
            if link == "Events":
                page.get_by_role("button", name="Sign in").click()
            elif link is not None:
                page.get_by_role("link", name=link).click()
            path = args.out / f"dashboard-{name}.png"
            page.screenshot(path=str(path), full_page=name != "events")
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
