"""Who has consented to a stack's apps, and which grants a revocation removes.

Pure: takes the stack (`mailoauth.desired.model`) and what the tenant holds (`mailoauth.graph.records`), so the
inventory, the consent drift and the refusal to undo the stack's own admin consent follow from the
same desired state that `plan` shows and `pulumi up` registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailoauth.base.style import count
from mailoauth.desired.model import App, Stack
from mailoauth.graph.records import ADMIN_CONSENT, AppInTenant, Grant
from mailoauth.tenant.drift import Names

USER = "Principal"  # ... of one user's own consent
TOKENS_NOTICE = (
    "access tokens already issued stay valid until they expire, 60-90 minutes after issue; "
    "refresh tokens stop working now, so the app cannot get new tokens through the removed consent"
)


@dataclass(frozen=True)
class ConsentGrant:
    """One delegated grant of an app, with the names a person needs to judge it."""

    grant: Grant
    resource_app_id: str
    resource: str
    user: str | None  # the user's UPN, None for tenant-wide consent or a user that could not be found
    undeclared: tuple[str, ...]  # granted scopes the stack does not ask for from this resource
    declared: bool  # tenant-wide consent the stack itself grants (adminConsent: true): pulumi up recreates it

    @property
    def tenant_wide(self) -> bool:
        return self.grant.tenant_wide

    @property
    def who(self) -> str:
        return who(self.grant.consent_type, self.user, self.grant.principal_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.grant.id,
            "consentType": self.grant.consent_type,
            "principalId": self.grant.principal_id,
            "userPrincipalName": self.user,
            "resourceAppId": self.resource_app_id,
            "resource": self.resource,
            "scopes": list(self.grant.scopes),
            "undeclaredScopes": list(self.undeclared),
            "declaredByStack": self.declared,
        }


@dataclass
class AppConsent:
    """One stack app: how it was found in the tenant and its delegated grants."""

    key: str
    app: App
    found: AppInTenant
    grants: list[ConsentGrant] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.found.matches:
            return "missing"
        if self.found.registration is None:
            return "ambiguous"
        return "found" if self.found.service_principal_id else "no-service-principal"

    @property
    def client_id(self) -> str | None:
        reg = self.found.registration
        return reg.client_id if reg else self.app.client_id

    def label(self) -> str:
        return f"{self.key}: {self.app.display_name}" + (f" (client id {self.client_id})" if self.client_id else "")

    def tenant_wide(self) -> list[ConsentGrant]:
        return [g for g in self.grants if g.tenant_wide]

    def of_user(self, principal_id: str) -> list[ConsentGrant]:
        return [g for g in self.grants if not g.tenant_wide and g.grant.principal_id == principal_id]


def who(consent_type: str, upn: str | None, principal_id: str | None) -> str:
    if consent_type == ADMIN_CONSENT:
        return "all users"
    return upn or f"unknown user {principal_id}"


def declared_scopes(app: App) -> dict[str, set[str]]:
    """Resource appId -> the delegated scope values the stack asks for (case-folded, as Entra compares)."""
    return {rid: {p.value.casefold() for p in perms if p.type == "Scope"} for rid, perms in app.resources().items()}


def app_consent(app: App, found: AppInTenant, names: Names, upns: dict[str, str]) -> AppConsent:
    """The app's grants, tenant-wide first then by user, with their drift from the stack."""
    want = declared_scopes(app)
    grants = []
    for g in found.grants:
        api = names.api_of(g)
        rid = api.app_id if api else g.resource_id
        declared = want.get(rid, set())
        grants.append(
            ConsentGrant(
                grant=g,
                resource_app_id=rid,
                resource=names.resource(rid),
                user=upns.get(g.principal_id) if g.principal_id else None,
                undeclared=tuple(s for s in g.scopes if s.casefold() not in declared),
                declared=g.tenant_wide and app.admin_consent and rid in want,
            )
        )
    grants.sort(key=lambda c: (not c.tenant_wide, c.who.casefold(), c.resource, c.grant.id))
    return AppConsent(app.key, app, found, grants)


def list_document(stack: Stack, apps: list[AppConsent]) -> dict[str, Any]:
    """The `consent list --format json` contract."""
    entries = {
        a.key: {
            "displayName": a.app.display_name,
            "status": a.status,
            "clientId": a.client_id,
            "servicePrincipalId": a.found.service_principal_id,
            "adminConsent": a.app.admin_consent,
            "grants": [g.as_json() for g in a.grants],
        }
        for a in apps
    }
    grants = [g for a in apps for g in a.grants]
    return {
        "stack": stack.name,
        "tenantId": stack.tenant_id,
        "drift": any(g.undeclared for g in grants),
        "counts": {
            "tenantWide": sum(1 for g in grants if g.tenant_wide),
            "user": sum(1 for g in grants if not g.tenant_wide),
            "users": len({g.grant.principal_id for g in grants if not g.tenant_wide}),
            "undeclared": sum(1 for g in grants if g.undeclared),
        },
        "apps": entries,
    }


