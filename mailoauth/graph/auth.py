"""Signing in: azure-identity's standard credentials, tried in a fixed order, with clear failures.

Order for `--credential auto`: environment variables (AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or a
certificate, or the ARM_* variables the Pulumi azuread provider reads), workload identity
(AZURE_FEDERATED_TOKEN_FILE, as in AKS and federated CI), the Azure CLI signed in to the stack's
tenant, then managed identity. The first credential that is available is used; a credential that
is configured but fails stops the search, so a wrong secret is reported instead of skipped.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mailoauth.graph.errors import GraphError, sign_in_failed
from mailoauth.graph.target import Target

REFRESH_MARGIN = 300  # seconds before expiry at which a cached token is renewed


@dataclass(frozen=True)
class Principal:
    """Who the token says signed in: an application (app-only token) or a user (delegated)."""

    tenant_id: str
    object_id: str
    app_id: str
    kind: str  # "application" | "user"
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    credential: str = ""


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, read without verifying it (Entra signed it; we only inspect it)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def principal_of(token: str, credential: str) -> Principal:
    claims = token_claims(token)
    scopes = tuple((claims.get("scp") or "").split())
    return Principal(
        tenant_id=str(claims.get("tid", "")).lower(),
        object_id=str(claims.get("oid", "")),
        app_id=str(claims.get("appid") or claims.get("azp") or ""),
        kind="user" if scopes else "application",
        roles=tuple(claims.get("roles") or ()),
        scopes=scopes,
        credential=credential,
    )


class CachedCredential:
    """A TokenCredential that keeps the last token per scope set until shortly before it expires.

    Kiota asks for a token before every request; the Azure CLI and managed identity credentials
    would otherwise start a process or an HTTP call each time.
    """

    def __init__(self, inner: Any, name: str):
        self.inner = inner
        self.name = name
        self._tokens: dict[tuple[str, ...], Any] = {}

    def get_token(self, *scopes: str, claims: str | None = None, **kwargs: Any) -> Any:
        cached = self._tokens.get(scopes)
        if claims is None and cached is not None and cached.expires_on - REFRESH_MARGIN > time.time():
            return cached
        token = self.inner.get_token(*scopes, claims=claims, **kwargs)
        self._tokens[scopes] = token
        return token

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()


def candidates(target: Target, kind: str, env: Mapping[str, str]) -> list[tuple[str, Callable[[], Any]]]:
    """(name, factory) for each credential to try, in order; factories defer azure-identity's checks."""
    from azure import identity

    common: dict[str, Any] = {"authority": target.authority}
    if not target.microsoft_authority:
        common["disable_instance_discovery"] = True  # Azure Stack, sovereign proxies, the test fakes
    if target.ca_bundle:
        common["connection_verify"] = target.ca_bundle
    options: dict[str, tuple[str, Callable[[], Any]] | None] = {
        "environment": ("environment", lambda: identity.EnvironmentCredential(**common)),
        "arm": _arm(env, common) if kind in ("auto", "environment") else None,
        "workload-identity": ("workload identity", lambda: identity.WorkloadIdentityCredential(**common))
        if env.get("AZURE_FEDERATED_TOKEN_FILE") or kind == "workload-identity"
        else None,
        "azure-cli": ("Azure CLI", lambda: identity.AzureCliCredential(tenant_id=target.tenant_id or "")),
        "managed-identity": (
            "managed identity",
            lambda: identity.ManagedIdentityCredential(
                client_id=env.get("AZURE_CLIENT_ID") or None, **_transport(target)
            ),
        ),
    }
    order: tuple[str, ...]
    if kind == "auto":
        order = ("environment", "arm", "workload-identity", "azure-cli", "managed-identity")
    elif kind == "environment":
        order = ("environment", "arm")
    else:
        order = (kind,)
    return [entry for name in order if (entry := options[name]) is not None]


