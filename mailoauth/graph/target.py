"""Which login authority and Graph endpoint a stack talks to, and which CA bundle to trust.

The stack's `azuread:environment` picks the cloud from clouds.yaml; AZURE_AUTHORITY_HOST (the
variable azure-identity reads) and `--graph-url` override it for Azure Stack, sovereign proxies
and the fakes in tests. Instance discovery is disabled for authorities that are not Microsoft's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from mailoauth.base.problems import CommandError
from mailoauth.desired.clouds import Cloud, clouds

# Aliases of the clouds.yaml login hosts that Microsoft also answers on.
LOGIN_ALIASES = ("login.microsoft.com", "login.windows.net", "login.chinacloudapi.cn")


@dataclass(frozen=True)
class Target:
    tenant_id: str
    authority: str  # https://login.microsoftonline.com (no tenant segment)
    graph_url: str  # https://graph.microsoft.com (no API version)
    ca_bundle: str | None = None

    @property
    def api_url(self) -> str:
        return f"{self.graph_url}/v1.0"

    @property
    def scope(self) -> str:
        """The app-only/.default scope for this Graph, as azure-identity requests it."""
        return f"{self.graph_url}/.default"

    @property
    def graph_host(self) -> str:
        return urlsplit(self.graph_url).hostname or ""

    @property
    def microsoft_authority(self) -> bool:
        host = urlsplit(self.authority).hostname or ""
        return host in {c.login_host for c in clouds().values()} | set(LOGIN_ALIASES)


def resolve(tenant_id: str, cloud: Cloud, graph_url: str | None = None, env: Mapping[str, str] | None = None) -> Target:
    """The endpoints for a stack: the cloud's, unless the environment or `--graph-url` say otherwise."""
    env = os.environ if env is None else env
    authority = _https_url(env.get("AZURE_AUTHORITY_HOST") or cloud.login_host, "AZURE_AUTHORITY_HOST")
    graph = _https_url(graph_url or cloud.graph_url, "--graph-url")
    graph = graph.removesuffix("/v1.0").removesuffix("/beta")
    ca_bundle = env.get("SSL_CERT_FILE") or env.get("REQUESTS_CA_BUNDLE") or None
    return Target(tenant_id, authority, graph, ca_bundle)


def _https_url(value: str, source: str) -> str:
    """`host` or `https://host[:port][/path]` -> `https://host[:port][/path]`, without a trailing slash."""
    url = value.strip().rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise CommandError(f"{source}: '{value}' is not an https URL; Microsoft sign-in and Graph need https")
    if parts.query or parts.fragment:
        raise CommandError(f"{source}: '{value}' must not carry a query or fragment")
    return url
