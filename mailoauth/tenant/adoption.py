"""Adopting an app registration made by hand: what the tenant holds, as an entry of a stack file.

Pure: takes the tenant's values (`mailoauth.graph.records`, plus the Graph JSON of the settings the program
does not manage) and the scope catalogue, and returns the entry `mailoauth adopt` writes, the ids
Pulumi imports, and what the first `pulumi up` would still change because the project's rules say so
(the deploying principal as owner). The entry asks for exactly the registration's permissions, in its
order: `general` scopes it lacks go to `omitScopes`, the tenant's order to `import.permissionOrder`.
Whatever the stack file cannot express (application permissions, unknown scopes, other platforms,
exposed APIs, ...) is refused with a fix: the entry never drops or silently changes something the
registration has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mailoauth.base.problems import CommandError
from mailoauth.base.style import count, word
from mailoauth.desired.catalogue import ALWAYS_SET, Catalogue
from mailoauth.desired.model import APP_KEY_PATTERN, AUDIENCE_OF_SIGN_IN
from mailoauth.graph.records import Grant, PermissionKey, Registration, ResourceApi, Secret
from mailoauth.guardrails.rules import ews_status
from mailoauth.tenant.drift import Names

APPLICATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
MAIL_APP = "mailoauth:index:MailApp"
PORTAL_DEFAULT = "User.Read"
# The Graph properties of an application the settings checks read (besides what find_apps reads).
SETTINGS_SELECT = [
    "id", "identifierUris", "api", "appRoles", "web", "isFallbackPublicClient", "groupMembershipClaims",
    "optionalClaims", "info", "notes", "description", "serviceManagementReference", "keyCredentials",
    "requiredResourceAccess",
]  # fmt: skip
SP_SELECT = ["id", "accountEnabled", "appRoleAssignmentRequired"]
INFO_URLS = ("marketingUrl", "privacyStatementUrl", "supportUrl", "termsOfServiceUrl")  # not logoUrl: read-only
KEEP_OUT = "or keep this app outside the project"


@dataclass(frozen=True)
class LiveApp:
    """One registration as the tenant holds it."""

    registration: Registration
    settings: Mapping[str, Any]  # Graph JSON of the application, SETTINGS_SELECT properties
    owners: tuple[str, ...]
    service_principal: Mapping[str, Any] | None  # Graph JSON, SP_SELECT properties; None: there is none
    service_principal_owners: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class Request:
    """What the user asked for and what adoption needs to know about the run."""

    key: str
    stack: str
    today: date
    deployer: str | None  # object id of the signed-in principal, assumed to be the one that deploys
    allow_wide_audience: bool = False
    deployers: tuple[str, ...] = ()  # the stack's mailoauth:deployers: owners of every app instead of `deployer`


@dataclass(frozen=True)
class Refusal:
    what: str
    fix: str


class AdoptionRefused(CommandError):
    """The registration holds something the stack file cannot express; nothing is written."""

    def __init__(self, registration: Registration, refusals: list[Refusal]):
        self.refusals = refusals
        lines = [f"  - {r.what}: {r.fix}" for r in refusals]
        super().__init__(
            f"cannot adopt app registration '{registration.display_name}' (client id {registration.client_id}): "
            f"{count(len(refusals), 'thing')} the stack file cannot express; nothing was written\n" + "\n".join(lines)
        )


@dataclass
class Adoption:
    key: str
    registration: Registration
    entry: dict[str, Any]  # the app's mapping for `mailoauth:apps`, in APP_FIELDS order
    permissions: frozenset[PermissionKey]  # every permission the registration requests
    changes: list[str] = field(default_factory=list)  # what the first pulumi up changes, from the project's rules
    notes: list[str] = field(default_factory=list)  # what adoption decided or leaves alone

    @property
    def imports(self) -> dict[str, Any]:
        return self.entry["import"]

    def import_file(self) -> dict[str, Any]:
        """A `pulumi import --file` document for the same resources, under the program's names and parent."""
        key = self.key
        out: list[dict[str, Any]] = [
            {"type": MAIL_APP, "name": key, "component": True},
            {"type": APPLICATION, "name": f"{key}-application", "logicalName": key, "id": self.imports["application"]},
        ]
        if self.imports.get("servicePrincipal"):
            out.append({"type": SERVICE_PRINCIPAL, "name": f"{key}-sp", "id": self.imports["servicePrincipal"]})
        out += [
            {"type": GRANT, "name": f"{key}-consent-{g['resource']}", "id": g["id"]}
            for g in self.imports.get("consentGrants", ())
        ]
        for resource in out[1:]:
            resource["parent"] = key
        return {"resources": out}


