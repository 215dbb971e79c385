"""A real PostgreSQL for the outbox's tests: the `pgserver` package's PostgreSQL 16, started
once per session in a temp dir, listening on a unix socket only (no TCP port at all), and
always stopped. Each test gets a database of its own with the outbox created in it.

    def test_x(outbox_dsn: str) -> None:
        with psycopg.connect(outbox_dsn) as conn: ...

A test that restarts the database takes `restartable_postgres`: `dsn` (outbox_dsn's) and
`restart()`, which stops the session's server and starts it again on its data directory.

When pgserver cannot start (no binaries for this platform), the tests skip saying why.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from paygentic_client.ingest import outbox

_numbers = itertools.count()


@dataclass
class PostgresServer:
    """The session's server: its data directory, pgserver's handle, and the DSN of its
    `postgres` database."""

    data: Path
    handle: Any
    dsn: str

    def restart(self) -> None:
        """Stop the server (pg_ctl's default fast stop, through pgserver's cleanup(): every
        session is ended) and start it again on the same data directory with pgserver's
        get_server(); the DSN (a unix socket in the data directory) stays the same."""
        self.handle.cleanup()
        self.handle = _get_server()(self.data, cleanup_mode="stop")
        assert str(self.handle.get_uri()) == self.dsn


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    data, handle = _start_in_fresh_directory()
    server = PostgresServer(data, handle, str(handle.get_uri()))
    try:
        yield server
    finally:
        server.handle.cleanup()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(postgres_server: PostgresServer) -> str:
    """The DSN of the session's server (its `postgres` database)."""
    return postgres_server.dsn


@pytest.fixture
def outbox_dsn(postgres: str) -> Iterator[str]:
    """A fresh database with the outbox created in it, dropped afterwards."""
    name = f"outbox_{next(_numbers)}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = str(psycopg.conninfo.make_conninfo(postgres, dbname=name))
    with psycopg.connect(dsn) as conn:
        outbox.init(conn)
    try:
        yield dsn
    finally:
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class RestartablePostgres:
    dsn: str  # a fresh database with the outbox created in it (outbox_dsn)
    restart: Callable[[], None]  # the session's server: stopped and started again


@pytest.fixture
def restartable_postgres(
    postgres_server: PostgresServer, outbox_dsn: str
) -> Iterator[RestartablePostgres]:
    """outbox_dsn, on a server the test may restart (the session's: a restart costs about a
    second where a server of its own would take an initdb). Every other test connects
    afresh, so one that follows finds the server up again."""
    yield RestartablePostgres(outbox_dsn, postgres_server.restart)
    if postgres_server.handle.get_pid() is None:  # a restart failed half way: start it
        postgres_server.handle = _get_server()(postgres_server.data, cleanup_mode="stop")


def _get_server() -> Any:
    with warnings.catch_warnings():
        # platformdirs (pgserver's) warns when XDG_RUNTIME_DIR is unset, as in CI.
        warnings.simplefilter("ignore")
        import pgserver

    # get_server is pgserver's documented entry point; its __init__ does not list it in
    # __all__, hence the getattr.
    return getattr(pgserver, "get_server")  # noqa: B009


def _start_in_fresh_directory() -> tuple[Path, Any]:
    """A new server's data directory and pgserver handle; skips the test when it cannot
    start."""
    # Not under pytest's basetemp: other pytest sessions of the same user (concurrent runs,
    # CI jobs sharing a machine) delete all but the newest three of those, a live server's
    # data directory included.
    data = Path(tempfile.mkdtemp(prefix="paygentic-pg-"))
    try:
        return data, _get_server()(data, cleanup_mode="stop")
    except Exception as error:  # no binaries, no permission: say so, loudly
        shutil.rmtree(data, ignore_errors=True)
        message = f"PostgreSQL (pgserver) could not start: {error!r}"
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
