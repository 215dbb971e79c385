"""A running sandbox as a test sees it: where it is, a token, the merchant that token acts
for, and the helpers a billing test needs. The pytest plugin (pytest_plugin.py) hands these
out; they work without pytest too:

    with SandboxServer.start() as server:
        sandbox = server.new_merchant()
        ...  # build your client with sandbox.url and sandbox.token
        assert [e["customerId"] for e in sandbox.events()] == ["cus_1"]

The helpers speak HTTP to the sandbox (the standard library's urllib, straight to loopback,
never through a proxy): the sandbox and the client never import each other, and a test
builds its client from `url` and `token`.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from paygentic_sandbox.process import SandboxProcess

# The options SandboxProcess takes; any other option of a factory becomes a command-line flag
# (`drift=3` -> `--drift 3`, `some_switch=True` -> `--some-switch`), so that a flag added to
# the server works before this module knows its name.
PROCESS_OPTIONS = frozenset(
    {
        "db",
        "tokens",
        "faults",
        "seed",
        "host",
        "port",
        "extra_args",
        "start_timeout",
        "cwd",
        "log",
        "null_optionals",
        "spec",
        "detached",
    }
)
_TIMEOUT = 30.0
# Straight to the sandbox: an http_proxy in the environment must not see loopback calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SandboxControlError(RuntimeError):
    """The sandbox refused a control call (its status and message are in the text)."""


def _call(url: str, token: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=_TIMEOUT) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        message = exc.read().decode("utf-8", "replace")[:500]
        raise SandboxControlError(f"{method} {url}: {exc.code} {message}") from None


def flags(options: Mapping[str, Any]) -> list[str]:
    """The command-line flags of the options that are not SandboxProcess's own."""
    args: list[str] = []
    for name, value in options.items():
        if name in PROCESS_OPTIONS or value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    return args


class Sandbox:
    """One merchant of a running sandbox: `url`, `token` (acts for `merchant_id`) and
    `process` (the server, shared with other tests when it came from `paygentic_sandbox`)."""

    def __init__(self, url: str, token: str, merchant_id: str, process: SandboxProcess) -> None:
        self.url = url
        self.token = token
        self.merchant_id = merchant_id
        self.process = process

    def __repr__(self) -> str:
        # Never the token.
        return f"Sandbox(url={self.url!r}, merchant_id={self.merchant_id!r})"

    @property
    def dashboard_url(self) -> str:
        """Sign in there with `token` to see this merchant's events in a browser."""
        return self.url + "/_sandbox/"

    def events(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        """Every event the sandbox stored for this merchant (one customer's with
        `customer_id`), as the API returns them, ordered by timestamp then id. Read through
        the control API: faults injected with `faults()` do not apply to it."""
        query = f"?{urlencode({'customerId': customer_id})}" if customer_id is not None else ""
        data: list[dict[str, Any]] = _call(self.url + "/_sandbox/api/events" + query, self.token)[
            "data"
        ]
        return data

    @contextlib.contextmanager
    def faults(self, spec: str, seed: int | None = None) -> Iterator[None]:
        """Inject faults (the `--faults` syntax, e.g. "503=0.2,drop-after-commit=0.1") into
        this merchant's API requests for the block; other merchants are not affected."""
        url = self.url + "/_sandbox/api/faults"
        _call(url, self.token, "PUT", {"faults": spec, "seed": seed})
        try:
            yield
        finally:
            _call(url, self.token, "DELETE")


class SandboxServer:
    """A sandbox process with the control API on: it makes merchants (and their tokens)
    on demand, so that one server serves many isolated tests."""

    def __init__(self, process: SandboxProcess, control_token: str) -> None:
        self.process = process
        self._control_token = control_token

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r})"

    @property
    def url(self) -> str:
        return self.process.url

    @classmethod
    def start(cls, **options: Any) -> SandboxServer:
        """A new server process: SandboxProcess's options (default db ":memory:"); any
        other option becomes a flag (see `flags`)."""
        control_token = "ctl_" + secrets.token_hex(16)
        known = {name: value for name, value in options.items() if name in PROCESS_OPTIONS}
        known.setdefault("db", ":memory:")
        known["extra_args"] = [
            *known.get("extra_args", ()),
            *flags(options),
            "--control-token",
            control_token,
        ]
        process = SandboxProcess(**known)
        process.start()
        return cls(process, control_token)

    def new_merchant(self, token: str | None = None, merchant_id: str | None = None) -> Sandbox:
        """A token acting for a merchant of its own (fresh random ones unless given)."""
        body = {
            name: value
            for name, value in (("token", token), ("merchantId", merchant_id))
            if value is not None
        }
        created = _call(self.url + "/_sandbox/api/merchants", self._control_token, "POST", body)
        return Sandbox(self.url, created["token"], created["merchantId"], self.process)

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_sandbox(**options: Any) -> Sandbox:
    """A sandbox process of its own (see SandboxServer.start) and a merchant of it: the
    first of `tokens` when given, else a fresh one."""
    tokens: Mapping[str, str] | None = options.get("tokens")
    server = SandboxServer.start(**options)
    try:
        if tokens:
            token, merchant_id = next(iter(tokens.items()))
            return Sandbox(server.url, token, merchant_id, server.process)
        return server.new_merchant()
    except BaseException:
        server.stop()
        raise


__all__ = ["Sandbox", "SandboxControlError", "SandboxServer", "flags", "start_sandbox"]