def default_key(display_name: str) -> str:
    """An app key from the display name: 'Jira Mail (prod)' -> 'jira-mail-prod'."""
    slug = re.sub(r"[^a-z0-9]+", "-", display_name.lower()).strip("-")[:63].strip("-")
    return slug if re.fullmatch(APP_KEY_PATTERN, slug) else "app"


def adopt(live: LiveApp, catalogue: Catalogue, resources: dict[str, ResourceApi], request: Request) -> Adoption:
    """The stack-file entry for `live`; AdoptionRefused lists everything that cannot be expressed."""
    reg = live.registration
    names = Names(catalogue, resources)
    refusals = _settings(live) + _platforms(reg) + _unknown_permissions(reg, catalogue, names)
    audience = AUDIENCE_OF_SIGN_IN.get(reg.sign_in_audience)
    if audience is None:
        refusals.append(Refusal(f"sign-in audience {reg.sign_in_audience}", f"choose a supported one, {KEEP_OUT}"))
    slots, secret_refusals = _secrets(reg.secrets, request.today)
    refusals += secret_refusals
    if refusals:
        raise AdoptionRefused(reg, refusals)
    adoption = Adoption(request.key, reg, {}, reg.permissions)
    present = _present(reg, catalogue)
    sets, extra = scope_sets(present, catalogue)
    omitted = [n for n in catalogue.expand(ALWAYS_SET) if n not in present]
    consent, grants = _consent(live, present, catalogue, names, adoption)
    owners = _owners(live, request, adoption)
    adoption.entry = _entry(reg, audience or "", sets, extra, slots, consent, owners, request)
    if omitted:
        adoption.entry["omitScopes"] = omitted
        adoption.notes.append(
            f"{', '.join(omitted)} {word(len(omitted), 'stays', 'stay')} out (omitScopes): the registration lacks "
            f"{word(len(omitted), 'it', 'them')}, though every app of this project asks for the {ALWAYS_SET} set; "
            f"delete omitScopes and pulumi up adds {word(len(omitted), 'it', 'them')}"
        )
    ews = [name for name in present if catalogue.scopes[name].protocol == "ews"]
    if ews:  # kept, acknowledged: the registration already uses EWS
        adoption.entry["allowEws"] = True
        adoption.notes.append(
            f"allowEws: true keeps {', '.join(ews)}: {ews_status(request.today)}; once the product sends MIME "
            "through Graph sendMail, replace ews-send by graph-send and drop allowEws"
        )
    if live.settings.get("isFallbackPublicClient"):  # kept: the program sets it from allowPublicClientFlows
        adoption.entry["allowPublicClientFlows"] = True
    adoption.entry["import"] = _import_ids(live, grants) | {"permissionOrder": _tenant_order(live, catalogue)}
    _describe(adoption, live, extra, slots, request)
    return adoption


# --- what cannot be expressed -------------------------------------------------------------------------


