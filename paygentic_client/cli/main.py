"""`paygentic-usage`: the command line of paygentic_client.

    paygentic-usage import FILE [--base-url URL] [--format ndjson|csv] [--assume-utc] ...

The bearer token comes from PAYGENTIC_BEARER_AUTH (never from an argument, which would show
in the process list and shell history). The progress bar is tqdm's, installed with the
`cli` extra: pip install "paygentic-client[cli]".

Exit status: 0 every line delivered; 1 some lines rejected (see the rejects file) or the
import stopped on an API error; 2 bad usage (no token, unreadable file or checkpoint);
130 interrupted (the checkpoint is saved: run the same command again to resume).
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
from ..errors import CheckpointError, ImportStopped
from .importer import ImportOptions, ImportSummary, format_of, run_import
from .records import RecordError

TOKEN_VARIABLE = "PAYGENTIC_BEARER_AUTH"
BASE_URL_VARIABLE = "PAYGENTIC_BASE_URL"
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
    return main


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        return _fail(f"set {TOKEN_VARIABLE} to your API token")
    if not args.file.is_file():
        return _fail(f"{args.file}: no such file")
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
    except KeyboardInterrupt:
        progress.close()
        print(f"\ninterrupted; run the same command again to resume ({options.checkpoint})")
        return 130
    except (RecordError, CheckpointError) as error:
        progress.close()
        return _fail(str(error))
    except ImportStopped as error:
        progress.close()
        print(f"paygentic-usage: import stopped: {error}", file=sys.stderr)
        print(f"fix the cause and run the same command again to resume ({options.checkpoint})")
        return 1
    progress.close()
    print(_summary_line(summary, options))
    return 1 if summary.rejected else 0


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
            total=total, initial=done, unit="ev", unit_scale=True, dynamic_ncols=True
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