def _arm(env: Mapping[str, str], common: dict[str, Any]) -> tuple[str, Callable[[], Any]] | None:
    """The service principal `pulumi up` signs in with (ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET)."""
    names = ("ARM_TENANT_ID", "ARM_CLIENT_ID", "ARM_CLIENT_SECRET")
    if env.get("AZURE_CLIENT_ID") or not all(env.get(n) for n in names):
        return None
    from azure.identity import ClientSecretCredential

    tenant, client, secret = (env[n] for n in names)
    return "ARM_* environment", lambda: ClientSecretCredential(tenant, client, secret, **common)


def _transport(target: Target) -> dict[str, Any]:
    return {"connection_verify": target.ca_bundle} if target.ca_bundle else {}


class Attempt:
    """One link of the chain: records whether its credential was unavailable, failed or worked."""

    def __init__(self, name: str, factory: Callable[[], Any], log: list[tuple[str, BaseException | None]]):
        self.name, self.factory, self.log = name, factory, log
        self.inner: Any = None

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.identity import CredentialUnavailableError

        try:
            self.inner = self.inner or self.factory()
            token = self.inner.get_token(*scopes, **kwargs)
        except ValueError as exc:  # a credential that cannot even be built from this environment
            self.log.append((self.name, exc))
            raise CredentialUnavailableError(str(exc)) from None
        except BaseException as exc:
            self.log.append((self.name, exc))
            raise
        self.log.append((self.name, None))
        return token

    def close(self) -> None:
        if self.inner is not None and hasattr(self.inner, "close"):
            self.inner.close()

    __enter__ = lambda self: self  # noqa: E731  (ChainedTokenCredential enters and exits its links)
    __exit__ = lambda self, *args: self.close()  # noqa: E731


def sign_in(
    target: Target, kind: str = "auto", env: Mapping[str, str] | None = None
) -> tuple[CachedCredential, Principal]:
    """A token for Graph from the first available credential (azure-identity's ChainedTokenCredential, which
    also makes managed identity probe IMDS briefly instead of retrying), and who it signed in as."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ChainedTokenCredential, CredentialUnavailableError

    env = os.environ if env is None else env
    log: list[tuple[str, BaseException | None]] = []
    links = [Attempt(name, factory, log) for name, factory in candidates(target, kind, env)]
    credential = CachedCredential(ChainedTokenCredential(*links), "")
    try:
        token = credential.get_token(target.scope)
    except ClientAuthenticationError as exc:
        failed = next((e for _, e in reversed(log) if e is not None), None)
        if failed is None or isinstance(failed, CredentialUnavailableError):
            raise GraphError(no_credentials_message(target, kind)) from None
        name = next(n for n, e in log if e is failed)
        raise sign_in_failed(name, str(getattr(failed, "message", None) or failed or exc)) from None
    credential.name = next(n for n, e in reversed(log) if e is None)
    return credential, principal_of(token.token, credential.name)


def no_credentials_message(target: Target, kind: str) -> str:
    if kind != "auto":
        return f"no Azure credentials: the {kind} credential is not available here (see docs/live-checks.md)"
    tenant = f" --tenant {target.tenant_id}" if target.tenant_id else ""
    return (
        "no Azure credentials found: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
        f"AZURE_FEDERATED_TOKEN_FILE for workload identity), run `az login{tenant}`, "
        "or run where a managed identity is available"
    )


def check_tenant(principal: Principal, target: Target, stack_name: str, stack_file: str) -> None:
    """Refuse to read a tenant other than the stack's: its findings would be about the wrong directory."""
    if principal.tenant_id != target.tenant_id.lower():  # a token without a tenant is refused too
        raise GraphError(
            f"wrong tenant: the {principal.credential} credentials signed in to tenant "
            f"{principal.tenant_id or '(none named in the token)'}, but "
            f"stack {stack_name} is for tenant {target.tenant_id} ({stack_file}: config.azuread:tenantId); sign in "
            f"to the right tenant (az login --tenant {target.tenant_id}, or AZURE_TENANT_ID) or pick the right stack"
        )
