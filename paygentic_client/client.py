# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from typing import Any, Self

from attrs import define, field

from ._runtime.base_client import BaseClient
from ._runtime.config import settings_from_env


@define
class Client(BaseClient):
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

        ``strict_responses``: Whether an answer with a field or an enum value the spec does
        not define raises errors.ResponseValidationError (default False: the answer is read
        leniently, unknown fields kept in the models' ``additional_properties``, unknown
        enum values kept as they are).

        ``verify_ssl``: Whether or not to verify the SSL certificate of the API server. This
        should be True in production, but can be set to False for testing purposes.

        ``follow_redirects``: Whether or not to follow redirects. Default value is False.

        ``httpx_args``: A dictionary of additional arguments to be passed to the
        ``httpx.Client`` and ``httpx.AsyncClient`` constructor.

    """


@define
class AuthenticatedClient(BaseClient):
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

        ``strict_responses``: Whether an answer with a field or an enum value the spec does
        not define raises errors.ResponseValidationError (default False: the answer is read
        leniently, unknown fields kept in the models' ``additional_properties``, unknown
        enum values kept as they are).

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

    token: str = field(repr=False, kw_only=True)
    prefix: str = "Bearer"
    auth_header_name: str = "Authorization"

    def _auth_headers(self) -> dict[str, str]:
        return {self.auth_header_name: f"{self.prefix} {self.token}" if self.prefix else self.token}

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
