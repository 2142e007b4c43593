"""Drift between a stack's desired state and what the tenant holds, as findings with a fix each.

Pure: takes the model (`mailoauth.desired.model`) and the tenant's values (`mailoauth.graph.records`), so what is
reported follows from the same desired state that `plan` shows and `pulumi up` registers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from mailoauth.base.style import count
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.model import AUDIENCE_OF_SIGN_IN, App, SecretSlot, Stack
from mailoauth.graph.records import AppInTenant, Grant, PermissionKey, Registration, ResourceApi, Secret

PULUMI_UP = "run pulumi up to restore the stack's state"
ROTATE = (
    "rotate: add a slot with a later expiry under secrets:, pulumi up, give the mail product the new secret, "
    "then remove the old slot"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    fix: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Names:
    """Human names for permission GUIDs: the catalogue first, then what the resource APIs publish."""

    catalogue: Catalogue
    resources: dict[str, ResourceApi]

    def resource(self, app_id: str) -> str:
        api = self.resources.get(app_id)
        if api:
            return api.display_name
        return self.catalogue.resource_name(app_id) or app_id

    @cached_property
    def _by_object_id(self) -> dict[str, ResourceApi]:
        return {api.object_id: api for api in self.resources.values()}

    def api_of(self, grant: Grant) -> ResourceApi | None:
        """The resource API a grant is on (a grant names the resource's service principal object id)."""
        return self._by_object_id.get(grant.resource_id)

    def resource_app_id(self, grant: Grant) -> str:
        """The appId of the resource a grant is on; its object id when the resource was not read."""
        api = self.api_of(grant)
        return api.app_id if api else grant.resource_id

    def permission(self, key: PermissionKey) -> str:
        app_id, pid, kind = key
        scope = self.catalogue.by_id.get((app_id.lower(), pid.lower())) if kind == "Scope" else None
        name = scope.value if scope else None
        api = self.resources.get(app_id)
        name = name or (api.permission_name(pid, kind) if api else None) or pid
        kind_text = "delegated" if kind == "Scope" else "application"
        return f"{name} ({self.resource(app_id)}, {kind_text})"


def app_drift(app: App, found: AppInTenant, names: Names, today: date, within: int) -> list[Finding]:
    """Every difference between one desired app and its registration in the tenant."""
    if not found.matches:
        return [_missing(app, found)]
    if found.registration is None:
        ids = ", ".join(r.client_id for r in found.matches)
        return [
            Finding(
                "app-ambiguous",
                f"{len(found.matches)} registrations are named '{app.display_name}' (client ids {ids})",
                "set clientId: in the stack to the registration this stack manages",
            )
        ]
    reg = found.registration
    return [
        *_identity(app, reg),
        *_permissions(app, reg, names),
        *_redirects(app, reg),
        *secret_drift(app.secrets, reg.secrets, today, within),
        *_consent(app, found, names),
    ]


def _missing(app: App, found: AppInTenant) -> Finding:
    how = f"client id {app.client_id}" if found.looked_up_by == "clientId" else f"display name '{app.display_name}'"
    return Finding(
        "app-missing",
        f"no app registration with {how} in the tenant",
        "run pulumi up to create it (or set clientId: to the existing registration's client id)",
    )


def _identity(app: App, reg: Registration) -> list[Finding]:
    out = []
    if reg.display_name != app.display_name:
        out.append(
            Finding(
                "display-name",
                f"displayName is '{reg.display_name}' in the tenant, '{app.display_name}' in the stack",
                PULUMI_UP,
            )
        )
    if reg.sign_in_audience != app.sign_in_audience:
        ours = AUDIENCE_OF_SIGN_IN.get(reg.sign_in_audience, reg.sign_in_audience)
        out.append(
            Finding(
                "audience",
                f"signInAudience is {reg.sign_in_audience} ({ours}) in the tenant; the stack says audience: "
                f"{app.audience} ({app.sign_in_audience})",
                PULUMI_UP,
            )
        )
    return out


def desired_permissions(app: App) -> frozenset[PermissionKey]:
    return frozenset((p.resource_app_id.lower(), p.id.lower(), p.type) for p in app.permissions)


def _permissions(app: App, reg: Registration, names: Names) -> list[Finding]:
    want = desired_permissions(app)
    extra = sorted(reg.permissions - want, key=names.permission)
    missing = sorted(want - reg.permissions, key=names.permission)
    return [
        Finding(
            "permission-extra",
            f"{names.permission(k)} is requested in the tenant but not in the stack",
            "run pulumi up to remove it; if the app needs it, add it to the stack's scopes first",
        )
        for k in extra
    ] + [
        Finding(
            "permission-missing", f"{names.permission(k)} is in the stack but not requested in the tenant", PULUMI_UP
        )
        for k in missing
    ]


def _redirects(app: App, reg: Registration) -> list[Finding]:
    have, want = set(reg.web_redirect_uris), set(app.redirect_uris)
    out = [
        Finding("redirect-uri-extra", f"web redirect URI {uri} is registered but not in the stack", PULUMI_UP)
        for uri in sorted(have - want)
    ]
    out += [
        Finding("redirect-uri-missing", f"web redirect URI {uri} is in the stack but not registered", PULUMI_UP)
        for uri in sorted(want - have)
    ]
    out += [
        Finding(
            "redirect-uri-extra",
            f"{platform} redirect URI {uri} is registered; the stack registers web redirect URIs only",
            "remove it in the portal (Authentication) unless another client of this app needs it",
        )
        for platform, uris in sorted(reg.other_redirect_uris.items())
        for uri in uris
    ]
    return out


def secret_drift(slots: Iterable[SecretSlot], secrets: Iterable[Secret], today: date, within: int) -> list[Finding]:
    """Match the stack's slots to the tenant's secrets (keyId, else description and expiry, else description),
    then report missing slots, unexpected secrets and expired or soon-expiring ones."""
    unmatched = list(secrets)
    out: list[Finding] = []
    for slot in slots:
        secret = _match(slot, unmatched)
        if secret is None:
            out.append(
                Finding(
                    "secret-missing",
                    f"secret slot '{slot.name}' (\"{slot.description}\", expires {slot.expires}) has no secret "
                    "in the tenant",
                    "run pulumi up to create it",
                )
            )
            continue
        unmatched.remove(secret)
        end = secret.end.date() if secret.end else None
        if end and end != slot.expires:
            out.append(
                Finding(
                    "secret-expiry",
                    f"secret {_describe(secret)} expires {end} in the tenant; slot '{slot.name}' says {slot.expires}",
                    "the expiry of an existing secret cannot change: rotate to a new slot",
                )
            )
        out += _expiry(secret, today, within)
    out += [
        Finding(
            "secret-extra",
            f"secret {_describe(s)}, expiring {s.end.date() if s.end else 'never'}, is not in the stack",
            "delete it in the portal (Certificates & secrets) once nothing uses it, or record it with keyId:",
        )
        for s in unmatched
    ]
    return out


def _match(slot: SecretSlot, secrets: list[Secret]) -> Secret | None:
    if slot.key_id:
        return next((s for s in secrets if s.key_id == slot.key_id.lower()), None)
    named = [s for s in secrets if s.display_name == slot.description]
    return next((s for s in named if s.end and s.end.date() == slot.expires), named[0] if named else None)


def _describe(secret: Secret) -> str:
    return f"'{secret.display_name}' (keyId {secret.key_id})"


def _expiry(secret: Secret, today: date, within: int) -> list[Finding]:
    if secret.end is None:
        return []
    end = secret.end.date()
    days = (end - today).days
    if days <= 0:
        return [Finding("secret-expired", f"secret {_describe(secret)} expired on {end}", ROTATE)]
    if days <= within:
        return [
            Finding("secret-expiring", f"secret {_describe(secret)} expires on {end}, in {count(days, 'day')}", ROTATE)
        ]
    return []


def _consent(app: App, found: AppInTenant, names: Names) -> list[Finding]:
    if found.service_principal_id is None:
        return [
            Finding(
                "service-principal-missing",
                "the registration has no service principal (enterprise application) in this tenant",
                "run pulumi up to create it",
            )
        ]
    by_resource = {names.resource_app_id(g): g for g in found.grants if g.tenant_wide}
    want = {rid: sorted(p.value for p in perms) for rid, perms in app.resources().items()} if app.admin_consent else {}
    out = []
    for rid, scopes in want.items():
        grant = by_resource.pop(rid, None)
        if grant is None:
            out.append(
                Finding(
                    "consent-missing",
                    f"no tenant-wide admin consent for {names.resource(rid)} (stack: adminConsent: true)",
                    "run pulumi up, or grant admin consent in the portal (API permissions)",
                )
            )
        elif set(grant.scopes) != set(scopes):
            out.append(_consent_scopes(names.resource(rid), grant, scopes))
    out += [
        Finding(
            "consent-extra",
            f"tenant-wide admin consent is granted for {names.resource(rid)} ({' '.join(g.scopes)}), "
            + (
                "but not for anything the stack requests from it"
                if app.admin_consent
                else "but the stack has adminConsent: false"
            ),
            "revoke the grant (portal: Enterprise applications > Permissions) or set adminConsent: true",
        )
        for rid, g in by_resource.items()
    ]
    return out


def _consent_scopes(resource: str, grant: Grant, want: list[str]) -> Finding:
    extra = sorted(set(grant.scopes) - set(want))
    missing = sorted(set(want) - set(grant.scopes))
    parts = ([f"extra: {' '.join(extra)}"] if extra else []) + ([f"missing: {' '.join(missing)}"] if missing else [])
    return Finding(
        "consent-scopes",
        f"admin consent for {resource} covers {' '.join(sorted(grant.scopes))}; the stack grants {' '.join(want)} "
        f"({'; '.join(parts)})",
        PULUMI_UP,
    )


def audit_document(
    stack: Stack, found: dict[str, AppInTenant], names: Names, today: date, within: int
) -> dict[str, object]:
    """The `audit --format json` contract: per app, where it was found and its findings."""
    apps = {}
    for key, app in stack.apps.items():
        reg = found[key].registration
        findings = app_drift(app, found[key], names, today, within)
        apps[key] = {
            "displayName": app.display_name,
            "lookedUpBy": found[key].looked_up_by,
            "clientId": reg.client_id if reg else app.client_id,
            "objectId": reg.object_id if reg else None,
            "servicePrincipalId": found[key].service_principal_id,
            "findings": [f.as_json() for f in findings],
        }
    return {
        "stack": stack.name,
        "tenantId": stack.tenant_id,
        "today": today.isoformat(),
        "withinDays": within,
        "drift": any(a["findings"] for a in apps.values()),
        "apps": apps,
    }


def _summary(doc: dict[str, object]) -> str:
    apps = doc["apps"]
    assert isinstance(apps, dict)
    drifted = sum(1 for a in apps.values() if a["findings"])
    return (
        f"audit of stack {doc['stack']} (tenant {doc['tenantId']}): {count(len(apps), 'app')}, "
        + (f"drift in {drifted}" if drifted else "no drift")
        + f"; secrets checked for expiry within {count(int(str(doc['withinDays'])), 'day')} of {doc['today']}"
    )


def _app_line(key: str, app: dict[str, object]) -> str:
    where = f"client id {app['clientId']}" if app["objectId"] else "not found"
    findings = app["findings"]
    assert isinstance(findings, list)
    return f"{key}: {app['displayName']} ({where}): " + (count(len(findings), "finding") if findings else "no drift")


def render_text(doc: dict[str, object]) -> str:
    from mailoauth.base.tables import text_table

    lines = [_summary(doc), ""]
    for key, app in doc["apps"].items():  # type: ignore[attr-defined]
        lines.append(_app_line(key, app))
        rows = [(f["kind"], f["message"], f["fix"]) for f in app["findings"]]
        if rows:
            lines += [*text_table(("kind", "finding", "fix"), rows, indent="  "), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(doc: dict[str, object]) -> str:
    from mailoauth.base.tables import markdown_table

    out = [f"**{_summary(doc)}**", ""]
    for key, app in doc["apps"].items():  # type: ignore[attr-defined]
        out += [f"### {_app_line(key, app)}", ""]
        rows = [(f"`{f['kind']}`", f["message"], f["fix"]) for f in app["findings"]]
        if rows:
            out += [*markdown_table(("kind", "finding", "fix"), rows), ""]
    return "\n".join(out).rstrip() + "\n"
