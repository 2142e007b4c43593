"""Microsoft Entra ID facts as data: limits, directory role template ids and Graph permissions per request.

Read once from `entra.yaml` beside this module, where each group names its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mailoauth.base import yamlio


@dataclass(frozen=True)
class Limits:
    """Entra's limits on one app registration; the `personal` figures apply when personal accounts may sign in.
    `loopback_hosts` are the only hosts a redirect URI may name with http instead of https."""

    display_name_length: dict[str, int]
    redirect_uris: dict[str, int]
    redirect_uri_length: int
    permissions: dict[str, int]
    permissions_per_api_personal: int
    loopback_hosts: tuple[str, ...]

    def of(self, figure: dict[str, int], personal: bool) -> int:
        return figure["personal" if personal else "work"]


@dataclass(frozen=True)
class GraphPermission:
    path: re.Pattern[str]
    permission: str


@cache
def _document() -> dict[str, Any]:
    text = resources.files("mailoauth.desired").joinpath("entra.yaml").read_text(encoding="utf-8")
    return yamlio.load(text, "entra.yaml")


@cache
def limits() -> Limits:
    raw = _document()["limits"]
    return Limits(
        raw["displayNameLength"],
        raw["redirectUris"],
        raw["redirectUriLength"],
        raw["permissions"],
        raw["permissionsPerApiPersonal"],
        tuple(raw["loopbackHosts"]),
    )


@cache
def role_template(name: str) -> str:
    """A directory role's template id by its key in entra.yaml (`applicationAdministrator`, ...)."""
    return str(_document()["roleTemplates"][name]).lower()


@cache
def graph_permissions(kind: str) -> tuple[GraphPermission, ...]:
    """The `read` (GET) or `write` table: the least-privileged permission per request path, first match wins."""
    return tuple(GraphPermission(re.compile(e["path"]), e["permission"]) for e in _document()["graphPermissions"][kind])


@dataclass(frozen=True)
class TenantLookup:
    openid_configuration: str  # URL template with {login} and {domain}
    where_to_find_it: str  # where a person reads the tenant GUID


@cache
def tenant_lookup() -> TenantLookup:
    raw = _document()["tenantLookup"]
    return TenantLookup(raw["openidConfiguration"], raw["whereToFindIt"])
