# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
import ssl
from typing import Any, Self

import httpx
from attrs import define, evolve, field

from ._runtime import logs
from ._runtime.config import (
    DEFAULT_TIMEOUT,
    PRODUCTION_BASE_URL,
    settings_from_env,
    with_user_agent,
)
from ._runtime.cookies import skip_cookie_parsing_without_set_cookie
from ._runtime.redact import redacted_headers_repr
from ._runtime.retries import DEFAULT_MAX_RETRIES, RetryPolicy, async_client_args, sync_client_args


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
        for the rest, enough for a batch of 1000 events. httpx.TimeoutException is raised
        when the last attempt times out.

        ``max_retries``: How many times a call is retried after a connection error, a timeout
        or a 408/429/500/502/503/504 (default 3; 0 turns retries off). POST is retried too:
        create and batch create carry idempotency keys and a retry resends the same bytes.

        ``retry_policy``: A paygentic_client._runtime.retries.RetryPolicy: backoff, the cap on
        ``Retry-After``, and the time budget of a call.

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This
        should be True in production, but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the
        ``httpx.Client`` and ``httpx.AsyncClient`` constructor.

    """

    _base_url: str = field(default=PRODUCTION_BASE_URL, alias="base_url")
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
    _client: httpx.Client | None = field(default=None, init=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False)

    def with_headers(self, headers: dict[str, str]) -> "Client":
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> "Client":
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> "Client":
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Manually set the underlying httpx.Client

        **NOTE**: This will override any other settings on the client, including cookies,
        headers, and timeout.
        """
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            logs.configure_from_env()
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                follow_redirects=self._follow_redirects,
                **sync_client_args(
                    self._httpx_args,
                    verify=self._verify_ssl,
                    max_retries=self._max_retries,
                    policy=self._retry_policy,
                ),
            )
            skip_cookie_parsing_without_set_cookie(self._client)
        return self._client

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
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            logs.configure_from_env()
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                follow_redirects=self._follow_redirects,
                **async_client_args(
                    self._httpx_args,
                    verify=self._verify_ssl,
                    max_retries=self._max_retries,
                    policy=self._retry_policy,
                ),
            )
            skip_cookie_parsing_without_set_cookie(self._async_client)
        return self._async_client

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
        for the rest, enough for a batch of 1000 events. httpx.TimeoutException is raised
        when the last attempt times out.

        ``max_retries``: How many times a call is retried after a connection error, a timeout
        or a 408/429/500/502/503/504 (default 3; 0 turns retries off). POST is retried too:
        create and batch create carry idempotency keys and a retry resends the same bytes.

        ``retry_policy``: A paygentic_client._runtime.retries.RetryPolicy: backoff, the cap on
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

    _base_url: str = field(default=PRODUCTION_BASE_URL, alias="base_url")
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
    _client: httpx.Client | None = field(default=None, init=False)
    _async_client: httpx.AsyncClient | None = field(default=None, init=False)

    token: str = field(repr=False, kw_only=True)
    prefix: str = "Bearer"
    auth_header_name: str = "Authorization"

    def with_headers(self, headers: dict[str, str]) -> "AuthenticatedClient":
        """Get a new client matching this one with additional headers"""
        if self._client is not None:
            self._client.headers.update(headers)
        if self._async_client is not None:
            self._async_client.headers.update(headers)
        return evolve(self, headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> "AuthenticatedClient":
        """Get a new client matching this one with additional cookies"""
        if self._client is not None:
            self._client.cookies.update(cookies)
        if self._async_client is not None:
            self._async_client.cookies.update(cookies)
        return evolve(self, cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> "AuthenticatedClient":
        """Get a new client matching this one with a new timeout configuration"""
        if self._client is not None:
            self._client.timeout = timeout
        if self._async_client is not None:
            self._async_client.timeout = timeout
        return evolve(self, timeout=timeout)

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
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """Get the underlying httpx.Client, constructing a new one if not previously set"""
        if self._client is None:
            self._headers[self.auth_header_name] = (
                f"{self.prefix} {self.token}" if self.prefix else self.token
            )
            logs.configure_from_env()
            self._client = httpx.Client(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                follow_redirects=self._follow_redirects,
                **sync_client_args(
                    self._httpx_args,
                    verify=self._verify_ssl,
                    max_retries=self._max_retries,
                    policy=self._retry_policy,
                ),
            )
            skip_cookie_parsing_without_set_cookie(self._client)
        return self._client

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
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """Get the underlying httpx.AsyncClient, constructing a new one if not previously set"""
        if self._async_client is None:
            self._headers[self.auth_header_name] = (
                f"{self.prefix} {self.token}" if self.prefix else self.token
            )
            logs.configure_from_env()
            self._async_client = httpx.AsyncClient(
                base_url=self._base_url,
                cookies=self._cookies,
                headers=with_user_agent(self._headers),
                timeout=self._timeout,
                follow_redirects=self._follow_redirects,
                **async_client_args(
                    self._httpx_args,
                    verify=self._verify_ssl,
                    max_retries=self._max_retries,
                    policy=self._retry_policy,
                ),
            )
            skip_cookie_parsing_without_set_cookie(self._async_client)
        return self._async_client

    async def __aenter__(self) -> Self:
        """Enter a context manager for underlying httpx.AsyncClient—you cannot enter twice
        (see httpx docs)"""
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        """Exit a context manager for underlying httpx.AsyncClient (see httpx docs)"""
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)
