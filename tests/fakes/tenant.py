"""An in-memory Entra ID tenant: what the fake Graph serves and tests set up and inspect.

Objects are stored as Graph JSON (camelCase dicts), so the fake can filter and select on any
property and tests can put a tenant into any state, including ones `pulumi up` never makes.
Microsoft's own service principals are seeded from the published permission ids (not from this
project's catalogue), so `scopes sync` is checked against independent data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mailoauth.desired.model import App, Stack

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"

# Microsoft Graph delegated permissions: value -> (id, consent type), from microsoft-graph-devx-content.
GRAPH_SCOPES = {
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "IMAP.AccessAsUser.All": "652390e4-393a-48de-9484-05f9b1212954",
    "POP.AccessAsUser.All": "d7b7f2d9-0f45-4ea1-9d42-e50810c06991",
    "SMTP.Send": "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Mail.ReadBasic": "a4b8392a-d8d1-4954-a029-8e668a39a170",
    "Mail.ReadWrite": "024d486e-b451-40bb-833d-3e66d98c5c73",
    "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
    "Mail.Read.Shared": "7b9103a5-4610-446b-9670-80643382c1fa",
    "Mail.ReadWrite.Shared": "5df07973-7d5d-46ed-9847-1271055cbd51",
    "Mail.Send.Shared": "a367ab51-6b49-43bf-a716-a1fb06d2a174",
    "EWS.AccessAsUser.All": "9769c687-087d-48ac-9cb3-c37dde652038",
}
GRAPH_ADMIN_SCOPES = {"Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a"}
GRAPH_ROLES = {
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
}
EXCHANGE_SCOPES = {"EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5"}
EXCHANGE_ROLES = {"full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40"}

# Exchange Online service plans (GET /subscribedSkus, licenseDetails) and a non-Exchange one.
EXCHANGE_S_STANDARD = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
EXCHANGE_S_ENTERPRISE = "efb87545-963c-4e0d-99df-69c6916d9eb0"
TEAMS1 = "57ff2da0-773e-42df-b2af-ffb7a2317929"
SKUS = {
    "O365_BUSINESS_ESSENTIALS": (
        "3b555118-da6a-4418-894f-7df1e2096870",
        [("EXCHANGE_S_STANDARD", EXCHANGE_S_STANDARD)],
    ),
    "SPE_E3": ("05e9a617-0261-4cee-bb44-138d3ef5d965", [("EXCHANGE_S_ENTERPRISE", EXCHANGE_S_ENTERPRISE)]),
    "TEAMS_EXPLORATORY": ("710779e8-3d4a-4c88-adb9-386c958d1fdf", [("TEAMS1", TEAMS1)]),
}


def new_id() -> str:
    return str(uuid.uuid4())


def timestamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@dataclass
class FakeTenant:
    """Directory objects by collection name, as Graph returns them."""

    tenant_id: str
    applications: list[dict[str, Any]] = field(default_factory=list)
    service_principals: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    license_details: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> details
    subscribed_skus: list[dict[str, Any]] = field(default_factory=list)
    directory_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> roles
    authorization_policy: dict[str, Any] = field(default_factory=dict)
    sent_mail: list[dict[str, Any]] = field(default_factory=list)  # POST /me/sendMail bodies, with "from": user id
    owners: dict[str, list[str]] = field(default_factory=dict)  # application/SP object id -> owner object ids

    def __post_init__(self) -> None:
        self.graph_sp = self.add_service_principal(
            GRAPH_APP_ID,
            "Microsoft Graph",
            scopes={
                **{v: (i, "User") for v, i in GRAPH_SCOPES.items()},
                **{v: (i, "Admin") for v, i in GRAPH_ADMIN_SCOPES.items()},
            },
            roles=GRAPH_ROLES,
        )
        self.exchange_sp = self.add_service_principal(
            EXCHANGE_APP_ID,
            "Office 365 Exchange Online",
            scopes={v: (i, "User") for v, i in EXCHANGE_SCOPES.items()},
            roles=EXCHANGE_ROLES,
        )
        self.authorization_policy = {
            "id": "authorizationPolicy",
            "defaultUserRolePermissions": {"allowedToCreateApps": True},
        }

    # -- collections by the name the fake Graph serves them under -------------------------------
    def collection(self, name: str) -> list[dict[str, Any]]:
        return {
            "applications": self.applications,
            "servicePrincipals": self.service_principals,
            "oauth2PermissionGrants": self.grants,
            "users": self.users,
            "subscribedSkus": self.subscribed_skus,
        }[name]

    # -- building blocks ---------------------------------------------------------------------------
    def add_service_principal(
        self,
        app_id: str,
        display_name: str,
        scopes: dict[str, tuple[str, str]] | None = None,
        roles: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sp = {
            "id": new_id(),
            "appId": app_id,
            "displayName": display_name,
            "appDisplayName": display_name,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "oauth2PermissionScopes": [
                {"id": sid, "value": value, "type": kind, "isEnabled": True, "adminConsentDisplayName": value}
                for value, (sid, kind) in (scopes or {}).items()
            ],
            "appRoles": [
                {
                    "id": rid,
                    "value": value,
                    "allowedMemberTypes": ["Application"],
                    "isEnabled": True,
                    "displayName": value,
                    "description": value,
                }
                for value, rid in (roles or {}).items()
            ],
        }
        self.service_principals.append(sp)
        return sp

    def add_application(
        self,
        display_name: str,
        *,
        app_id: str | None = None,
        audience: str = "AzureADMyOrg",
        redirect_uris: list[str] | tuple[str, ...] = (),
        required: dict[str, list[str]] | None = None,
        secrets: list[dict[str, Any]] | None = None,
        public_client: bool = False,
    ) -> dict[str, Any]:
        """An app registration; `required` maps resource appId -> delegated permission ids."""
        app = {
            "id": new_id(),
            "appId": app_id or new_id(),
            "displayName": display_name,
            "signInAudience": audience,
            "web": {
                "redirectUris": list(redirect_uris),
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
            },
            "spa": {"redirectUris": []},
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [
                {"resourceAppId": rid, "resourceAccess": [{"id": pid, "type": "Scope"} for pid in ids]}
                for rid, ids in (required or {}).items()
            ],
            "passwordCredentials": list(secrets or []),
            "keyCredentials": [],
            "isFallbackPublicClient": public_client,
        }
        self.applications.append(app)
        return app

    @staticmethod
    def secret(description: str, expires: date, value: str = "", key_id: str | None = None) -> dict[str, Any]:
        """A password credential as Graph lists it: the value is never returned, its first 3 characters are."""
        return {
            "keyId": key_id or new_id(),
            "displayName": description,
            "startDateTime": timestamp(date(2025, 1, 1)),
            "endDateTime": timestamp(expires),
            "hint": value[:3] or None,
            "secretText": None,
            "customKeyIdentifier": None,
        }

    def add_grant(
        self, client_sp: dict[str, Any], resource_sp: dict[str, Any], scopes: list[str], principal_id: str | None = None
    ) -> dict[str, Any]:
        grant = {
            "id": uuid.uuid4().hex + uuid.uuid4().hex[:11],  # grant ids are opaque strings, not GUIDs
            "clientId": client_sp["id"],
            "consentType": "Principal" if principal_id else "AllPrincipals",
            "principalId": principal_id,
            "resourceId": resource_sp["id"],
            "scope": " ".join(scopes),
        }
        self.grants.append(grant)
        return grant

    def add_user(
        self, upn: str, *, licensed: str | None = "SPE_E3", enabled: bool = True, plan_status: str = "Success"
    ) -> dict[str, Any]:
        """A user with one licence (by SKU part number, None for none); its Exchange plan in `plan_status`."""
        user = {
            "id": new_id(),
            "userPrincipalName": upn,
            "mail": upn,
            "displayName": upn.split("@")[0],
            "accountEnabled": enabled,
        }
        self.users.append(user)
        self.license_details[user["id"]] = [self._license(licensed, plan_status)] if licensed else []
        return user

    @staticmethod
    def _license(part: str, status: str) -> dict[str, Any]:
        sku_id, plans = SKUS[part]
        return {
            "id": new_id(),
            "skuId": sku_id,
            "skuPartNumber": part,
            "servicePlans": [
                {"servicePlanId": pid, "servicePlanName": name, "provisioningStatus": status, "appliesTo": "User"}
                for name, pid in plans
            ],
        }

    def add_sku(self, part: str, *, status: str = "Enabled", plan_status: str = "Success") -> dict[str, Any]:
        sku_id, plans = SKUS[part]
        sku = {
            "id": f"{self.tenant_id}_{sku_id}",
            "skuId": sku_id,
            "skuPartNumber": part,
            "capabilityStatus": status,
            "appliesTo": "User",
            "consumedUnits": 1,
            "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0},
            "servicePlans": [
                {"servicePlanId": pid, "servicePlanName": name, "provisioningStatus": plan_status, "appliesTo": "User"}
                for name, pid in plans
            ],
        }
        self.subscribed_skus.append(sku)
        return sku

    def add_owner(self, obj: dict[str, Any], owner: dict[str, Any]) -> None:
        """Make a user or service principal an owner of an application or service principal."""
        self.owners.setdefault(obj["id"], []).append(owner["id"])

    # -- what `pulumi up` leaves behind ------------------------------------------------------------
    def deploy(self, stack: Stack, secret_values: dict[str, str] | None = None) -> dict[str, Deployed]:
        """Register every app of the stack exactly as desired (client ids from the stack where set)."""
        return {key: self.deploy_app(app, (secret_values or {}).get(key, "")) for key, app in stack.apps.items()}

    def deploy_app(self, app: App, secret_value: str = "") -> Deployed:
        required: dict[str, list[str]] = {}
        for perm in app.permissions:
            required.setdefault(perm.resource_app_id, []).append(perm.id)
        registration = self.add_application(
            app.display_name,
            app_id=app.client_id,
            audience=app.sign_in_audience,
            redirect_uris=app.redirect_uris,
            required=required,
            secrets=[self.secret(s.description, s.expires, secret_value, s.key_id) for s in app.secrets],
            public_client=app.allow_public_client_flows,
        )
        sp = self.add_service_principal(registration["appId"], app.display_name)
        grants = []
        if app.admin_consent:
            for resource_app_id, perms in app.resources().items():
                resource = self.service_principal(resource_app_id)
                grants.append(self.add_grant(sp, resource, sorted(p.value for p in perms)))
        return Deployed(registration, sp, grants)

    # -- lookups for tests -------------------------------------------------------------------------
    def service_principal(self, app_id: str) -> dict[str, Any]:
        return next(sp for sp in self.service_principals if sp["appId"] == app_id)


@dataclass
class Deployed:
    application: dict[str, Any]
    service_principal: dict[str, Any]
    grants: list[dict[str, Any]]

    def add_permission(self, resource_app_id: str, permission_id: str, kind: str = "Scope") -> None:
        for entry in self.application["requiredResourceAccess"]:
            if entry["resourceAppId"] == resource_app_id:
                entry["resourceAccess"].append({"id": permission_id, "type": kind})
                return
        self.application["requiredResourceAccess"].append(
            {"resourceAppId": resource_app_id, "resourceAccess": [{"id": permission_id, "type": kind}]}
        )
