"""`paygentic-usage`: the command line of paygentic_client.

    paygentic-usage import FILE [--base-url URL] [--format ndjson|csv] [--assume-utc] ...
    paygentic-usage spool status|drain|rejected|requeue PATH   (an ingester's spool; spool.py)
    paygentic-usage outbox init|status|rejected|requeue|drain|relay --dsn DSN
                                                         (the PostgreSQL outbox; see outbox.py)

The bearer token comes from PAYGENTIC_BEARER_AUTH (never from an argument, which would show
in the process list and shell history). The progress bar is tqdm's, installed with the
`cli` extra: pip install "paygentic-client[cli]".

Exit status: 0 every line delivered; 1 some lines rejected (see the rejects file) or the
import stopped on an API error; 2 bad usage (no token, unreadable file or checkpoint);
130 interrupted (the checkpoint is saved: run the same command again to resume).
spool drain: 0 the spool is empty; 1 events were rejected, the disk is full, or nothing moved
for --patience seconds (the reason is printed); 2 bad usage. spool status/rejected/requeue:
0, or 2 (no spool, or it cannot be read or written).
outbox: as spool; 2 also when the database or its outbox table cannot be used.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._runtime.config import PRODUCTION_BASE_URL
from ..client import AuthenticatedClient
from ..errors import CheckpointError, ImportStopped, OutboxError, SpoolError, SpoolStorageError
from . import outbox as outbox_cli
from . import spool as spool_cli
from .importer import ImportInterrupted, ImportOptions, ImportSummary, format_of, run_import
from .records import RecordError

TOKEN_VARIABLE = "PAYGENTIC_BEARER_AUTH"
BASE_URL_VARIABLE = "PAYGENTIC_BASE_URL"
DSN_VARIABLE = "PAYGENTIC_OUTBOX_DSN"
TQDM_MISSING = (
    "paygentic-usage: the progress bar needs tqdm, which comes with the cli extra:\n"
    '    pip install "paygentic-client[cli]"\n'
    "or run with --no-progress."
)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="paygentic-usage",
        description="Work with Paygentic usage events. The bearer token is read from "
        f"{TOKEN_VARIABLE}.",
    )
    commands = main.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "import",
        help="import usage events from an NDJSON or CSV file",
        description="Send every event of FILE exactly once, in batches, with a progress bar. "
        "Lines that are invalid or rejected by the API go to the rejects file with their "
        "line number and the reason; the import goes on. Interrupted or crashed imports "
        "resume from the checkpoint when the same command is run again. The CSV columns "
        "and accepted timestamps are described in docs/ingestion/import-cli.md.",
    )
    command.add_argument("file", type=Path, metavar="FILE")
    command.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_VARIABLE, PRODUCTION_BASE_URL),
        help=f"the API's base URL (default: ${BASE_URL_VARIABLE} or {PRODUCTION_BASE_URL})",
    )
    command.add_argument(
        "--format",
        choices=("ndjson", "csv"),
        help="the file's format (default: csv for a .csv file, ndjson otherwise)",
    )
    command.add_argument(
        "--assume-utc",
        action="store_true",
        help="read timestamps without a UTC offset as UTC (default: reject those lines)",
    )
    command.add_argument("--checkpoint", type=Path, help="default: FILE.checkpoint")
    command.add_argument("--rejects", type=Path, help="default: FILE.rejects.ndjson")
    command.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint and import from line 1"
    )
    command.add_argument("--batch-size", type=_batch_size, default=1000, help="1 to 1000")
    command.add_argument("--no-progress", action="store_true", help="no progress bar")
    _spool_commands(commands)
    _outbox_commands(commands)
    return main


def _spool_commands(commands: Any) -> None:
    spool = commands.add_parser(
        "spool", help="inspect or drain an ingester's spool", description=spool_cli.__doc__
    )
    actions = spool.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="pending, claimed, rejected, oldest, size")
    status.add_argument("path", type=Path, metavar="PATH")
    status.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    actions.add_parser("rejected", help="rejected events with reasons (NDJSON)").add_argument(
        "path", type=Path, metavar="PATH"
    )
    requeue = actions.add_parser(
        "requeue",
        help="move rejected events back to pending",
        description="Move rejected events back to pending, to be delivered again (after the "
        "cause of their rejection is fixed); prints how many moved.",
    )
    requeue.add_argument("path", type=Path, metavar="PATH")
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every rejected event")
    which.add_argument("--key", nargs="+", metavar="KEY", help="the events with these keys")
    which.add_argument(
        "--reason-contains", metavar="TEXT", help="the events whose reason contains TEXT"
    )
    drain = actions.add_parser("drain", help="deliver every pending event")
    drain.add_argument("path", type=Path, metavar="PATH")
    drain.add_argument(
        "--base-url",
        default=os.environ.get(BASE_URL_VARIABLE, PRODUCTION_BASE_URL),
        help=f"the API's base URL (default: ${BASE_URL_VARIABLE} or {PRODUCTION_BASE_URL})",
    )
    drain.add_argument(
        "--patience",
        type=float,
        default=60.0,
        help="give up when nothing was delivered for this many seconds (default 60)",
    )
    drain.add_argument("--no-progress", action="store_true", help="no progress bar")


def _outbox_commands(commands: Any) -> None:
    outbox = commands.add_parser(
        "outbox",
        help="create, inspect, drain or relay the PostgreSQL outbox",
        description=outbox_cli.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = outbox.add_subparsers(dest="action", required=True)
    helps = {
        "init": "create or upgrade the outbox table (idempotent)",
        "status": "pending, claimed, rejected, oldest",
        "rejected": "rejected events with reasons (NDJSON)",
        "requeue": "make rejected events pending again",
        "drain": "deliver every pending event, then exit",
        "relay": "deliver recorded events as they are committed, until interrupted",
    }
    for name, text in helps.items():
        action = actions.add_parser(name, help=text)
        action.add_argument(
            "--dsn",
            default=os.environ.get(DSN_VARIABLE),
            help=f"the database (libpq connection string or URI; default: ${DSN_VARIABLE})",
        )
        if name == "init":
            action.add_argument("--print-sql", action="store_true", help="print the SQL only")
        if name == "status":
            action.add_argument("--json", action="store_true", help="one JSON object")
        if name == "requeue":  # as `spool requeue`
            which = action.add_mutually_exclusive_group(required=True)
            which.add_argument("--all", action="store_true", help="every rejected event")
            which.add_argument("--key", nargs="+", metavar="KEY", help="the events with these keys")
            which.add_argument(
                "--reason-contains", metavar="TEXT", help="the events whose reason contains TEXT"
            )
        if name in ("drain", "relay"):
            action.add_argument(
                "--base-url",
                default=os.environ.get(BASE_URL_VARIABLE, PRODUCTION_BASE_URL),
                help=f"the API's base URL (default: ${BASE_URL_VARIABLE} or {PRODUCTION_BASE_URL})",
            )
        if name == "drain":
            action.add_argument(
                "--patience",
                type=float,
                default=60.0,
                help="give up when nothing was delivered for this many seconds (default 60)",
            )
        if name == "relay":
            action.add_argument(
                "--poll",
                type=float,
                default=1.0,
                help="seconds between looks at the outbox without a NOTIFY (default 1)",
            )
            action.add_argument(
                "--lease",
                type=float,
                default=30.0,
                help="seconds a claim holds before another relay may take it over (default 30)",
            )


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "spool":
        return _spool(args)
    if args.command == "outbox":
        return _outbox(args)
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        return _fail(f"set {TOKEN_VARIABLE} to your API token")
    unreadable = _unreadable(args.file)
    if unreadable:
        return _fail(unreadable)
    options = ImportOptions(
        source=args.file,
        format=args.format or format_of(args.file),
        checkpoint=args.checkpoint or _beside(args.file, ".checkpoint"),
        rejects=args.rejects or _beside(args.file, ".rejects.ndjson"),
        restart=args.restart,
        assume_utc=args.assume_utc,
        batch_size=args.batch_size,
    )
    progress = _NoProgress() if args.no_progress else _tqdm_progress()
    if progress is None:
        print(TQDM_MISSING, file=sys.stderr)
        return 2
    client = AuthenticatedClient(base_url=args.base_url, token=token)
    try:
        with client:
            summary = run_import(client, options, start=progress.start, advance=progress.advance)
    except ImportInterrupted as interrupted:
        progress.close()
        print(_interrupted_message(interrupted.summary, options), file=sys.stderr)
        return 130
    except (RecordError, CheckpointError) as error:
        progress.close()
        return _fail(str(error))
    except OSError as error:  # e.g. the file became unreadable while the import ran
        progress.close()
        return _fail(f"{args.file}: {error.strerror or error}")
    except ImportStopped as error:
        progress.close()
        print(f"paygentic-usage: import stopped: {error}", file=sys.stderr)
        print(f"fix the cause and run the same command again to resume ({options.checkpoint})")
        return 1
    progress.close()
    print(_summary_line(summary, options))
    return 1 if summary.rejected else 0


def _spool(args: argparse.Namespace) -> int:
    try:
        if args.action == "status":
            return spool_cli.status(args.path, sys.stdout, as_json=args.json)
        if args.action == "rejected":
            return spool_cli.rejected(args.path, sys.stdout)
        if args.action == "requeue":
            return spool_cli.requeue(
                args.path,
                sys.stdout,
                everything=args.all,
                keys=args.key or (),
                reason_contains=args.reason_contains,
            )
        return _drain(args)
    except SpoolStorageError as error:  # a full disk: not bad usage, and said with what to free
        print(f"paygentic-usage: {error}", file=sys.stderr)
        return 1
    except SpoolError as error:
        return _fail(str(error))


def _outbox(args: argparse.Namespace) -> int:
    if args.action == "init" and args.print_sql:
        return outbox_cli.print_sql(sys.stdout)
    if not args.dsn:
        return _fail(f"give the database with --dsn or {DSN_VARIABLE}")
    try:
        import psycopg  # noqa: F401  # only to say how to get it
    except ImportError:
        return _fail(outbox_cli.POSTGRES_MISSING)
    try:
        if args.action == "init":
            return outbox_cli.init(args.dsn, sys.stdout)
        if args.action == "status":
            return outbox_cli.status(args.dsn, sys.stdout, as_json=args.json)
        if args.action == "rejected":
            return outbox_cli.rejected(args.dsn, sys.stdout)
        if args.action == "requeue":
            return outbox_cli.requeue(
                args.dsn,
                sys.stdout,
                everything=args.all,
                keys=args.key or (),
                reason_contains=args.reason_contains,
            )
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token:
            return _fail(f"set {TOKEN_VARIABLE} to your API token")
        with AuthenticatedClient(base_url=args.base_url, token=token) as client:
            if args.action == "relay":
                return outbox_cli.relay(client, args.dsn, poll=args.poll, lease=args.lease)
            result = outbox_cli.drain(client, args.dsn, patience=args.patience)
    except OutboxError as error:
        return _fail(str(error))
    status, message = outbox_cli.drain_message(result)
    print(
        f"paygentic-usage: {message}" if status else message,
        file=sys.stderr if status else sys.stdout,
    )
    return status


def _drain(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        return _fail(f"set {TOKEN_VARIABLE} to your API token")
    if not args.path.is_file():
        return _fail(f"{args.path}: no such spool")
    progress = _NoProgress() if args.no_progress else _tqdm_progress()
    if progress is None:
        print(TQDM_MISSING, file=sys.stderr)
        return 2
    with AuthenticatedClient(base_url=args.base_url, token=token) as client:
        try:
            result = spool_cli.drain(
                client,
                args.path,
                patience=args.patience,
                start=lambda total: progress.start(total, 0),
                advance=progress.advance,
            )
        finally:
            progress.close()
    status, message = spool_cli.drain_message(result, args.path)
    if status:
        print(f"paygentic-usage: {message}", file=sys.stderr)
    else:
        print(message)
    return status


def _summary_line(summary: ImportSummary, options: ImportOptions) -> str:
    rate = summary.delivered / summary.seconds if summary.seconds else 0.0
    parts = [
        f"{summary.delivered} events delivered in {summary.seconds:.1f} s ({rate:,.0f}/s)",
        f"{summary.rejected} lines rejected"
        + (f" (see {options.rejects})" if summary.rejected else ""),
    ]
    if summary.already_done:
        parts.append(f"{summary.already_done} lines settled by an earlier run")
    return "; ".join(parts)


def _interrupted_message(summary: ImportSummary, options: ImportOptions) -> str:
    """A few lines, whatever the size of the import: the events still unconfirmed are after
    the checkpoint and are sent again on resume (their keys make that safe)."""
    rejected = f" (see {options.rejects})" if summary.rejected else ""
    return "\n".join(
        [
            f"\npaygentic-usage: interrupted. {summary.delivered} events delivered, "
            f"{summary.rejected} lines rejected{rejected}, {summary.unconfirmed} events not "
            "confirmed yet (sent again on resume, never billed twice).",
            f"checkpoint: {options.checkpoint} (every line up to {summary.checkpoint_line} "
            "is settled)",
            "to resume, run the same command again",
        ]
    )


def _unreadable(path: Path) -> str | None:
    """Why path cannot be imported, checked before anything else happens, or None."""
    if not path.exists():
        return f"{path}: no such file"
    if not path.is_file():
        return f"{path}: not a file"
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        return f"{path}: cannot be read ({error.strerror or error})"
    return None


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _fail(message: str) -> int:
    print(f"paygentic-usage: {message}", file=sys.stderr)
    return 2


class _NoProgress:
    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmProgress:
    def __init__(self, factory: Callable[..., Any]) -> None:
        self._factory = factory
        self._bar: Any = None

    def start(self, total: int, done: int) -> None:
        self._bar = self._factory(
            # unit_scale would show 1500 events as "1.50k": counts stay whole numbers.
            total=total,
            initial=done,
            unit="ev",
            dynamic_ncols=True,
        )

    def advance(self, count: int) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _tqdm_progress() -> _TqdmProgress | None:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return _TqdmProgress(tqdm)


if __name__ == "__main__":
    sys.exit(main())
