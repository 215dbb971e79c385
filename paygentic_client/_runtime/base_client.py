"""What `Client` and `AuthenticatedClient` share, written once (openai-python's
`_base_client.py` pattern): the settings, `with_options()`, the httpx clients and the context
managers. The generated `client.py` (scripts/templates/client.py.jinja) is two thin
subclasses: `Client` adds nothing, `AuthenticatedClient` adds the token and its header.
"""

from __future__ import annotations

import copy
import ssl
from collections.abc import Mapping
from typing import Any, Self

import httpx
from attrs import define, field

from ..types import UNSET, Unset
from . import logs
from .config import DEFAULT_TIMEOUT, PRODUCTION_BASE_URL, with_user_agent
from .connections import Connections, async_client_args, cookie_jar
from .redact import redacted_headers_repr, url_repr
from .retries import DEFAULT_MAX_RETRIES, RetryPolicy, check_max_retries
from .transport import TimeoutOption


@define
class BaseClient:
    """The settings and connections of a client; see `Client` for the arguments."""

    # repr() hides the password of a base URL such as https://user:password@host.
    _base_url: str = field(default=PRODUCTION_BASE_URL, alias="base_url", repr=url_repr)
    _cookies: dict[str, str] = field(factory=dict, kw_only=True, alias="cookies")
    # Holds the Authorization header once an httpx client is built: redacted in repr().
    _headers: dict[str, str] = field(
        factory=dict, kw_only=True, alias="headers", repr=redacted_headers_repr
    )
    _timeout: httpx.Timeout = field(default=DEFAULT_TIMEOUT, kw_only=True, alias="timeout")
    _max_retries: int = field(default=DEFAULT_MAX_RETRIES, kw_only=True, alias="max_retries")
    _retry_policy: RetryPolicy = field(factory=RetryPolicy, kw_only=True, alias="retry_policy")
    _verify_ssl: str | bool | ssl.SSLContext = field(default=True, kw_only=True, alias="verify_ssl")
    _follow_redirects: bool = field(default=False, kw_only=True, alias="follow_redirects")
    _httpx_args: dict[str, Any] = field(factory=dict, kw_only=True, alias="httpx_args")
    # Answers that drifted from the spec (unknown fields or enum values) raise
    # errors.ResponseValidationError instead of being read leniently.
    _strict_responses: bool = field(default=False, kw_only=True, alias="strict_responses")
    # The httpx clients live in a holder that with_options copies share.
    _connections: Connections = field(factory=Connections, init=False, eq=False)
    # Set by with_options, applied to each request: a timeout and headers of this copy.
    _request_timeout: TimeoutOption | Unset = field(default=UNSET, init=False)
    _request_headers: dict[str, str] = field(factory=dict, init=False, repr=redacted_headers_repr)

    def __attrs_post_init__(self) -> None:
        check_max_retries(self._max_retries)

    def _auth_headers(self) -> dict[str, str]:
        """The headers that authenticate the calls (none here; see AuthenticatedClient)."""
        return {}

    def with_options(
        self,
        *,
        timeout: TimeoutOption | Unset = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        strict_responses: bool | None = None,
    ) -> Self:
        """A copy of this client with a timeout, a number of retries, extra headers or a
        strictness of its own, for the calls made with it. The copy shares this client's
        connection pool; this client is not changed.
        """
        clone = copy.copy(self)
        if not isinstance(timeout, Unset):
            clone._request_timeout = timeout
        if max_retries is not None:
            check_max_retries(max_retries)
            clone._max_retries = max_retries
        if headers:
            clone._request_headers = {**self._request_headers, **headers}
        if strict_responses is not None:
            clone._strict_responses = strict_responses
        return clone

    def with_headers(self, headers: Mapping[str, str]) -> Self:
        """A copy of this client that adds these headers to its calls (see with_options)"""
        return self.with_options(headers=headers)

    def with_timeout(self, timeout: TimeoutOption) -> Self:
        """A copy of this client with this timeout for its calls (see with_options)"""
        return self.with_options(timeout=timeout)

    @property
    def max_retries(self) -> int:
        """How many times a call is retried (see the class docstring)"""
        return self._max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    @property
    def strict_responses(self) -> bool:
        """Whether an answer with a field or an enum value the spec does not define raises
        errors.ResponseValidationError (False: it is kept, see the models'
        `additional_properties`)"""
        return self._strict_responses

    @property
    def request_timeout(self) -> TimeoutOption | Unset:
        """The timeout with_options gave this copy (UNSET: the httpx client's)"""
        return self._request_timeout

    @property
    def request_headers(self) -> Mapping[str, str]:
        """The headers with_options added to this copy's calls"""
        return self._request_headers

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies,
        headers, and timeout.
        """
        self._connections.sync = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._connections.sync is None:
            self._headers.update(self._auth_headers())
            logs.configure_from_env()
            self._connections.sync = httpx.Client(
                base_url=self._base_url,
                cookies=cookie_jar(self._cookies),
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **self._httpx_args,
            )
        return self._connections.sync

    def __enter__(self) -> Self:
        """Enter a context manager for self.client—you cannot enter twice (see httpx docs)"""
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for internal httpx.Client (see httpx docs)"""
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Manually set the underlying httpx.AsyncClient

        **NOTE**: This will override any other settings on the client, including cookies,
        headers, and timeout.
        """
        self._connections.asynchronous = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._connections.asynchronous is None:
            self._headers.update(self._auth_headers())
            logs.configure_from_env()
            self._connections.asynchronous = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=cookie_jar(self._cookies),
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                verify=self._verify_ssl,
                follow_redirects=self._follow_redirects,
                **async_client_args(self._httpx_args, verify=self._verify_ssl),
            )
        return self._connections.asynchronous

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice
        (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)
