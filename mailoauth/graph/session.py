"""A signed-in Microsoft Graph client: the real msgraph-sdk GraphServiceClient, plus paging and errors.

`open_session` signs in (see auth.py), checks the tenant, and builds the client on an httpx
transport that trusts the target's CA bundle. Kiota's retry handler (in msgraph-core's default
middleware) retries 429, 503 and 504, honouring Retry-After; `retry` tunes it. `GraphSession.get`
and `get_all` turn every failure into a one-line GraphError naming the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from mailoauth.graph.auth import CachedCredential, Principal, check_tenant, sign_in
from mailoauth.graph.errors import GraphError, refused, sign_in_failed
from mailoauth.graph.target import Target

T = TypeVar("T")
ME_PLACEHOLDER = "/users/me-token-to-replace"
# hpack/h2/httpcore log HTTP/2 header fields (the Authorization header among them) at DEBUG.
QUIET_LOGGERS = (
    "azure.identity",
    "azure.core",
    "msal",
    "httpx",
    "httpcore",
    "hpack",
    "h2",
    "urllib3",
    "kiota_http",
    "msgraph_core",
)


@dataclass(frozen=True)
class Retry:
    """Kiota RetryHandlerOption values: `delay` is added to the exponential backoff used when a 429/503
    has no Retry-After; `max_retries` counts retries after the first attempt."""

    delay: float = 3.0
    max_retries: int = 3


@dataclass
class GraphSession:
    client: Any  # msgraph.GraphServiceClient
    target: Target
    principal: Principal
    retry: Retry

    @property
    def adapter(self) -> Any:
        return self.client.request_adapter

    def path_of(self, request_info: Any) -> str:
        """`https://graph.../v1.0/applications?$filter=...` -> `/applications` (for messages and batches)."""
        return relative_url(request_info_url(request_info, self.target.api_url), self.target.api_url).split("?")[0]

    async def get(self, builder: Any, **query: Any) -> Any:
        """GET through a request builder (`client.applications`, ...) with OData options as keywords
        (`select=[...]`, `filter="..."`, `top=...`)."""
        config = query_config(builder, **query)
        info = builder.to_get_request_information(config)
        return await self.call(lambda: builder.get(config), "GET", self.path_of(info))

    async def get_all(self, builder: Any, **query: Any) -> list[Any]:
        """Every item of a collection, following @odata.nextLink."""
        page = await self.get(builder, **query)
        return await self.rest_of(builder, page)

    async def rest_of(self, builder: Any, page: Any, headers: Mapping[str, str] | None = None) -> list[Any]:
        """The items of `page` and of every page after it: SDK models, or JSON dicts for a raw first page
        (whose next pages are asked for with the first page's `headers`, as Graph's advanced queries need)."""
        if isinstance(page, dict):
            return await self._rest_of_json(page, headers or {})
        items = list(page.value or []) if page is not None else []
        while page is not None and page.odata_next_link:
            link = page.odata_next_link
            page = await self.call(
                lambda link=link: builder.with_url(link).get(),  # type: ignore[misc]
                "GET",
                relative_url(link, self.target.api_url),
            )
            items += list(page.value or []) if page is not None else []
        return items

    async def _rest_of_json(self, page: dict[str, Any], headers: Mapping[str, str]) -> list[Any]:
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation

        items = list(page.get("value") or [])
        while link := page.get("@odata.nextLink"):
            info = RequestInformation(Method.GET)
            info.url = link
            for name, value in headers.items():
                if name.lower() != "accept":
                    info.headers.add(name, value)
            page = await self.send_json(info, "GET", relative_url(link, self.target.api_url).split("?")[0]) or {}
            items += list(page.get("value") or [])
        return items

    async def send_json(self, info: Any, method: str, path: str) -> Any:
        """Send a kiota RequestInformation through the client (auth, retries) and parse the JSON answer
        without the SDK's models: much cheaper for large directory reads."""
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        info.headers.try_add("Accept", "application/json")
        raw = await self.call(
            lambda: self.adapter.send_primitive_async(info, "bytes", {"XXX": ODataError}), method, path
        )
        try:
            return json.loads(raw) if raw else None
        except ValueError as exc:
            raise GraphError(f"Microsoft Graph sent a malformed response to {method} {path}: {exc}") from None

    async def call(self, send: Callable[[], Awaitable[T]], method: str, path: str) -> T:
        """Run one request, turning kiota/httpx/azure-identity failures into a GraphError about `method path`."""
        try:
            return await send()
        except GraphError:
            raise
        except Exception as exc:
            error = translate(exc, method, path, self.principal.kind, self.target)
            if error is None:
                raise
            raise error from None


