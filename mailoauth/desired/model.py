"""The desired state: what one stack asks Entra ID to hold, independent of Pulumi.

`plan`, `diff`, the guardrails and the Pulumi program all consume these objects, so what a
reviewer sees is by construction what `pulumi up` registers. `CONFIG_KEYS` describes the stack
file's keys once; validation, the JSON Schema and the README's table are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from mailoauth.base.keyspec import Key
from mailoauth.base.problems import Problem
from mailoauth.desired.clouds import Cloud

# Our audience names -> Entra's signInAudience, and the authority segment the endpoints use.
SIGN_IN_AUDIENCE = {
    "single-tenant": "AzureADMyOrg",
    "multi-tenant": "AzureADMultipleOrgs",
    "multi-tenant-and-personal": "AzureADandPersonalMicrosoftAccount",
    "personal": "PersonalMicrosoftAccount",
}
AUDIENCE_OF_SIGN_IN = {entra: ours for ours, entra in SIGN_IN_AUDIENCE.items()}  # Entra's name -> ours
PERSONAL_AUDIENCES = ("multi-tenant-and-personal", "personal")
WIDE_AUDIENCES = ("multi-tenant", "multi-tenant-and-personal", "personal")
DEPLOYER = "{deployer}"  # stands for whoever runs pulumi up, where mailoauth:deployers is unset
PERSONAL_TOKEN_VERSION = 2  # access token version apps with personal accounts must request


def access_token_version(audience: str | None) -> int | None:
    """The access token version an app of this audience (our name) registers; None: the provider's default, 1."""
    return PERSONAL_TOKEN_VERSION if audience in PERSONAL_AUDIENCES else None


GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
APP_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

SECRET_FIELDS = (
    Key("description", "string", "Shown in the portal's Certificates & secrets list.", required=True),
    Key(
        "expires",
        "date",
        "Expiry date (YYYY-MM-DD, 00:00 UTC). Pinned: changing it replaces the secret.",
        required=True,
    ),
    Key(
        "name",
        "string",
        "Stable slot name (the resource name); defaults to 'secret' for `secret:` and "
        "to 'secret-<expires>' in `secrets:`.",
        pattern=r"^[a-z0-9][a-z0-9-]{0,40}$",
    ),
    Key(
        "keyId",
        "string",
        "Key id of a secret made outside this project (set by `adopt`): tracked for reports and audit, its value "
        "is not readable and `pulumi up` neither creates nor deletes it.",
        pattern=GUID_PATTERN,
    ),
)

GRANT_IMPORT_FIELDS = (
    Key(
        "resource", "string", "Resource key in scopes/catalogue.yaml (graph, exchange) the grant is for.", required=True
    ),
    Key(
        "id",
        "string",
        "Import id of the tenant-wide consent grant: /oauth2PermissionGrants/<grant id>.",
        required=True,
        pattern=r"^/oauth2PermissionGrants/[A-Za-z0-9_-]+$",
    ),
)
IMPORT_FIELDS = (
    Key(
        "application",
        "string",
        "Import id of the app registration: /applications/<object id>.",
        required=True,
        pattern=r"^/applications/[0-9a-fA-F-]{36}$",
    ),
    Key(
        "servicePrincipal",
        "string",
        "Import id of its service principal (enterprise application): /servicePrincipals/<object id>.",
        pattern=r"^/servicePrincipals/[0-9a-fA-F-]{36}$",
    ),
    Key(
        "consentGrants",
        "objects",
        "Its tenant-wide admin consent grants, one per resource.",
        fields=GRANT_IMPORT_FIELDS,
    ),
    Key(
        "permissionOrder",
        "strings",
        "Its delegated permissions by name in the tenant's order (set by `adopt`): registered in this order, so "
        "the import changes nothing (the provider compares each API's permissions as an ordered list).",
    ),
)

