"""`python -m paygentic_sandbox` / `paygentic-sandbox`: run the reference server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator, Sequence

import uvicorn

from paygentic_sandbox import faults as faults_module
from paygentic_sandbox.app import create_app, tune_garbage_collector
from paygentic_sandbox.config import (
    DEFAULT_DB_PATH,
    DEMO_MERCHANT_ID,
    DEMO_TOKEN,
    MAX_BODY_BYTES,
    READY_LINE_PREFIX,
)
from paygentic_sandbox.faults import FaultPlan, FaultSpecError

DESCRIPTION = f"""\
Run the Paygentic usage-events reference server (the five operations of openapi.yaml on
SQLite). It prints one line `{READY_LINE_PREFIX}URL` when it is ready and stops cleanly
on SIGINT or SIGTERM. Request bodies are limited to {MAX_BODY_BYTES} bytes (413 beyond).
Its dashboard is at URL/_sandbox/: sign in there with a token to see that merchant's data.
"""

EPILOG = f"""\
tokens:
  Each --token TOKEN:MERCHANT_ID lets TOKEN act for one merchant organisation. With no
  --token, the demo token {DEMO_TOKEN!r} acts for merchant {DEMO_MERCHANT_ID!r}.

faults (--faults SPEC):
{faults_module.__doc__.split("Syntax:", 1)[1] if faults_module.__doc__ else ""}"""


def _token(text: str) -> tuple[str, str]:
    token, _, merchant_id = text.rpartition(":")
    if not token or not merchant_id:
        raise argparse.ArgumentTypeError("expected TOKEN:MERCHANT_ID")
    return token, merchant_id


def _faults(text: str) -> FaultPlan:
    try:
        return FaultPlan.parse(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paygentic-sandbox",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=8080, help="port to bind; 0 picks a free one (default 8080)"
    )
    p.add_argument(
        "--db",
        default=DEFAULT_DB_PATH,
        help=f"SQLite file (default {DEFAULT_DB_PATH}); ':memory:' keeps nothing",
    )
    p.add_argument(
        "--token",
        type=_token,
        action="append",
        metavar="TOKEN:MERCHANT_ID",
        help="a bearer token and the merchant it acts for (repeatable)",
    )
    p.add_argument("--faults", type=_faults, default=FaultPlan(), metavar="SPEC")
    p.add_argument("--seed", type=int, help="seed of the fault draws, for reproducible runs")
    p.add_argument(
        "--null-optionals",
        action="store_true",
        help="send null for optional response fields that have no value, as production's "
        "published examples do (default: leave them out, as its published schema says)",
    )
    p.add_argument(
        "--spec",
        metavar="PATH",
        help="follow this OpenAPI document instead of the packaged openapi.yaml (to try a "
        "changed spec: declared fields without a rule are stored and returned, declared query "
        "parameters without one are refused)",
    )
    p.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="turn on the control API under /_sandbox/api/ that adds merchants, with this "
        "bearer token (the pytest plugin uses it; see docs/sandbox/testing.md)",
    )
    p.add_argument(
        "--drift",
        type=int,
        metavar="SEED",
        help="answer as a newer API might: fields the spec does not define in every object, "
        "and dispute statuses it does not list (to try a client against API drift)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    return p


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """Uvicorn re-raises SIGINT/SIGTERM after its shutdown, which would kill the process
    before the database is closed; here the signals only ask the server to exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._request_exit)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _request_exit(self) -> None:
        # A second signal forces the exit without waiting for open connections.
        self.force_exit = self.should_exit
        self.should_exit = True


async def serve(server: uvicorn.Server, sock: socket.socket) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(READY_LINE_PREFIX + url_of(sock), flush=True)
    await task


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tokens = dict(args.token or [(DEMO_TOKEN, DEMO_MERCHANT_ID)])
    app = create_app(
        args.db,
        tokens,
        args.faults,
        args.seed,
        null_optionals=args.null_optionals,
        spec_path=args.spec,
        control_token=args.control_token,
        drift=args.drift,
    )
    if not args.token:
        print(f"demo token: {DEMO_TOKEN} (merchant {DEMO_MERCHANT_ID})", flush=True)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it every response on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"paygentic-sandbox: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=args.access_log,
        lifespan="on",
        # The sandbox is often stopped while a client still holds a connection.
        timeout_graceful_shutdown=5,
    )
    tune_garbage_collector()
    try:
        asyncio.run(serve(_Server(config), sock))
    finally:
        app.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
