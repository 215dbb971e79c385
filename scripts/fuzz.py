"""Property-based fuzzing of a deployment of the usage-events API (run by scripts/fuzz).

Runs schemathesis's command line over openapi.yaml with the project's schemathesis.toml: every
check, every phase (examples, coverage, fuzzing, and the stateful phase that follows the
spec's links). Without --url it starts a sandbox on a temporary database and fuzzes that.
The JUnit report goes to a directory printed at the start and at the end; the exit status is
schemathesis's (non-zero on any failure).

Before fuzzing, one probe request (list the merchant's events of the last day) checks that
the token is accepted and may act for the merchant: schemathesis counts a 401 on every
request as a pass, so an expired token would otherwise give a green run that tested nothing.
A probe answered 401 or 403, or not answered at all, ends the run with exit status 2.

--deep is the long run for a night or a release, not CI: schemathesis with --max-examples
1000 (unless given), then, without --url, the property tests of
tests/property/test_property_*.py with PAYGENTIC_PROPERTY_EXAMPLES=1000 (each test's budget
raised to it; see tests/support/property_support.py). Hypothesis keeps what fails in
.hypothesis/ (git-ignored), so the next plain `pytest` replays it first.

The token and its merchant reach schemathesis through the environment
(PAYGENTIC_BEARER_AUTH, PAYGENTIC_MERCHANT_ID, read by schemathesis.toml), never on a command
line where other users of the machine could read them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from paygentic_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_MERCHANT_ID = "org_fuzz"
QUICK_MAX_EXAMPLES = 10
PROBE_PATH = "/v0/usage"
PROBE_TIMEOUT = 30.0  # seconds
AUTH_FAILED_STATUS = 2
DEEP_MAX_EXAMPLES = 1000


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    merchant_id: str


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/fuzz",
        description="Fuzz a deployment of the usage-events API with schemathesis "
        "(all checks, stateful phase). Without --url, fuzz a fresh local sandbox.",
    )
    parser.add_argument("--url", help="base URL of the API (default: start a sandbox)")
    parser.add_argument(
        "--token",
        default=os.environ.get("PAYGENTIC_BEARER_AUTH"),
        help="bearer token (default: $PAYGENTIC_BEARER_AUTH; needed with --url)",
    )
    parser.add_argument(
        "--merchant-id",
        default=os.environ.get("PAYGENTIC_MERCHANT_ID"),
        help="the merchant organisation the token acts for: generated events are created for "
        "it (default: $PAYGENTIC_MERCHANT_ID; needed with --url)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        help="test cases per operation and phase (default: schemathesis's, 100)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run for CI: --max-examples {QUICK_MAX_EXAMPLES} unless given",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help=f"a long run: --max-examples {DEEP_MAX_EXAMPLES} unless given, then (without "
        f"--url) the property tests with PAYGENTIC_PROPERTY_EXAMPLES={DEEP_MAX_EXAMPLES}",
    )
    parser.add_argument("--seed", type=int, help="random seed, to reproduce a run")
    parser.add_argument(
        "--spec",
        type=Path,
        default=ROOT / "openapi.yaml",
        help="the OpenAPI document to fuzz with (default: openapi.yaml); without --url the "
        "sandbox follows it too, as after a spec change not yet built into the sandbox",
    )
    parser.add_argument(
        "--operation",
        action="append",
        metavar="OPERATION_ID",
        help="fuzz only this operation (repeatable; default: all), without the stateful phase",
    )
    parser.add_argument(
        "--report-dir", type=Path, help="where to write junit.xml (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    if args.url and not (args.token and args.merchant_id):
        parser.error(
            "with --url, give --token and --merchant-id "
            "(or set PAYGENTIC_BEARER_AUTH and PAYGENTIC_MERCHANT_ID)"
        )
    if args.quick and args.deep:
        parser.error("--quick and --deep exclude each other")
    if args.quick and args.max_examples is None:
        args.max_examples = QUICK_MAX_EXAMPLES
    if args.deep and args.max_examples is None:
        args.max_examples = DEEP_MAX_EXAMPLES
    return args


@contextlib.contextmanager
def target_for(args: argparse.Namespace, report_dir: Path) -> Iterator[Target]:
    if args.url:
        yield Target(args.url, args.token, args.merchant_id)
        return
    token = "fuzz_" + secrets.token_hex(16)
    with (
        tempfile.TemporaryDirectory(prefix="paygentic-fuzz-db-") as db_dir,
        SandboxProcess(
            db=Path(db_dir) / "sandbox.db",
            tokens={token: SANDBOX_MERCHANT_ID},
            spec=None if args.spec.resolve() == (ROOT / "openapi.yaml") else args.spec,
            # The server's own warnings about the malformed requests fuzzing sends (uvicorn's
            # "Invalid HTTP request received") go to a file, not between the run's lines.
            log=report_dir / "sandbox.log",
        ) as sb,
    ):
        print(
            f"Started a sandbox at {sb.url} (temporary database, merchant {SANDBOX_MERCHANT_ID}; "
            f"its log: {report_dir / 'sandbox.log'})"
        )
        yield Target(sb.url, token, SANDBOX_MERCHANT_ID)


def probe_failure(target: Target) -> str | None:
    """Why fuzzing target would be pointless (the token or merchant refused, no answer), or
    None when the probe request is authorised. The message never holds the token."""
    now = datetime.datetime.now(datetime.UTC)
    params = {
        "startTime": (now - datetime.timedelta(days=1)).isoformat(),
        "endTime": now.isoformat(),
        "limit": "1",
        "merchantId": target.merchant_id,
    }
    request = f"GET {target.url.rstrip('/')}{PROBE_PATH}"
    try:
        response = httpx.get(
            target.url.rstrip("/") + PROBE_PATH,
            params=params,
            headers={"Authorization": f"Bearer {target.token}"},
            timeout=PROBE_TIMEOUT,
        )
    except httpx.HTTPError as error:
        return f"the probe request {request} got no answer: {type(error).__name__}"
    if response.status_code == 401:
        return (
            f"authentication failed: the probe request {request} was answered 401, the token "
            "is not valid (expired, revoked or for another environment); check --token or "
            "$PAYGENTIC_BEARER_AUTH"
        )
    if response.status_code == 403:
        return (
            f"authentication failed: the probe request {request} was answered 403, the token "
            f"may not act for merchant {target.merchant_id}; check --merchant-id or "
            "$PAYGENTIC_MERCHANT_ID"
        )
    return None


def schemathesis_command(target: Target, args: argparse.Namespace, report_dir: Path) -> list[str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        str(args.spec.resolve()),
        "--url",
        target.url,
        "--checks",
        "all",
        "--phases",
        # The stateful phase follows links between operations: with some left out, it has none.
        "examples,coverage,fuzzing" if args.operation else "examples,coverage,fuzzing,stateful",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / "junit.xml"),
    ]
    if args.max_examples is not None:
        command += ["--max-examples", str(args.max_examples)]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    for operation_id in args.operation or ():
        command += ["--include-operation-id", operation_id]
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report_dir = args.report_dir or Path(tempfile.mkdtemp(prefix="paygentic-fuzz-report-"))
    report_dir.mkdir(parents=True, exist_ok=True)
    print(f"JUnit report: {report_dir / 'junit.xml'}")
    with target_for(args, report_dir) as target:
        failure = probe_failure(target)
        if failure is not None:
            print(f"Fuzzing not started: {failure}", file=sys.stderr)
            return AUTH_FAILED_STATUS
        env = {
            **os.environ,
            "PAYGENTIC_BEARER_AUTH": target.token,
            "PAYGENTIC_MERCHANT_ID": target.merchant_id,
        }
        status = subprocess.call(schemathesis_command(target, args, report_dir), env=env, cwd=ROOT)
    verdict = "passed" if status == 0 else f"FAILED (exit status {status})"
    print(f"Fuzzing {verdict}. JUnit report: {report_dir / 'junit.xml'}")
    if args.deep and not args.url:
        status = run_deep_property_tests(args.max_examples) or status
    return status


def run_deep_property_tests(examples: int) -> int:
    """The property tests of tests/, each with at least `examples` examples (they start
    sandboxes of their own)."""
    env = {**os.environ, "PAYGENTIC_PROPERTY_EXAMPLES": str(examples)}
    tests = sorted(str(path) for path in (ROOT / "tests" / "property").glob("test_property_*.py"))
    print(f"Property tests with PAYGENTIC_PROPERTY_EXAMPLES={examples}")
    # The deep budgets outgrow the suite's per-test timeout (pyproject.toml): none here.
    command = [sys.executable, "-m", "pytest", "-q", "-o", "timeout=0", *tests]
    return subprocess.call(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