APP_FIELDS = (
    Key("displayName", "string", "Name in the portal and on the consent screen.", required=True),
    Key("audience", "enum", "Who may sign in.", default="single-tenant", choices=tuple(SIGN_IN_AUDIENCE)),
    Key(
        "product",
        "string",
        "The mail product using this app: a profile in products/ (email-this-issue, osticket, zammad, odoo).",
    ),
    Key(
        "useCases",
        "strings",
        "The product's use cases this app serves; they give `scopeSets` and `scopes` unless those are set.",
    ),
    Key(
        "instanceUrl",
        "string",
        "The product instance's base URL; gives `redirectUris` where the product's callback follows a pattern.",
        pattern=r"^https?://\S+$",
    ),
    Key(
        "redirectUris",
        "strings",
        "The instance's OAuth callback URLs, registered as Web redirect URIs; required unless `product` and "
        "`instanceUrl` derive it.",
        required_unless="product",
    ),
    Key(
        "scopeSets",
        "strings",
        "Scope sets from scopes/sets/; `general` is always added. Default: the use cases' sets, else none.",
    ),
    Key("scopes", "strings", "Extra single scopes by name, from scopes/catalogue.yaml. Default: the use cases'."),
    Key(
        "omitScopes",
        "strings",
        "Scopes of the always-added `general` set to leave out, for an adopted registration that lacks them "
        "(set by `adopt`).",
        default=[],
    ),
    Key("secret", "object", "The client secret (or use `secrets:` for two overlapping slots).", fields=SECRET_FIELDS),
    Key("secrets", "objects", "Up to two client secret slots, for rotation without downtime.", fields=SECRET_FIELDS),
    Key("adminConsent", "bool", "Grant tenant-wide admin consent for the delegated scopes.", default=False),
    Key(
        "allowWideAudience",
        "bool",
        "Acknowledge write or send scopes on an app other tenants or personal accounts can use.",
        default=False,
    ),
    Key(
        "allowEws",
        "bool",
        "Acknowledge EWS scopes (the ews-send set): Exchange Online blocks EWS unless the tenant allow-lists the app "
        "and shuts it down (dates in mailoauth/desired/exchange.yaml); Graph sendMail (graph-send) takes MIME instead.",
        default=False,
    ),
    Key(
        "allowPublicClientFlows",
        "bool",
        "Allow public client flows (device code), which `verify` uses when no localhost redirect URI is listed.",
        default=False,
    ),
    Key(
        "owners",
        "strings",
        "Extra owner object ids, besides mailoauth:deployers (or, when that is unset, whoever runs pulumi up).",
        default=[],
    ),
    Key(
        "mailboxes", "strings", "Mailboxes (UPNs) the app will be used with, for `preflight` and `verify`.", default=[]
    ),
    Key(
        "clientId",
        "string",
        "Client id of this app's registration, for `audit`, `preflight` and `consent` (set by `adopt`, or copied "
        "from the stack output); it imports nothing, `import:` does.",
        pattern=GUID_PATTERN,
    ),
    Key(
        "import",
        "object",
        "Existing resources `pulumi up` imports instead of creating (set by `adopt`; may stay after the import).",
        fields=IMPORT_FIELDS,
    ),
)

CONFIG_KEYS = (
    Key(
        "azuread:tenantId",
        "string",
        "Tenant GUID: provider login, endpoints and the deploy-time tenant check.",
        required=True,
        pattern=GUID_PATTERN,
    ),
    Key(
        "azuread:environment",
        "enum",
        "Microsoft cloud: GCC (moderate) tenants use `global`, GCC High `usgovernmentl4`, DoD `usgovernmentl5`.",
        default="global",
        choices=("global", "usgovernmentl4", "usgovernmentl5", "china"),
    ),
    Key(
        "mailoauth:deployers",
        "strings",
        "Object ids of the principals that deploy this stack (CI's service principal, admins): owners of every app "
        "and its service principal. Unset: whoever runs pulumi up becomes an owner and replaces the previous one.",
        default=[],
    ),
    Key(
        "mailoauth:apps",
        "map",
        "App registrations, keyed by a stable app key (renaming replaces).",
        required=True,
        fields=APP_FIELDS,
        pattern=APP_KEY_PATTERN,
    ),
)


@dataclass(frozen=True)
class Permission:
    resource_key: str
    resource: str
    resource_app_id: str
    value: str
    id: str
    admin_consent_required: bool
    access: str
    audience: str
    protocol: str | None
    type: str = "Scope"

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.resource_app_id, self.id)


