"""What a tenant holds, as plain values: the live commands compare these with the desired state.

Built by `mailoauth.graph.directory` from msgraph-sdk models, so drift and preflight logic never
touch the SDK (and can be read, and tested, without it). Ids are lower-case strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PermissionKey = tuple[str, str, str]  # (resource appId, permission id, "Scope" | "Role")


@dataclass(frozen=True)
class Secret:
    """A client secret as Graph lists it: never its value."""

    key_id: str
    display_name: str
    end: datetime | None


@dataclass(frozen=True)
class Registration:
    """An app registration (Graph `application`)."""

    object_id: str
    client_id: str
    display_name: str
    sign_in_audience: str
    web_redirect_uris: tuple[str, ...] = ()
    other_redirect_uris: dict[str, tuple[str, ...]] = field(default_factory=dict)  # platform -> URIs
    permissions: frozenset[PermissionKey] = frozenset()
    secrets: tuple[Secret, ...] = ()


ADMIN_CONSENT = "AllPrincipals"  # oauth2PermissionGrant.consentType of tenant-wide admin consent


@dataclass(frozen=True)
class Grant:
    """A delegated permission grant (oauth2PermissionGrant) of a client service principal."""

    id: str
    client_id: str  # the client service principal's object id
    resource_id: str  # the resource service principal's object id
    consent_type: str  # ADMIN_CONSENT | "Principal" (one user)
    principal_id: str | None
    scopes: tuple[str, ...]

    @property
    def tenant_wide(self) -> bool:
        return self.consent_type == ADMIN_CONSENT


@dataclass(frozen=True)
class ResourceApi:
    """A resource service principal (Microsoft Graph, Exchange Online) and the permissions it publishes."""

    object_id: str
    app_id: str
    display_name: str
    scopes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (value, admin consent required)
    roles: dict[str, str] = field(default_factory=dict)  # id -> value

    def permission_name(self, permission_id: str, kind: str) -> str | None:
        if kind == "Role":
            return self.roles.get(permission_id)
        scope = self.scopes.get(permission_id)
        return scope[0] if scope else None


@dataclass
class AppInTenant:
    """One stack app as found in the tenant: none, one or (by display name) several registrations."""

    key: str
    looked_up_by: str  # "clientId" | "displayName"
    matches: list[Registration] = field(default_factory=list)
    service_principal_id: str | None = None
    grants: list[Grant] = field(default_factory=list)

    @property
    def registration(self) -> Registration | None:
        return self.matches[0] if len(self.matches) == 1 else None