STATUS_TEXT = {
    "missing": "not found in the tenant (see mailoauth audit)",
    "ambiguous": "several registrations share this display name; set clientId: in the stack",
    "no-service-principal": "no service principal in the tenant, so nobody has consented",
}
HEADERS = ("consent", "user", "resource", "scopes", "not in stack")


def _summary(doc: dict[str, Any]) -> str:
    c = doc["counts"]
    drift = (
        f"{count(c['undeclared'], 'grant')} with scopes the stack does not declare"
        if doc["drift"]
        else "no consent drift"
    )
    return (
        f"consent for stack {doc['stack']} (tenant {doc['tenantId']}): {count(len(doc['apps']), 'app')}, "
        f"{count(c['tenantWide'], 'tenant-wide grant')}, {count(c['user'], 'user grant')} from "
        f"{count(c['users'], 'user')}; {drift}"
    )


def _app_line(key: str, app: dict[str, Any]) -> str:
    head = f"{key}: {app['displayName']}" + (f" (client id {app['clientId']})" if app["clientId"] else "")
    if app["status"] != "found":
        return f"{head}: {STATUS_TEXT[app['status']]}"
    return f"{head}: " + (count(len(app["grants"]), "grant") if app["grants"] else "no delegated grants")


def grant_row(g: dict[str, Any]) -> tuple[str, ...]:
    """A grant (as JSON) as a table row: consent, user, resource, scopes, scopes not in the stack."""
    return (
        "tenant-wide" if g["consentType"] == ADMIN_CONSENT else "user",
        who(g["consentType"], g["userPrincipalName"], g["principalId"]),
        g["resource"],
        " ".join(g["scopes"]),
        " ".join(g["undeclaredScopes"]),
    )


def _rows(app: dict[str, Any]) -> list[tuple[str, ...]]:
    return [grant_row(g) for g in app["grants"]]


def render_text(doc: dict[str, Any]) -> str:
    from mailoauth.base.tables import text_table

    lines = [_summary(doc), ""]
    for key, app in doc["apps"].items():
        lines.append(_app_line(key, app))
        if app["grants"]:
            lines += [*text_table(HEADERS, _rows(app), indent="  "), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    from mailoauth.base.tables import markdown_table

    out = [f"**{_summary(doc)}**", ""]
    for key, app in doc["apps"].items():
        out += [f"### {_app_line(key, app)}", ""]
        if app["grants"]:
            out += [*markdown_table(HEADERS, _rows(app)), ""]
    return "\n".join(out).rstrip() + "\n"


class RevokeRefused(Exception):
    """A revocation that would not hold or would remove what the stack grants; nothing is removed."""


def to_revoke(app: AppConsent, principal_id: str | None, include_declared: bool, stack_file: str) -> list[ConsentGrant]:
    """The grants `consent revoke` removes: one user's own consents, or every grant of the app.

    Tenant-wide consent the stack declares is refused without `include_declared`: the next
    `pulumi up` would grant it again, so removing it only looks like a fix.
    """
    if principal_id is not None:
        return app.of_user(principal_id)
    declared = [g for g in app.grants if g.declared]
    if declared and not include_declared:
        resources = ", ".join(g.resource for g in declared)
        raise RevokeRefused(
            f"refusing to remove the tenant-wide admin consent for {resources}: {stack_file} declares "
            f"config.mailoauth:apps.{app.key}.adminConsent: true, so the next pulumi up would grant it again; "
            "set adminConsent: false and run pulumi up (which removes it), or pass --include-declared to remove it "
            "now anyway; nothing was revoked"
        )
    return list(app.grants)


def still_covered(app: AppConsent, upn: str) -> str | None:
    """Why removing one user's own consent leaves the app acting for them, if tenant-wide consent does."""
    wide = app.tenant_wide()
    if not wide:
        return None
    scopes = "; ".join(f"{g.resource}: {' '.join(g.grant.scopes)}" for g in wide)
    return (
        f"{app.key} has tenant-wide admin consent ({scopes}), which covers {upn} as well: without their own consent "
        "the app can still act for them; to cut their access, block their sign-in (or, with user assignment "
        f"required, remove their assignment); to cut everyone's, run consent revoke --all"
        + (" --include-declared and set adminConsent: false" if any(g.declared for g in wide) else "")
    )