def _settings(live: LiveApp) -> list[Refusal]:
    """Settings the program does not set: importing would clear them on the first pulumi up."""
    s = live.settings
    web, api, info = s.get("web") or {}, s.get("api") or {}, s.get("info") or {}
    implicit = web.get("implicitGrantSettings") or {}
    claims = s.get("optionalClaims") or {}
    scopes = [x.get("value") for x in api.get("oauth2PermissionScopes") or ()]
    authorized = api.get("preAuthorizedApplications") or []
    known = api.get("knownClientApplications") or []
    roles = [r.get("value") or r.get("displayName") for r in s.get("appRoles") or ()]
    found: list[tuple[Any, str, str]] = [
        (s.get("identifierUris"), "Application ID URI {}", "Expose an API"),
        (scopes, f"exposed API {word(len(scopes), 'scope')} {{}}", "Expose an API"),
        (authorized, word(len(authorized), "pre-authorized client application"), "Expose an API"),
        (known, f"{word(len(known), 'known client application')} {{}}", "Manifest"),
        (api.get("acceptMappedClaims"), "mapped claims accepted", "Manifest"),
        (roles, f"{word(len(roles), 'app role')} {{}}", "App roles"),
        (implicit.get("enableAccessTokenIssuance"), "implicit grant of access tokens", "Authentication"),
        (implicit.get("enableIdTokenIssuance"), "implicit grant of ID tokens", "Authentication"),
        (web.get("homePageUrl"), "home page URL {}", "Branding & properties"),
        (web.get("logoutUrl"), "front-channel logout URL {}", "Authentication"),
        (_group_claims(s.get("groupMembershipClaims")), "group claims ({})", "Token configuration"),
        ([k for k, v in claims.items() if v], "optional claims in {}", "Token configuration"),
        ([f"{k} {info[k]}" for k in INFO_URLS if info.get(k)], "{}", "Branding & properties"),
        (s.get("notes"), "internal notes", "Branding & properties"),
        (s.get("description"), "a description", "Branding & properties"),
        (s.get("serviceManagementReference"), "service management reference {}", "Branding & properties"),
    ]
    out = [
        Refusal(
            what.format(_listing(value)),
            f"pulumi up would clear {_it(value)}; remove {_it(value)} in the portal ({page}), {KEEP_OUT}",
        )
        for value, what, page in found
        if value
    ]
    sp = live.service_principal or {}
    if sp.get("accountEnabled") is False:
        out.append(
            Refusal(
                "the enterprise application is disabled for sign-in",
                f"pulumi up would enable it; enable it first, {KEEP_OUT}",
            )
        )
    if sp.get("appRoleAssignmentRequired"):
        out.append(
            Refusal(
                "the enterprise application requires user assignment",
                f"pulumi up would turn that off; set Assignment required to No (Enterprise applications > "
                f"Properties), {KEEP_OUT}",
            )
        )
    return out


def _group_claims(value: Any) -> str | None:
    return value if value and str(value).lower() != "none" else None


def _it(value: Any) -> str:
    """`it` for one setting, `them` for a list of several."""
    return word(len(value) if isinstance(value, (list, tuple)) else 1, "it", "them")


