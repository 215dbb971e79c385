"""`paygentic-usage import` against the sandbox, and the reading of import files."""

from __future__ import annotations

import datetime
import functools
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import tqdm
from support.inprocess_sandbox import InProcessFactory
from support.sandbox_fixture import MERCHANT_ID, OTHER_MERCHANT_ID, TOKEN, SandboxFactory

from paygentic_client import AuthenticatedClient, UsageIngester
from paygentic_client.api.usage_events import list_usage_events
from paygentic_client.cli import main as cli
from paygentic_client.cli.checkpoint import Watermark
from paygentic_client.cli.importer import ImportOptions, run_import
from paygentic_client.cli.records import (
    RecordError,
    normalise_timestamp,
    open_source,
    read_csv,
    to_event,
)

STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)


def ndjson_line(n: int, customer_id: str, *, keyed: bool) -> str:
    moment = STAMP + datetime.timedelta(milliseconds=n)
    event = {
        "customerId": customer_id,
        "merchantId": MERCHANT_ID,
        # lenient form: a space for the T, an offset without a colon
        "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S.%f+0000"),
        "properties": [{"billableMetricId": "bm_x", "quantity": 1 + n % 3, "price": "0.01"}],
    }
    if keyed:
        event["idempotencyKey"] = f"{customer_id}_{n}"
    return json.dumps(event) + "\n"


def stored_total(url: str, customer_id: str) -> int:
    client = AuthenticatedClient(base_url=url, token=TOKEN)
    page = list_usage_events.sync(
        client=client,
        start_time=STAMP - datetime.timedelta(days=1),
        end_time=STAMP + datetime.timedelta(days=1),
        customer_id=customer_id,
        limit=1,
    )
    return page.pagination.total


