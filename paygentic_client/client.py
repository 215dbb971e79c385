# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
import copy
import ssl
from collections.abc import Mapping
from typing import Any, Self

import httpx
from attrs import define, field

from ._runtime import logs
from ._runtime.config import (
    DEFAULT_TIMEOUT,
    PRODUCTION_BASE_URL,
    settings_from_env,
    with_user_agent,
)
from ._runtime.connections import Connections, async_client_args, cookie_jar
from ._runtime.redact import redacted_headers_repr, url_repr
from ._runtime.retries import DEFAULT_MAX_RETRIES, RetryPolicy, check_max_retries
from ._runtime.transport import TimeoutOption
from .types import UNSET, Unset


@define
class Client:
    """A class for keeping track of data related to the API

    The following are accepted as keyword arguments and will be used to construct httpx Clients
    internally:

        ``base_url``: The base URL for the API, all requests are made to a relative path to
        this URL. Defaults to the production server.

        ``cookies``: A dictionary of cookies to be sent with every request

        ``headers``: A dictionary of headers to be sent with every request

        ``timeout``: The httpx.Timeout of each attempt; defaults to 5 s to connect and 60 s
        for the rest, enough for a batch of 1000 events. errors.ApiTimeoutError is raised
        when the last attempt times out.

        ``max_retries``: How many times a call is retried after a connection error, a timeout
        or a 408/429/500/502/503/504 (default 3; 0 turns retries off). POST is retried too:
        create and batch create carry idempotency keys and a retry resends the same bytes.

        ``retry_policy``: A paygentic_client.RetryPolicy: backoff, the cap on
        ``Retry-After``, and the time budget of a call.

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This
        should be True in production, but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the
        ``httpx.Client`` and ``httpx.AsyncClient`` constructor.

    """

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
    # paygentic: the httpx clients live in a holder that with_options copies share.
    _connections: Connections = field(factory=Connections, init=False, eq=False)
    # Set by with_options, applied to each request: a timeout and headers of this copy.
    _request_timeout: TimeoutOption | Unset = field(default=UNSET, init=False)
    _request_headers: dict[str, str] = field(factory=dict, init=False, repr=redacted_headers_repr)

    def __attrs_post_init__(self) -> None:
        check_max_retries(self._max_retries)

    def with_options(
        self,
        *,
        timeout: TimeoutOption | Unset = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A copy of this client with a timeout, a number of retries or extra headers of its
        own, for the calls made with it. The copy shares this client's connection pool; this
        client is not changed.
        """
        clone = copy.copy(self)
        if not isinstance(timeout, Unset):
            clone._request_timeout = timeout
        if max_retries is not None:
            check_max_retries(max_retries)
            clone._max_retries = max_retries
        if headers:
            clone._request_headers = {**self._request_headers, **headers}
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


@define
class AuthenticatedClient:
    """A Client which has been authenticated for use on secured endpoints

    The following are accepted as keyword arguments and will be used to construct httpx Clients
    internally:

        ``base_url``: The base URL for the API, all requests are made to a relative path to
        this URL. Defaults to the production server.

        ``cookies``: A dictionary of cookies to be sent with every request

        ``headers``: A dictionary of headers to be sent with every request

        ``timeout``: The httpx.Timeout of each attempt; defaults to 5 s to connect and 60 s
        for the rest, enough for a batch of 1000 events. errors.ApiTimeoutError is raised
        when the last attempt times out.

        ``max_retries``: How many times a call is retried after a connection error, a timeout
        or a 408/429/500/502/503/504 (default 3; 0 turns retries off). POST is retried too:
        create and batch create carry idempotency keys and a retry resends the same bytes.

        ``retry_policy``: A paygentic_client.RetryPolicy: backoff, the cap on
        ``Retry-After``, and the time budget of a call.

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This
        should be True in production, but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the
        ``httpx.Client`` and ``httpx.AsyncClient`` constructor.


    Attributes:
        token: The token to use for authentication
        prefix: The prefix to use for the Authorization header
        auth_header_name: The name of the Authorization header
    """

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
    # paygentic: the httpx clients live in a holder that with_options copies share.
    _connections: Connections = field(factory=Connections, init=False, eq=False)
    # Set by with_options, applied to each request: a timeout and headers of this copy.
    _request_timeout: TimeoutOption | Unset = field(default=UNSET, init=False)
    _request_headers: dict[str, str] = field(factory=dict, init=False, repr=redacted_headers_repr)

    def __attrs_post_init__(self) -> None:
        check_max_retries(self._max_retries)

    token: str = field(repr=False, kw_only=True)
    prefix: str = "Bearer"
    auth_header_name: str = "Authorization"

    def with_options(
        self,
        *,
        timeout: TimeoutOption | Unset = UNSET,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A copy of this client with a timeout, a number of retries or extra headers of its
        own, for the calls made with it. The copy shares this client's connection pool; this
        client is not changed.
        """
        clone = copy.copy(self)
        if not isinstance(timeout, Unset):
            clone._request_timeout = timeout
        if max_retries is not None:
            check_max_retries(max_retries)
            clone._max_retries = max_retries
        if headers:
            clone._request_headers = {**self._request_headers, **headers}
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
    def request_timeout(self) -> TimeoutOption | Unset:
        """The timeout with_options gave this copy (UNSET: the httpx client's)"""
        return self._request_timeout

    @property
    def request_headers(self) -> Mapping[str, str]:
        """The headers with_options added to this copy's calls"""
        return self._request_headers

    @classmethod
    def from_env(cls, **kwargs: Any) -> Self:
        """A client configured by the environment: the token from ``PAYGENTIC_BEARER_AUTH``
        and the server from ``PAYGENTIC_BASE_URL`` (default: production). Keyword arguments
        are passed on (``base_url=`` overrides the variable).

        Raises:
            paygentic_client.errors.ConfigurationError: if ``PAYGENTIC_BEARER_AUTH`` is unset.
        """
        token, base_url = settings_from_env()
        return cls(**{"base_url": base_url, **kwargs}, token=token)

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
            self._headers[self.auth_header_name] = (
                f"{self.prefix} {self.token}" if self.prefix else self.token
            )
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
            self._headers[self.auth_header_name] = (
                f"{self.prefix} {self.token}" if self.prefix else self.token
            )
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
