"""`mailoauth plan`: the desired state of a stack as a document, and its text/markdown rendering.

`plan_document` is the machine-readable contract (JSON); the program registers exactly what it
lists, which `tests/test_program.py` checks under Pulumi mocks.
"""

from __future__ import annotations

from typing import Any

from mailoauth.base.style import count
from mailoauth.desired.endpoints import app_endpoints
from mailoauth.desired.model import DEPLOYER, App, Permission, Stack
from mailoauth.guardrails import rules


def permission_document(p: Permission) -> dict[str, Any]:
    return {
        "resourceAppId": p.resource_app_id,
        "resource": p.resource,
        "value": p.value,
        "id": p.id,
        "type": p.type,
        "adminConsentRequired": p.admin_consent_required,
        "access": p.access,
    }


def app_document(stack: Stack, app: App) -> dict[str, Any]:
    newest = app.newest_secret
    return {
        "displayName": app.display_name,
        "audience": app.audience,
        "signInAudience": app.sign_in_audience,
        "accessTokenVersion": app.access_token_version,
        "product": app.product,
        "useCases": list(app.use_cases),
        "derivedFrom": dict(app.origins),
        "redirectUris": list(app.redirect_uris),
        "scopeSets": list(app.scope_sets),
        "omitScopes": list(app.omitted_scopes),
        "permissions": [permission_document(p) for p in sorted(app.permissions, key=lambda p: p.sort_key)],
        "secret": {"description": newest.description, "expires": newest.expires.isoformat()},
        "secrets": [
            {"name": s.name, "description": s.description, "expires": s.expires.isoformat(), "endDate": s.end_date}
            | ({"keyId": s.key_id, "adopted": True} if s.adopted else {})
            for s in app.secrets
        ],
        "adminConsent": app.admin_consent,
        "allowPublicClientFlows": app.allow_public_client_flows,
        "owners": list(stack.owners(app, DEPLOYER)),
        "import": import_document(app),
        "endpoints": app_endpoints(app, stack.cloud, stack.tenant_id),
        "warnings": [w.message for w in stack.app_warnings(app.key)],
    }


def import_document(app: App) -> dict[str, Any] | None:
    """The existing resources `pulumi up` imports (provider import ids), or None for a new registration."""
    ids = app.imports
    if ids is None:
        return None
    return {
        "application": ids.application,
        "servicePrincipal": ids.service_principal,
        "consentGrants": dict(ids.grants),
        "permissionOrder": list(ids.permission_order),
    }


def plan_document(stack: Stack) -> dict[str, Any]:
    return {
        "stack": stack.name,
        "file": stack.file,
        "tenantId": stack.tenant_id,
        "cloud": stack.cloud.name,
        "summary": resource_counts(stack),
        "apps": {key: app_document(stack, app) for key, app in stack.apps.items()},
    }


def resource_counts(stack: Stack) -> dict[str, int]:
    """What `pulumi up` registers on an empty stack, by resource kind; `imported` of them exist already."""
    apps = stack.apps.values()
    return {
        "applications": len(stack.apps),
        "servicePrincipals": len(stack.apps),
        "applicationPasswords": sum(len(a.managed_secrets) for a in apps),
        "delegatedPermissionGrants": sum(len(a.resources()) for a in apps if a.admin_consent),
        "imported": sum(_imported(a) for a in apps),
    }


def _imported(app: App) -> int:
    ids = app.imports
    return 0 if ids is None else 1 + bool(ids.service_principal) + len(ids.grants)


def summary_line(doc: dict[str, Any]) -> str:
    c = doc["summary"]
    return (
        f"stack {doc['stack']}: {count(c['applications'], 'app registration')}, "
        f"{count(c['servicePrincipals'], 'service principal')}, {count(c['applicationPasswords'], 'client secret')}, "
        f"{count(c['delegatedPermissionGrants'], 'admin consent grant')} in tenant {doc['tenantId']} ({doc['cloud']})"
        + (f"; {c['imported']} of them imported from the tenant" if c.get("imported") else "")
    )