def _listing(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _platforms(reg: Registration) -> list[Refusal]:
    pages = {"spa": "Single-page application", "publicClient": "Mobile and desktop applications"}
    out = [
        Refusal(
            f"{platform} {word(len(uris), 'redirect URI')} {', '.join(uris)}",
            f"the stack registers Web redirect URIs only; remove {word(len(uris), 'it', 'them')} in the portal "
            "(Authentication > "
            f"{pages.get(platform, platform)}) if the mail product does not use them, {KEEP_OUT}",
        )
        for platform, uris in sorted(reg.other_redirect_uris.items())
    ]
    if not reg.web_redirect_uris:
        out.append(
            Refusal(
                "no Web redirect URI",
                "add the mail product's OAuth callback URL in the portal (Authentication > Web), then adopt again",
            )
        )
    return out


def _unknown_permissions(reg: Registration, catalogue: Catalogue, names: Names) -> list[Refusal]:
    known = catalogue.by_id
    out = []
    for perm in sorted(reg.permissions, key=names.permission):
        if perm[2] != "Scope":
            out.append(
                Refusal(
                    f"application permission {names.permission(perm)}",
                    "the stack registers delegated permissions only; remove it in the portal (API permissions) "
                    f"if the mail product signs in as a user, {KEEP_OUT}",
                )
            )
        elif perm[:2] not in known:
            out.append(
                Refusal(
                    f"{names.permission(perm)} is not in scopes/catalogue.yaml",
                    "add it there (id, consent flag, source) if the mail product needs it, or remove it in the "
                    "portal (API permissions); then adopt again",
                )
            )
    return out


def _secrets(secrets: tuple[Secret, ...], today: date) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """Slots for the portal's secrets, oldest first; the stack holds at most two, each still valid."""
    delete = "delete it in the portal (Certificates & secrets) once nothing uses it, then adopt again"
    if not secrets:
        return [], [Refusal("no client secret", "add one in the portal (Certificates & secrets), then adopt again")]
    refusals = [
        Refusal(
            f"secret {_secret_name(s)} {'has no expiry' if s.end is None else f'expired on {s.end.date()}'}", delete
        )
        for s in secrets
        if s.end is None or s.end.date() <= today
    ]
    if len(secrets) > 2:
        listed = ", ".join(_secret_name(s) for s in secrets)
        refusals.append(Refusal(f"{len(secrets)} client secrets ({listed})", "a stack tracks at most two; " + delete))
    if refusals:
        return [], refusals
    ordered = sorted(secrets, key=lambda s: (s.end, s.key_id))
    slots: list[dict[str, Any]] = [
        {"description": s.display_name or "portal secret", "expires": s.end.date(), "keyId": s.key_id}
        for s in ordered
        if s.end
    ]
    if len(slots) == 2 and slots[0]["expires"] == slots[1]["expires"]:  # default names would clash
        for slot in slots:
            slot["name"] = f"secret-{slot['expires'].isoformat()}-{slot['keyId'][:4]}"
    return slots, []


def _secret_name(secret: Secret) -> str:
    return f"'{secret.display_name}' (keyId {secret.key_id})"


# --- the entry ------------------------------------------------------------------------------------------


def _present(reg: Registration, catalogue: Catalogue) -> list[str]:
    """The registration's delegated permissions by catalogue name, in catalogue order."""
    ids = catalogue.by_id
    have = {ids[(rid, pid)].value for rid, pid, kind in reg.permissions if kind == "Scope" and (rid, pid) in ids}
    return [name for name in catalogue.scopes if name in have]


def scope_sets(present: list[str], catalogue: Catalogue) -> tuple[list[str], list[str]]:
    """The scope sets wholly present (none that another chosen set includes) and the scopes left over."""
    have = set(present)
    whole = {n: set(catalogue.expand(n)) for n in sorted(catalogue.sets) if n != ALWAYS_SET}
    whole = {n: scopes for n, scopes in whole.items() if scopes <= have}
    chosen = [
        n
        for n, scopes in whole.items()
        if not any(o != n and (scopes < s or (scopes == s and o < n)) for o, s in whole.items())
    ]
    covered = set(catalogue.expand(ALWAYS_SET)).union(*(whole[n] for n in chosen))
    return chosen, [name for name in present if name not in covered]


def _tenant_order(live: LiveApp, catalogue: Catalogue) -> list[str]:
    """The delegated permissions by catalogue name in the registration's own order (requiredResourceAccess)."""
    ids = catalogue.by_id
    return [
        ids[(str(rra.get("resourceAppId")).lower(), str(access.get("id")).lower())].value
        for rra in live.settings.get("requiredResourceAccess") or ()
        for access in rra.get("resourceAccess") or ()
        if access.get("type") == "Scope"
        and (str(rra.get("resourceAppId")).lower(), str(access.get("id")).lower()) in ids
    ]


def _consent(
    live: LiveApp, wanted: list[str], catalogue: Catalogue, names: Names, adoption: Adoption
) -> tuple[bool, list[dict[str, str]]]:
    """adminConsent, and the tenant-wide grants to import (resource key -> grant)."""
    users = [g for g in live.grants if not g.tenant_wide]
    if users:
        adoption.notes.append(
            f"{count(len(users), 'user consent grant')} {'is' if len(users) == 1 else 'are'} left alone: the users "
            "who consented keep their consent"
        )
    admin = [g for g in live.grants if g.tenant_wide]
    if not admin:
        return False, []
    want: dict[str, list[str]] = {}
    for name in wanted:
        want.setdefault(catalogue.scopes[name].resource_app_id.lower(), []).append(name)
    grants = []
    for app_id, scopes in sorted(want.items()):
        grant = next((g for g in admin if names.resource_app_id(g) == app_id), None)
        resource = names.resource(app_id)
        if grant is None:
            adoption.changes.append(
                f"grant tenant-wide admin consent for {resource} ({' '.join(sorted(scopes))}): adminConsent: true "
                "covers every API the app requests"
            )
            continue
        grants.append(
            {"resource": catalogue.scopes[scopes[0]].resource_key, "id": f"/oauth2PermissionGrants/{grant.id}"}
        )
        added, removed = sorted(set(scopes) - set(grant.scopes)), sorted(set(grant.scopes) - set(scopes))
        if added or removed:
            parts = ([f"adds {' '.join(added)}"] if added else []) + (
                [f"removes {' '.join(removed)}"] if removed else []
            )
            adoption.changes.append(
                f"set the admin consent for {resource} to exactly the requested scopes ({'; '.join(parts)})"
            )
    for grant in admin:
        if names.resource_app_id(grant) not in want:
            adoption.notes.append(
                f"admin consent for {names.resource(names.resource_app_id(grant))} "
                f"({' '.join(grant.scopes)}) covers nothing the app requests: left alone; revoke it in the portal "
                "(Enterprise applications > Permissions)"
            )
    return True, grants


def _make_owners(names: list[str]) -> str:
    return f"make {', '.join(names)} {word(len(names), 'an owner', 'owners')}"


def _owners(live: LiveApp, request: Request, adoption: Adoption) -> list[str]:
    """The registration's and the service principal's owners: the program gives both the same list."""
    app, sp = set(live.owners), set(live.service_principal_owners)
    owners = list(dict.fromkeys(o.lower() for o in (*live.owners, *live.service_principal_owners)))
    if live.service_principal is not None:
        for who, have in (("service principal", sp), ("app registration", app)):
            missing = [o for o in owners if o not in have]
            if missing:
                adoption.changes.append(
                    f"{_make_owners(missing)} of the {who} too: the stack gives the app registration "
                    "and its service principal the same owners"
                )
    else:
        adoption.changes.append("create the service principal (enterprise application): the registration has none")

    def lacks(who: str) -> bool:
        return who not in app or (live.service_principal is not None and who not in sp)

    listed = [d for d in request.deployers if lacks(d)]
    if listed:
        adoption.changes.append(f"{_make_owners(listed)} of both (mailoauth:deployers owns every app of the stack)")
    deployer = request.deployer
    if not request.deployers and deployer and lacks(deployer):
        adoption.changes.append(
            f"make the deploying principal an owner (the program always does): {deployer}, signed in for this "
            "adoption, does not own both the app registration and its service principal"
        )
    return owners


def _entry(
    reg: Registration,
    audience: str,
    sets: list[str],
    extra: list[str],
    slots: list[dict[str, Any]],
    consent: bool,
    owners: list[str],
    request: Request,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "displayName": reg.display_name,
        "audience": audience,
        "redirectUris": list(reg.web_redirect_uris),
    }
    if sets:
        entry["scopeSets"] = sets
    if extra:
        entry["scopes"] = extra
    if len(slots) == 1:
        entry["secret"] = slots[0]
    else:
        entry["secrets"] = slots
    if consent:
        entry["adminConsent"] = True
    if request.allow_wide_audience:
        entry["allowWideAudience"] = True
    if owners:
        entry["owners"] = owners
    entry["clientId"] = reg.client_id
    return entry


def _import_ids(live: LiveApp, grants: list[dict[str, str]]) -> dict[str, Any]:
    ids: dict[str, Any] = {"application": f"/applications/{live.registration.object_id}"}
    if live.service_principal is not None:
        ids["servicePrincipal"] = f"/servicePrincipals/{str(live.service_principal['id']).lower()}"
    if grants:
        ids["consentGrants"] = grants
    return ids


def _describe(
    adoption: Adoption, live: LiveApp, extra: list[str], slots: list[dict[str, Any]], request: Request
) -> None:
    if PORTAL_DEFAULT in extra:
        adoption.notes.append(
            f"{PORTAL_DEFAULT} stays as scopes: [{PORTAL_DEFAULT}] (the portal adds it to every new registration); "
            "if the mail product does not read the signed-in user's profile, drop it from scopes: and pulumi up "
            "removes it"
        )
    certificates = len(live.settings.get("keyCredentials") or ())
    if certificates:
        adoption.notes.append(
            f"{count(certificates, 'certificate')} {'is' if certificates == 1 else 'are'} left alone: pulumi up "
            "neither manages nor removes them"
        )
    newest = max(slot["expires"] for slot in slots)
    adoption.notes.append(
        f"{count(len(slots), 'secret')} recorded by keyId: pulumi up neither creates nor deletes them and exports "
        f"no value for them; the mail product keeps its secret until {newest.isoformat()}, or rotate now: "
        f"mailoauth secrets rotate --stack {request.stack} --app {request.key}"
    )
