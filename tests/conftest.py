"""Shared fixtures (see support/sandbox_fixture.py and support/inprocess_sandbox.py), the
loopback guard (support/network_guard.py), Hypothesis settings (support/property_support.py),
and the count of property-test cases printed at the end of the session.

The tests are grouped in folders by area (client, ingest, sandbox, spec, property, tools; see
CONTRIBUTING's tier table); the helpers they share are the package `support`, imported as
`from support.x import ...` (this folder is on sys.path through this conftest)."""

import faulthandler
import os
from typing import Any

import pytest
from support.ingest_harness import direct_spool, ingest_driver, ingest_store, ingesting
from support.inprocess_sandbox import in_process_sandbox
from support.otel_capture import otel
from support.postgres_fixture import outbox_dsn, postgres, postgres_server, restartable_postgres
from support.property_support import (
    CASES,
    EXAMPLES_VARIABLE,
    client_sandbox,
    drift_sandbox,
    null_optionals_sandbox,
    property_sandbox,
    register_hypothesis_profile,
)
from support.sandbox_fixture import sandbox, sandbox_factory
from support.tmpfs import small_tmpfs

__all__ = [
    "client_sandbox",
    "direct_spool",
    "drift_sandbox",
    "ingest_driver",
    "ingest_store",
    "ingesting",
    "in_process_sandbox",
    "null_optionals_sandbox",
    "otel",
    "outbox_dsn",
    "postgres",
    "postgres_server",
    "property_sandbox",
    "restartable_postgres",
    "sandbox",
    "sandbox_factory",
    "small_tmpfs",
]

# network_guard: the autouse loopback guard. pytester: a pytest of its own in a subprocess,
# for the guard's own tests.
pytest_plugins = ["support.network_guard", "pytester"]

register_hypothesis_profile()


# The slow tier, left out by `scripts/test --fast` (`-m "not slow"`): what starts sandbox
# processes (these fixtures; the in-process sandbox of support/inprocess_sandbox.py is not
# one: its tests are the unit tier's, and they judge ingest/'s mutants), runs a pytest of its own,
# or runs the property tests; and the modules whose every test runs a subprocess (the
# generator, the README's examples, the sandbox started by hand). Marked here, so that a new
# test on these fixtures is slow at once.
SLOW_FIXTURES = {
    "sandbox",
    "sandbox_factory",
    # The plugin of paygentic-sandbox (paygentic_sandbox/pytest_plugin.py).
    "paygentic_sandbox",
    "paygentic_sandbox_factory",
    "paygentic_sandbox_server",
    "property_sandbox",
    "client_sandbox",
    "direct_spool",
    "drift_sandbox",
    "ingest_driver",
    "ingest_store",
    "ingesting",
    "null_optionals_sandbox",
    "pytester",
    "postgres",  # a PostgreSQL server (support/postgres_fixture.py)
    "outbox_dsn",
    "postgres_server",
    "restartable_postgres",
}
SLOW_MODULES = {"test_regenerate.py", "test_readme.py", "test_sandbox_process.py"}
# The default timeout (pyproject.toml) is 60 s; these take up to ~35 s alone on this 2-core
# machine (the generator's run, a property test's budget) and may take twice that under load,
# or far longer with PAYGENTIC_PROPERTY_EXAMPLES raised: 5 minutes, unless a test says.
LONG_MODULES = {"test_regenerate.py", "test_spec_drills.py"}
LONG_TIMEOUT = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        uses = set(getattr(item, "fixturenames", ()))
        prop = name.startswith("test_property_")
        if uses & SLOW_FIXTURES or name in SLOW_MODULES or prop:
            item.add_marker(pytest.mark.slow)
        if (name in LONG_MODULES or prop) and item.get_closest_marker("timeout") is None:
            # A deep run (raised budgets, scripts/fuzz --deep) takes as long as it takes.
            deep = prop and os.environ.get(EXAMPLES_VARIABLE)
            item.add_marker(pytest.mark.timeout(0 if deep else LONG_TIMEOUT))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test with a timeout longer than faulthandler_timeout (45 s, pyproject.toml) has its
    stack dump moved to 15 s before that timeout: at 45 s it would print every thread's stack
    into the output of a run that passes. Written to fd 2, which pytest captures: a test that
    fails shows it."""
    marker = item.get_closest_marker("timeout")
    seconds = float(marker.args[0]) if marker is not None and marker.args else 0.0
    if seconds > 60:
        faulthandler.dump_traceback_later(seconds - 15, file=2)
    elif marker is not None and marker.args and seconds == 0:
        faulthandler.cancel_dump_traceback_later()


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist (scripts/test runs two workers) each worker counts its own cases; it
    # hands them to the controller through xdist's documented `workeroutput`.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["property_cases"] = dict(CASES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist's hook, on the controller: a worker finished; add up its cases."""
    CASES.update(getattr(node, "workeroutput", {}).get("property_cases", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CASES:
        terminalreporter.section("property-test cases run")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{name}: {count}")
        terminalreporter.write_line(f"total: {sum(CASES.values())}")