def run_cli(*args: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PAYGENTIC_BEARER_AUTH": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "paygentic_client.cli.main", "import", *args, "--no-progress"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class GateProxy(ThreadingHTTPServer):
    """A loopback proxy in front of the sandbox that forwards batches until `limit` events
    have passed, then holds every further request unanswered until `release` is set: the
    import it serves can then never finish, however fast the machine is."""

    daemon_threads = True

    def __init__(self, upstream: str, limit: int) -> None:
        super().__init__(("127.0.0.1", 0), GateHandler)
        self.upstream = httpx.Client(base_url=upstream, timeout=60)
        self.limit = limit
        self.forwarded = 0  # events forwarded so far
        self.lock = threading.Lock()
        self.holding = threading.Event()  # a request is held: the import is stuck
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class GateHandler(BaseHTTPRequestHandler):
    server: GateProxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            passing = self.server.forwarded < self.server.limit
            if passing:
                self.server.forwarded += len(json.loads(body).get("events", [None]))
        if not passing:
            self.server.holding.set()
            self.server.release.wait()
            self.close_connection = True
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = self.server.upstream.post(self.path, content=body, headers=headers)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@pytest.fixture
def gate_factory() -> Iterator[Callable[[str, int], GateProxy]]:
    started: list[tuple[GateProxy, threading.Thread]] = []

    def start(upstream: str, limit: int) -> GateProxy:
        proxy = GateProxy(upstream, limit)
        thread = threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((proxy, thread))
        return proxy

    yield start
    for proxy, thread in started:
        proxy.release.set()
        proxy.shutdown()
        proxy.server_close()
        proxy.upstream.close()
        thread.join()


@pytest.mark.timeout(240)
def test_import_killed_half_way_and_rerun_creates_each_event_once(
    sandbox_factory: SandboxFactory,
    gate_factory: Callable[[str, int], GateProxy],
    tmp_path: Path,
) -> None:
    server = sandbox_factory()
    source = tmp_path / "usage.ndjson"
    # Half the lines have a key of their own, half get a derived one.
    source.write_text("".join(ndjson_line(n, "cus_bulk", keyed=n % 2 == 0) for n in range(50_000)))
    checkpoint = tmp_path / "usage.ndjson.checkpoint"

    # The first run goes through a gate that lets 25 000 events reach the sandbox and then
    # holds the import: killed while held, it is killed half-way by construction (no poll
    # racing the import to its end).
    gate = gate_factory(server.url, 25_000)
    first = run_cli(str(source), "--base-url", gate.url)
    if not gate.holding.wait(timeout=180):
        first.kill()
        pytest.fail(f"the import never reached the gate:\n{first.communicate()[1]}")
    first.send_signal(signal.SIGKILL)  # a crash: no chance to save anything more
    first.communicate()
    assert first.returncode == -signal.SIGKILL
    line_at_kill = json.loads(checkpoint.read_text())["line"] if checkpoint.exists() else 0
    stored_at_kill = stored_total(server.url, "cus_bulk")
    # Whatever the checkpoint settled reached the sandbox: it is never ahead of the server.
    assert line_at_kill <= stored_at_kill <= gate.forwarded < 50_000

    second = run_cli(str(source), "--base-url", server.url)
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    if line_at_kill:
        assert f"{line_at_kill} lines settled by an earlier run" in out
    # The lines delivered after the last checkpoint are sent again and deduplicated.
    assert stored_total(server.url, "cus_bulk") == 50_000
    assert json.loads(checkpoint.read_text())["line"] == 50_000
    assert not (tmp_path / "usage.ndjson.rejects.ndjson").exists()  # nothing rejected


def test_rejected_lines_go_to_the_rejects_file_and_the_import_goes_on(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory()
    other_merchant = ndjson_line(7, "cus_rejects", keyed=True).replace(
        MERCHANT_ID, OTHER_MERCHANT_ID
    )
    lines = [
        ndjson_line(1, "cus_rejects", keyed=True),
        "{not json\n",
        "\n",  # blank: skipped
        json.dumps({"customerId": "cus_rejects", "merchantId": MERCHANT_ID}) + "\n",
        ndjson_line(4, "cus_rejects", keyed=True).replace("+0000", ""),  # no offset
        ndjson_line(5, "cus_rejects", keyed=True).replace('"quantity": 3', '"quantity": 0'),
        other_merchant,  # valid here, refused by the API
        ndjson_line(8, "cus_rejects", keyed=False),
    ]
    source = tmp_path / "mixed.ndjson"
    source.write_text("".join(lines))
    rejects = tmp_path / "rejected.ndjson"

    done = run_cli(str(source), "--base-url", server.url, "--rejects", str(rejects))
    out, err = done.communicate(timeout=60)
    assert done.returncode == 1, err
    assert "2 events delivered" in out and "5 lines rejected" in out
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(e["line"], e["idempotencyKey"]) for e in entries] == [
        (2, None),
        (4, None),
        (5, "cus_rejects_4"),
        (6, "cus_rejects_5"),
        (7, "cus_rejects_7"),
    ]
    reasons = [e["reason"] for e in entries]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "timestamp: missing (an ISO 8601 date and time is required)"
    assert "has no UTC offset" in reasons[2] and "--assume-utc" in reasons[2]
    assert reasons[3] == "properties[0].quantity: must be at least 1"
    assert reasons[4].startswith("rejected by the API: merchantId: this token cannot act")
    assert stored_total(server.url, "cus_rejects") == 2


def test_the_import_submits_a_batch_of_events_at_a_time(
    in_process_sandbox: InProcessFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One submit_many per batch_size lines read (a line rejected here is not among them),
    and the rest at the end; never a submit() per event."""
    sandbox = in_process_sandbox()
    lines = [ndjson_line(n, "cus_lists", keyed=True) for n in range(1000)]
    lines[500] = "{not json\n"
    source = tmp_path / "usage.ndjson"
    source.write_text("".join(lines))
    sizes: list[int] = []
    submit_many = UsageIngester.submit_many

    def counted(self: UsageIngester, events: Iterable[Any]) -> list[Any]:
        events = list(events)
        sizes.append(len(events))
        return submit_many(self, events)

    def one_by_one(self: UsageIngester, event: Any) -> Any:
        raise AssertionError("the import submitted an event on its own")

    monkeypatch.setattr(UsageIngester, "submit_many", counted)
    monkeypatch.setattr(UsageIngester, "submit", one_by_one)
    options = ImportOptions(
        source=source,
        format="ndjson",
        checkpoint=tmp_path / "usage.checkpoint",
        rejects=tmp_path / "usage.rejects.ndjson",
        batch_size=400,
    )
    summary = run_import(sandbox.client(), options)
    assert sizes == [400, 400, 199]
    assert (summary.delivered, summary.rejected, summary.checkpoint_line) == (999, 1, 1000)
    expected = {f"cus_lists_{n}" for n in range(1000) if n != 500}
    stored = sandbox.stored_keys()
    assert len(stored) == len(expected) and set(stored) == expected


def test_csv_rows_become_events(tmp_path: Path) -> None:
    text = (
        "idempotencyKey,customerId,merchantId,timestamp,billableMetricId,quantity,price,metadata\n"
        'k1,cus_a,org_a,2024-01-15 10:30:00+0100,bm_gpu,2.5,0.125,"{""model"": ""opus""}"\n'
        ",cus_a,org_a,2024-01-15T09:30:00Z,bm_gpu,3,,\n"
        "k3,cus_a,org_a,2024-01-15T09:30:00Z,bm_gpu,lots,,\n"
    )
    rows = list(read_csv(io.StringIO(text)))
    first = to_event(rows[0][1])  # type: ignore[arg-type]
    assert first.to_dict() == {
        "idempotencyKey": "k1",
        "customerId": "cus_a",
        "merchantId": "org_a",
        "timestamp": "2024-01-15T09:30:00+00:00",
        "properties": [{"billableMetricId": "bm_gpu", "quantity": 2.5, "price": "0.125"}],
        "metadata": {"model": "opus"},
    }
    second = to_event(rows[1][1])  # type: ignore[arg-type]
    assert second.idempotency_key.startswith("pgk_")
    assert [number for number, _ in rows] == [2, 3, 4]
    with pytest.raises(RecordError, match="quantity: a number is required"):
        to_event(rows[2][1])  # type: ignore[arg-type]


def test_a_csv_header_with_unknown_columns_is_refused() -> None:
    with pytest.raises(RecordError, match="unknown columns \\['customer'\\]"):
        list(read_csv(io.StringIO("customer,merchantId\n")))


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
        ("2024-01-15 10:30:00+0100", "2024-01-15T09:30:00Z"),
        ("2024-01-15T10:30:00.250-05:00", "2024-01-15T15:30:00.250000Z"),
    ],
)
def test_lenient_timestamps_are_normalised_to_utc(written: str, normalised: str) -> None:
    assert normalise_timestamp(written) == normalised


def test_a_timestamp_without_offset_needs_assume_utc() -> None:
    with pytest.raises(RecordError, match="no UTC offset"):
        normalise_timestamp("2024-01-15 10:30:00")
    assert normalise_timestamp("2024-01-15 10:30:00", assume_utc=True) == "2024-01-15T10:30:00Z"
    with pytest.raises(RecordError, match="not an ISO 8601"):
        normalise_timestamp("yesterday")


def test_the_watermark_advances_only_over_settled_lines() -> None:
    mark = Watermark(0)
    for line in (1, 2, 4, 5):
        mark.opened(line)
    mark.settled(2)
    assert mark.line == 0
    mark.settled(1)
    assert mark.line == 2
    mark.settled(5)
    assert mark.line == 2
    mark.settled(4)
    assert mark.line == 5


def test_no_token_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAYGENTIC_BEARER_AUTH", raising=False)
    source = tmp_path / "x.ndjson"
    source.write_text("")
    assert cli.main(["import", str(source)]) == 2
    assert "set PAYGENTIC_BEARER_AUTH" in capsys.readouterr().err


def test_without_tqdm_the_message_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", "tok_unused")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    source = tmp_path / "x.ndjson"
    source.write_text("")
    assert cli.main(["import", str(source)]) == 2
    assert 'pip install "paygentic-client[cli]"' in capsys.readouterr().err


def test_a_line_that_is_not_utf8_is_rejected_and_the_rest_imported(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory()
    lines = [ndjson_line(n, "cus_utf8", keyed=True).encode() for n in range(6)]
    lines[2] = lines[2].replace(b"bm_x", b"bm_\xff")  # a Latin-1 byte inside a string
    lines[4] = b"\xfe" + lines[4]  # and one outside any string
    source = tmp_path / "mixed.ndjson"
    source.write_bytes(b"".join(lines))
    rejects = tmp_path / "rejected.ndjson"

    done = run_cli(str(source), "--base-url", server.url, "--rejects", str(rejects))
    out, err = done.communicate(timeout=60)

    assert done.returncode == 1, err
    assert "4 events delivered" in out and "2 lines rejected" in out
    entries = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert entries == [
        {
            "line": 3,
            "reason": "not valid UTF-8 (byte 0xff); save the file as UTF-8",
            "idempotencyKey": None,
        },
        {
            "line": 5,
            "reason": "not valid UTF-8 (byte 0xfe); save the file as UTF-8",
            "idempotencyKey": None,
        },
    ]
    assert stored_total(server.url, "cus_utf8") == 4


def test_a_csv_record_that_is_not_utf8_is_rejected_and_quoted_line_breaks_still_work(
    tmp_path: Path,
) -> None:
    source = tmp_path / "usage.csv"
    source.write_bytes(
        b"customerId,merchantId,timestamp,billableMetricId,quantity,metadata\n"
        b'cus_a,org_a,2024-01-15T09:30:00Z,bm_gpu,1,"{""note"":\n""two lines""}"\n'
        b'cus_a,org_a,2024-01-15T09:30:00Z,bm_gpu,2,"{""note"":\n""caf\xe9""}"\n'
        b"cus_\xe9,org_a,2024-01-15T09:30:00Z,bm_gpu,3,\n"
        b"cus_a,org_a,2024-01-15T09:30:00Z,bm_gpu,4,\n"
    )

    with open_source(source) as stream:
        rows = list(read_csv(stream))

    # A record's number is its last line: the quoted cells span two lines each.
    assert [number for number, _ in rows] == [3, 5, 6, 7]
    first, second, third, fourth = (record for _, record in rows)
    assert to_event(first).to_dict()["metadata"] == {"note": "two lines"}  # type: ignore[arg-type]
    assert str(second) == str(third) == "not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    assert to_event(fourth).to_dict()["properties"][0]["quantity"] == 4  # type: ignore[arg-type]


def test_a_csv_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "usage.csv"
    source.write_bytes(b"customerId,merchant\xa0Id\n")
    with open_source(source) as stream, pytest.raises(RecordError, match="header: not valid"):
        list(read_csv(stream))


class SilentServer(ThreadingHTTPServer):
    """Takes requests and never answers them (until released): events stay in flight."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SilentHandler)
        self.received = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class SilentHandler(BaseHTTPRequestHandler):
    server: SilentServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.server.received.set()
        self.server.release.wait()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.slow  # the command in a process of its own, 5,000 lines: the slow tier
def test_ctrl_c_prints_a_short_summary_not_every_pending_key(
    silent_server: SilentServer, tmp_path: Path
) -> None:
    # No batch is ever answered: after Ctrl-C and the grace, the ingester gives up on every
    # event submitted and logs each one's idempotency key (1000s of them).
    source = tmp_path / "usage.ndjson"
    source.write_text("".join(ndjson_line(n, "cus_ctrl_c", keyed=True) for n in range(5_000)))
    running = run_cli(str(source), "--base-url", silent_server.url)
    assert silent_server.received.wait(60), "the import sent no batch within 60 s"

    running.send_signal(signal.SIGINT)
    out, err = running.communicate(timeout=60)

    assert running.returncode == 130, err
    assert re.fullmatch(
        "\n"
        "paygentic-usage: interrupted. 0 events delivered, 0 lines rejected, [1-9][0-9]* events "
        "not confirmed yet \\(sent again on resume, never billed twice\\).\n"
        f"checkpoint: {re.escape(str(source))}.checkpoint \\(every line up to 0 is settled\\)\n"
        "to resume, run the same command again\n",
        err,
    ), err[:4000]


def test_progress_counts_are_whole_numbers() -> None:
    drawn = io.StringIO()
    progress = cli._TqdmProgress(functools.partial(tqdm.tqdm, file=drawn, mininterval=0))
    progress.start(50_000, 1_000)
    progress.advance(1_500)
    progress.close()
    assert "2500/50000 [" in drawn.getvalue()


@pytest.mark.parametrize(("make", "reason"), [(None, "no such file"), ("dir", "not a file")])
def test_a_file_that_cannot_be_read_is_reported_before_any_progress(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: str | None,
    reason: str,
) -> None:
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", "tok_unused")
    source = tmp_path / "usage.ndjson"
    if make == "dir":
        source.mkdir()
    assert cli.main(["import", str(source), "--base-url", "http://127.0.0.1:9"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"paygentic-usage: {source}: {reason}\n"
    assert captured.out == ""


def test_no_rejects_file_is_left_when_nothing_was_rejected(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory()
    source = tmp_path / "good.ndjson"
    source.write_text("".join(ndjson_line(n, "cus_clean", keyed=True) for n in range(3)))
    rejects = tmp_path / "good.ndjson.rejects.ndjson"
    rejects.write_text('{"line": 1, "reason": "from an earlier run", "idempotencyKey": null}\n')

    done = run_cli(str(source), "--base-url", server.url, "--restart")
    out, err = done.communicate(timeout=60)

    assert done.returncode == 0, err
    assert "3 events delivered" in out
    assert not rejects.exists()