def by_name(perms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """People read permissions by resource and name; the JSON keeps the registration order."""
    return sorted(perms, key=lambda p: (p["resource"], p["value"].casefold()))


def consent_label(perm: dict[str, Any]) -> str:
    return "admin consent" if perm["adminConsentRequired"] else "user consent"


def render_text(doc: dict[str, Any]) -> str:
    lines = [summary_line(doc), ""]
    for key, app in doc["apps"].items():
        ep = app["endpoints"]
        origin = app["derivedFrom"]
        lines += [
            f"+ {key}: {app['displayName']}",
            *(
                [f"    product        {app['product']}, use cases {', '.join(app['useCases'])}"]
                if app["product"]
                else []
            ),
            f"    audience       {app['audience']} ({app['signInAudience']})",
            *_token_version_lines(app, "    token version  {}"),
            *(f"    redirect URI   {rules.shown_uri(u)}{_origin(origin, 'redirectUris')}" for u in app["redirectUris"]),
            f"    scope sets     {', '.join(app['scopeSets'])}{_origin(origin, 'scopeSets')}",
            *([f"    left out       {', '.join(app['omitScopes'])} (of the general set)"] if app["omitScopes"] else []),
        ]
        for p in by_name(app["permissions"]):
            lines.append(
                f"    permission     {p['value']:<24} {p['id']}  {p['resource']}, delegated, "
                f"{consent_label(p)}, {p['access']}"
            )
        for s in app["secrets"]:
            lines.append(f'    secret         {s["name"]}: "{s["description"]}", expires {s["expires"]}{_adopted(s)}')
        lines += [f"    import         {what} {ident}" for what, ident in _import_lines(app["import"])]
        lines.append(f"    owners         {owners_line(app['owners'])}")
        lines += [
            f"    admin consent  {'granted by pulumi up' if app['adminConsent'] else 'left to each user'}",
            *(["    public client  allowed (device code sign-in)"] if app["allowPublicClientFlows"] else []),
            f"    authorize      {ep['authorize']}",
            f"    token          {ep['token']}",
        ]
        lines += [f"    scope request  {aud}: {req}" for aud, req in ep["scopeRequests"].items()]
        for proto, conn in ep["connections"].items():
            lines += [f"    {proto:<14} {_mail(conn)}", f"    {proto + ' scope':<14} {conn['scope']}"]
        lines += [f"    warning        {w}" for w in app["warnings"]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _origin(origins: dict[str, str], key: str) -> str:
    return f"  (from {origins[key]})" if key in origins else ""


def _token_version_lines(app: dict[str, Any], template: str) -> list[str]:
    version = app["accessTokenVersion"]
    if not version:
        return []
    return [template.format(f"v{version} (api.requestedAccessTokenVersion, required with personal accounts)")]


def owners_line(owners: list[str]) -> str:
    """Who owns the app after pulumi up; says so when that depends on who runs it."""
    if DEPLOYER not in owners:
        return ", ".join(owners)
    others = [o for o in owners if o != DEPLOYER]
    return ", ".join(
        ["whoever runs pulumi up (replacing the previous deployer; list them in mailoauth:deployers)", *others]
    )


def _adopted(slot: dict[str, Any]) -> str:
    return f" (adopted, keyId {slot['keyId']}: kept, not created)" if slot.get("adopted") else ""


def _import_lines(ids: dict[str, Any] | None) -> list[tuple[str, str]]:
    if ids is None:
        return []
    out = [("application", ids["application"])]
    out += [("service principal", ids["servicePrincipal"])] if ids["servicePrincipal"] else []
    return out + [(f"consent {resource}", grant) for resource, grant in ids["consentGrants"].items()]


def _mail(target: dict[str, Any]) -> str:
    if "url" in target:
        return str(target["url"])
    return f"{target['host']}:{target['port']} ({target['security']})"


def render_markdown(doc: dict[str, Any]) -> str:
    out = [f"**{summary_line(doc)}**", ""]
    for key, app in doc["apps"].items():
        ep = app["endpoints"]
        out += [
            f"### `{key}`: {app['displayName']}",
            "",
            (f"product `{app['product']}` ({', '.join(app['useCases'])}); " if app["product"] else "")
            + f"{app['audience']} (`{app['signInAudience']}`)"
            + "".join(_token_version_lines(app, ", access tokens {}"))
            + f", scope sets: {', '.join(app['scopeSets'])}"
            + (f" without {', '.join(app['omitScopes'])}" if app["omitScopes"] else "")
            + "; "
            f"admin consent: {'yes' if app['adminConsent'] else 'no'}"
            + ("; public client flows (device code): allowed" if app["allowPublicClientFlows"] else ""),
            "",
        ]
        out += [f"> :warning: {w}" for w in app["warnings"]]
        out += ["", "| permission | resource | GUID | consent | access |", "|---|---|---|---|---|"]
        out += [
            f"| `{p['value']}` | {p['resource']} | `{p['id']}` | {consent_label(p)} | {p['access']} |"
            for p in by_name(app["permissions"])
        ]
        out += ["", "<details><summary>Redirect URIs, secrets and endpoints</summary>", ""]
        out += [f"- redirect URI: `{rules.shown_uri(u)}`" for u in app["redirectUris"]]
        out += [
            f"- secret `{s['name']}`: {s['description']}, expires {s['expires']}{_adopted(s)}" for s in app["secrets"]
        ]
        out += [f"- import {what}: `{ident}`" for what, ident in _import_lines(app["import"])]
        out += [f"- authorize: `{ep['authorize']}`", f"- token: `{ep['token']}`"]
        out += [f"- {proto} connection: {_mail(c)}, scope `{c['scope']}`" for proto, c in ep["connections"].items()]
        out += [f"- derived {key}: from {origin}" for key, origin in app["derivedFrom"].items()]
        out += ["", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"