@dataclass(frozen=True)
class SecretSlot:
    name: str
    description: str
    expires: date
    key_id: str | None = None

    @property
    def adopted(self) -> bool:
        """Made outside this project and recorded by key id: its value cannot be read and Pulumi cannot
        import a password, so `pulumi up` neither creates nor deletes it."""
        return self.key_id is not None

    @property
    def end_date(self) -> str:
        """RFC 3339, as the provider's `end_date` wants it."""
        return f"{self.expires.isoformat()}T00:00:00Z"


@dataclass(frozen=True)
class Imports:
    """Provider import ids of an adopted registration's resources (the `import:` key)."""

    application: str  # /applications/<object id>
    service_principal: str | None = None  # /servicePrincipals/<object id>
    grants: tuple[tuple[str, str], ...] = ()  # (catalogue resource key, /oauth2PermissionGrants/<id>)
    permission_order: tuple[str, ...] = ()  # scope names in the tenant's order

    def grant(self, resource_key: str) -> str | None:
        return dict(self.grants).get(resource_key)


@dataclass(frozen=True)
class App:
    key: str
    display_name: str
    audience: str
    redirect_uris: tuple[str, ...]
    scope_sets: tuple[str, ...]
    extra_scopes: tuple[str, ...]
    permissions: tuple[Permission, ...]
    secrets: tuple[SecretSlot, ...]
    admin_consent: bool = False
    allow_wide_audience: bool = False
    allow_public_client_flows: bool = False
    owners: tuple[str, ...] = ()
    mailboxes: tuple[str, ...] = ()
    client_id: str | None = None
    imports: Imports | None = None
    omitted_scopes: tuple[str, ...] = ()  # members of the general set left out (omitScopes)
    product: str | None = None
    use_cases: tuple[str, ...] = ()
    origins: tuple[tuple[str, str], ...] = ()  # derived key -> where its value came from (product, use cases)

    @property
    def sign_in_audience(self) -> str:
        return SIGN_IN_AUDIENCE[self.audience]

    @property
    def access_token_version(self) -> int | None:
        """`api.requested_access_token_version`: 2 with personal accounts, where the azuread provider refuses
        its default of 1 at plan time (docs/sources.md)."""
        return access_token_version(self.audience)

    @property
    def newest_secret(self) -> SecretSlot:
        return max(self.secrets, key=lambda s: s.expires)

    @property
    def managed_secrets(self) -> tuple[SecretSlot, ...]:
        """The slots `pulumi up` creates (and whose values it exports): all but the adopted ones."""
        return tuple(s for s in self.secrets if not s.adopted)

    @property
    def newest_managed_secret(self) -> SecretSlot | None:
        return max(self.managed_secrets, key=lambda s: s.expires, default=None)

    @property
    def protocols(self) -> tuple[str, ...]:
        return tuple(sorted({p.protocol for p in self.permissions if p.protocol}))

    def resources(self) -> dict[str, list[Permission]]:
        """Permissions grouped by resource appId, sorted, or in the tenant's order for an adopted registration
        (`import.permissionOrder`, then the rest): the provider compares each API's list in order."""
        order = {name: i for i, name in enumerate(self.imports.permission_order if self.imports else ())}
        grouped: dict[str, list[Permission]] = {}
        for perm in sorted(self.permissions, key=lambda p: (p.resource_app_id, order.get(p.value, len(order)), p.id)):
            grouped.setdefault(perm.resource_app_id, []).append(perm)
        return grouped


@dataclass(frozen=True)
class Stack:
    name: str
    file: str
    tenant_id: str
    cloud: Cloud
    apps: dict[str, App] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    deployers: tuple[str, ...] = ()  # mailoauth:deployers, lower case

    def owners(self, app: App, running: str) -> tuple[str, ...]:
        """The owners `pulumi up` sets on the app and its service principal: the listed deployers and the app's
        owners; the principal running pulumi up (`running`) only when no deployers are listed, or when listed."""
        first = self.deployers or (running,)
        return tuple(dict.fromkeys((*first, *app.owners)))

    def app_warnings(self, key: str) -> list[Problem]:
        return [w for w in self.warnings if w.path[2:3] == (key,)]
