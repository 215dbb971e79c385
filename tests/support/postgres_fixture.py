"""A real PostgreSQL for the outbox's tests: the `pgserver` package's PostgreSQL 16, started
once per session in a temp dir, listening on a unix socket only (no TCP port at all), and
always stopped. Each test gets a database of its own with the outbox created in it.

    def test_x(outbox_dsn: str) -> None:
        with psycopg.connect(outbox_dsn) as conn: ...

A test that restarts the database takes `restartable_postgres`: a server of its own (about a
second to start), with the outbox in its `postgres` database, and `restart()`.

When pgserver cannot start (no binaries for this platform), the tests skip saying why.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from paygentic_client.ingest import outbox

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The DSN of the session's server (its `postgres` database)."""
    data, server = _start_in_fresh_directory()
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class RestartablePostgres:
    data: Path
    server: Any
    dsn: str  # its `postgres` database, where the outbox is

    def restart(self) -> None:
        """Stop the server (pg_ctl's default fast stop, through pgserver's cleanup(): every
        session is ended) and start it again on the same data directory with pgserver's
        get_server(); the DSN (a unix socket in the data directory) stays the same."""
        self.server.cleanup()
        self.server = _get_server()(self.data, cleanup_mode="stop")
        assert str(self.server.get_uri()) == self.dsn


@pytest.fixture
def restartable_postgres() -> Iterator[RestartablePostgres]:
    """A server of this test's own, with the outbox created, that the test may restart."""
    data, server = _start_in_fresh_directory()
    handle = RestartablePostgres(data, server, str(server.get_uri()))
    try:
        with psycopg.connect(handle.dsn) as conn:
            outbox.init(conn)
        yield handle
    finally:
        handle.server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


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
