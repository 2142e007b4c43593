"""Endpoints and scope strings that downstream apps need, derived from the desired state.

Pure functions over the model, shared by `plan` (with a placeholder for the client id that
Entra assigns at create time) and the Pulumi program (with the real one, as an Output).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from mailoauth.desired.clouds import Cloud
from mailoauth.desired.model import App, Permission

# Which tenant segment goes into the authority URL for each audience (entra-docs v2-protocols).
AUTHORITY_SEGMENT = {
    "multi-tenant": "organizations",
    "multi-tenant-and-personal": "common",
    "personal": "consumers",
}
CLIENT_ID_PLACEHOLDER = "{clientId}"
# Token audiences in the order a mail client meets them; one token request per audience.
REQUEST_GROUPS = ("outlook", "graph", "ews")


def authority_segment(audience: str, tenant_id: str) -> str:
    return AUTHORITY_SEGMENT.get(audience, tenant_id)


def authorize_url(cloud: Cloud, audience: str, tenant_id: str) -> str:
    return f"https://{cloud.login_host}/{authority_segment(audience, tenant_id)}/oauth2/v2.0/authorize"


def token_url(cloud: Cloud, audience: str, tenant_id: str) -> str:
    return f"https://{cloud.login_host}/{authority_segment(audience, tenant_id)}/oauth2/v2.0/token"


def admin_consent_url(cloud: Cloud, app: App, tenant_id: str, client_id: str) -> str | None:
    """The v2 admin consent link (never /common; none for personal-account-only apps)."""
    if app.audience == "personal":
        return None
    tenant = tenant_id if app.audience == "single-tenant" else "organizations"
    query = urlencode(
        {"client_id": client_id, "scope": f"{cloud.graph_url}/.default", "redirect_uri": app.redirect_uris[0]},
        quote_via=quote,
        safe="{}",
    )
    return f"https://{cloud.login_host}/{tenant}/v2.0/adminconsent?{query}"


def scope_string(permission: Permission, cloud: Cloud) -> str:
    """What a client puts in `scope=`: OIDC scopes bare, the rest prefixed by their audience."""
    if permission.audience == "oidc":
        return permission.value
    return f"{cloud.token_audiences[permission.audience]}/{permission.value}"


def scope_requests(app: App, cloud: Cloud) -> dict[str, str]:
    """Per token audience, the scope string a mail client requests (with offline_access for a refresh token).

    Entra issues a token for one resource at a time, so IMAP/SMTP (outlook), Graph and EWS each
    need their own request; User.Read alone belongs to the graph group.
    """
    oidc = [p.value for p in app.permissions if p.audience == "oidc" and p.value == "offline_access"]
    out = {}
    for group in REQUEST_GROUPS:
        scopes = [scope_string(p, cloud) for p in _ordered(app.permissions) if p.audience == group]
        if scopes:
            out[group] = " ".join(oidc + scopes)
    return out


def _ordered(permissions: tuple[Permission, ...]) -> list[Permission]:
    return sorted(permissions, key=lambda p: p.value)


def mail_endpoints(app: App, cloud: Cloud) -> dict[str, dict[str, object]]:
    """Hosts and ports for the app's protocols in this cloud; Graph gets its base URL."""
    out: dict[str, dict[str, object]] = {}
    for protocol in app.protocols:
        if protocol == "graph":
            out["graph"] = {"url": f"{cloud.graph_url}/v1.0"}
            continue
        ep = cloud.mail[protocol]
        out[protocol] = {k: v for k, v in vars(ep).items() if v is not None}
    return out


def app_endpoints(app: App, cloud: Cloud, tenant_id: str, client_id: str = CLIENT_ID_PLACEHOLDER) -> dict[str, object]:
    """Everything about an app's endpoints, as `plan` shows it and the stack exports it."""
    requests = scope_requests(app, cloud)
    return {
        "authorize": authorize_url(cloud, app.audience, tenant_id),
        "token": token_url(cloud, app.audience, tenant_id),
        "adminConsent": admin_consent_url(cloud, app, tenant_id, client_id),
        "scopeRequest": next(iter(requests.values()), "offline_access"),
        "scopeRequests": requests,
        "mail": mail_endpoints(app, cloud),
    }