def translate(exc: Exception, method: str, path: str, principal_kind: str | None, target: Target) -> GraphError | None:
    """A failed Graph request as a one-line GraphError (None: not a failure of the request, e.g. a bug)."""
    import httpx
    from azure.core.exceptions import ClientAuthenticationError
    from kiota_abstractions.api_error import APIError

    if isinstance(exc, APIError):
        status = exc.response_status_code or 0
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or "error"
        message = getattr(error, "message", None) or ("" if error else str(exc.message or ""))
        return refused(method, path, status, code, message, principal_kind)
    if isinstance(exc, ClientAuthenticationError):
        return sign_in_failed("token refresh", str(exc.message or exc))
    if isinstance(exc, httpx.HTTPError):
        return GraphError(
            f"cannot reach Microsoft Graph at {target.graph_url} ({method} {path}): {type(exc).__name__}: {exc}"
        )
    # kiota raises JSONDecodeError for a broken body and TypeError for a missing or foreign content type
    if isinstance(exc, (ValueError, TypeError)):
        return GraphError(f"Microsoft Graph sent a malformed response to {method} {path}: {exc}")
    return None


def request_info_url(info: Any, api_url: str) -> str:
    """The absolute URL of a kiota RequestInformation (the base URL is filled in at send time)."""
    info.path_parameters.setdefault("baseurl", api_url)
    return str(info.url)


def relative_url(url: str, api_url: str) -> str:
    """The part of a Graph URL after the API version, with its query: what a $batch step and messages use."""
    parts = urlsplit(url)
    path = parts.path.removeprefix(urlsplit(api_url).path)
    if path.startswith(ME_PLACEHOLDER):  # msgraph's `client.me` builds /users/me-token-to-replace
        path = "/me" + path.removeprefix(ME_PLACEHOLDER)
    return path + (f"?{parts.query}" if parts.query else "")


def query_config(builder: Any, **query: Any) -> Any:
    """A RequestConfiguration with the builder's own GET query-parameter class filled in."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    if not query:
        return None
    params_type = next(v for k, v in vars(type(builder)).items() if k.endswith("GetQueryParameters"))
    return RequestConfiguration(query_parameters=params_type(**query))


def build_client(target: Target, credential: Any, retry: Retry) -> Any:
    """A GraphServiceClient for `target`: msgraph's default middleware on an httpx client trusting the CA."""
    import httpx
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from kiota_http.middleware.options import RetryHandlerOption
    from msgraph import GraphServiceClient
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph.graph_request_adapter import options as msgraph_options
    from msgraph_core import GraphClientFactory

    verify: Any = ssl.create_default_context(cafile=target.ca_bundle) if target.ca_bundle else True
    http = httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(100, connect=30), http2=True)
    options = {**msgraph_options, RetryHandlerOption.get_key(): RetryHandlerOption(retry.delay, retry.max_retries)}
    http = GraphClientFactory.create_with_default_middleware(client=http, options=options)
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[target.scope], allowed_hosts=[target.graph_host])
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = target.api_url
    return GraphServiceClient(request_adapter=adapter)


@asynccontextmanager
async def open_session(
    target: Target,
    *,
    credential: Any = None,
    credential_kind: str = "auto",
    stack: tuple[str, str] | None = None,
    retry: Retry = Retry(),
) -> AsyncIterator[GraphSession]:
    """Sign in (or use `credential`), check the tenant against `stack` ((name, file)), yield a session."""
    quiet_sdk_logging()
    if credential is None:
        credential, principal = await asyncio.to_thread(sign_in, target, credential_kind)
    else:
        credential = CachedCredential(credential, type(credential).__name__)
        principal = await asyncio.to_thread(_principal, credential, target)
    if stack is not None:
        check_tenant(principal, target, *stack)
    client = build_client(target, credential, retry)
    try:
        yield GraphSession(client, target, principal, retry)
    finally:
        await client.request_adapter._http_client.aclose()
        credential.close()


def _principal(credential: CachedCredential, target: Target) -> Principal:
    from azure.core.exceptions import ClientAuthenticationError

    from mailoauth.graph.auth import principal_of

    try:
        return principal_of(credential.get_token(target.scope).token, credential.name)
    except ClientAuthenticationError as exc:
        raise sign_in_failed(credential.name, str(exc.message or exc)) from None


def quiet_sdk_logging() -> None:
    """azure-identity and msal log failures as multi-line warnings; our errors say it in one line."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
