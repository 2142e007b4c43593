"""A stack's parsed config assembled into the desired-state model, with every check of the stack and its apps.

One function, `build_stack`, turns a stack's config into a `Stack` or raises `InvalidInput` with
every problem at once, core checks and guardrails (`mailoauth.guardrails.rules`) alike. `mailoauth plan` feeds
it the parsed file (through `loader`); the Pulumi program feeds it the same keys read through `pulumi.Config`,
so both fail with the same messages. An app's permissions come from `expansion`, its redirect URIs are checked
by `redirects`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from mailoauth.base.keyspec import check_fields
from mailoauth.base.problems import KeyPath, Problems, did_you_mean, quoted, raise_if_errors
from mailoauth.desired import entra
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.clouds import Cloud, clouds
from mailoauth.desired.exchange import exchange_online
from mailoauth.desired.model import (
    APP_FIELDS,
    CONFIG_KEYS,
    GUID_PATTERN,
    PERSONAL_AUDIENCES,
    App,
    Imports,
    Permission,
    SecretSlot,
    Stack,
)
from mailoauth.desired.products import Derived, derive
from mailoauth.guardrails import rules
from mailoauth.project import files
from mailoauth.project.context import ProjectContext
from mailoauth.project.expansion import Expansion, app_permissions
from mailoauth.project.redirects import check_redirect_uris

PULUMI_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


def build_stack(name: str, doc: Any, file: str, project: ProjectContext) -> Stack:
    """Validate a stack document ({'config': {...}}) and build its desired state."""
    found = Problems(file)
    ctx = rules.Context(project.catalogue, project.today, name, project.guard or rules.Guard())
    check_expiry = project.check_expiry
    config = _config(found, doc)
    values = check_fields(found, ("config",), config, CONFIG_KEYS, unknown_ok=_foreign_key, own=[files.APPS[1]])
    tenant = values.get("azuread:tenantId")
    cloud = clouds().get(values.get("azuread:environment") or "global")
    apps: dict[str, App] = {}
    raw_apps = config.get("mailoauth:apps")
    if "mailoauth:apps" in config and (not isinstance(raw_apps, dict) or not raw_apps):
        found.error(
            files.APPS,
            "expected a mapping of app keys to app settings",
            raw_apps,
            hint="see stacks/Pulumi.dev.yaml for an example",
        )
    elif isinstance(raw_apps, dict):
        apps = _apps(found, raw_apps, ctx, cloud, check_expiry)
    deployers = _object_ids(found, ("config", "mailoauth:deployers"), values.get("mailoauth:deployers"))
    if "mailoauth:deployers" in config and not deployers:
        found.error(
            ("config", "mailoauth:deployers"),
            "no deployer listed: nobody would own the apps",
            config["mailoauth:deployers"],
            hint="list the object ids of CI's service principal and the admins who run pulumi up, or remove the key",
        )
    raise_if_errors(found.items)
    assert tenant is not None and cloud is not None  # guaranteed by the checks above
    return Stack(name, file, tenant.lower(), cloud, apps, tuple(found.warnings), deployers)


def _object_ids(found: Problems, path: KeyPath, ids: list[str] | None) -> tuple[str, ...]:
    """Directory object ids, lower case; the azuread provider refuses owners that are not UUIDs."""
    for i, value in enumerate(ids or ()):
        if not re.fullmatch(GUID_PATTERN, value):
            found.error((*path, i), "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), an object id", value)
    return tuple(dict.fromkeys(v.lower() for v in ids or ()))


def _config(found: Problems, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        found.error(("config",), "a stack file needs a top-level 'config:' mapping", hint="see stacks/Pulumi.dev.yaml")
        return {}
    for key in doc:
        if key not in PULUMI_FILE_KEYS:
            found.error((key,), "unknown top-level key", hint=did_you_mean(key, PULUMI_FILE_KEYS))
    return doc["config"]


def _foreign_key(key: str) -> bool:
    """Config keys of other namespaces (the provider's clientId, useOidc, ...) are not ours to judge."""
    return not key.startswith("mailoauth:")


def _apps(
    found: Problems, raw: dict[str, Any], ctx: rules.Context, cloud: Cloud | None, check_expiry: bool
) -> dict[str, App]:
    apps = {}
    app_key = next(k for k in CONFIG_KEYS if k.name == "mailoauth:apps")
    for key, settings in raw.items():
        path = (*files.APPS, key)
        if not re.fullmatch(app_key.pattern or "", str(key)):  # the YAML loader refuses keys that are not text
            found.error(
                path,
                "app key must be lowercase letters, digits and '-', at most 63 characters "
                "(it names the Pulumi resources)",
                key,
            )
            continue
        before = len(found.errors)
        app = _app(found, path, str(key), app_values(found, path, settings, ctx.catalogue), ctx, cloud, check_expiry)
        if app is not None and len(found.errors) == before:
            apps[str(key)] = app
    return apps


def app_values(found: Problems, path: KeyPath, settings: Any, catalogue: Catalogue) -> Derived:
    """An app's checked values, with what its product and use cases derive filled in (explicit keys win)."""
    values = check_fields(found, path, settings, APP_FIELDS)
    given = settings if isinstance(settings, dict) else {}
    return derive(found, path, given, values, catalogue.products)


def _app(
    found: Problems,
    path: KeyPath,
    key: str,
    derived: Derived,
    ctx: rules.Context,
    cloud: Cloud | None,
    check_expiry: bool,
) -> App | None:
    v = derived.values
    start = len(found.items)
    audience = v.get("audience")
    personal = audience in PERSONAL_AUDIENCES
    expansion = app_permissions(found, path, v, ctx.catalogue)
    permissions = expansion.permissions
    secrets = _secrets(found, path, v, ctx if check_expiry else None)
    _check_display_name(found, path, v.get("displayName"), personal)
    check_redirect_uris(found, path, v.get("redirectUris"), personal)
    _check_audience(found, path, v, cloud, permissions)
    _check_permission_limits(found, path, expansion, personal)
    _check_runtime(found, path, v, expansion)
    imports = _imports(found, path, v, permissions)
    rules.check_app(found, path, v, permissions, secrets if check_expiry else None, ctx)  # None: no lifetime rules
    _point_at_sources(found, path, start, derived.origins)
    if None in (audience, v.get("displayName"), v.get("redirectUris")) or secrets is None:
        return None
    return App(
        key=key,
        display_name=v["displayName"],
        audience=v["audience"],
        redirect_uris=tuple(v["redirectUris"]),
        scope_sets=expansion.sets,
        extra_scopes=tuple(v.get("scopes") or ()),
        permissions=expansion.ordered,
        secrets=secrets,
        admin_consent=bool(v.get("adminConsent")),
        allow_wide_audience=bool(v.get("allowWideAudience")),
        allow_public_client_flows=bool(v.get("allowPublicClientFlows")),
        owners=_object_ids(found, (*path, "owners"), v.get("owners")),
        mailboxes=tuple(v.get("mailboxes") or ()),
        client_id=(v.get("clientId") or "").lower() or None,
        imports=imports,
        omitted_scopes=tuple(v.get("omitScopes") or ()),
        product=v.get("product"),
        use_cases=tuple(v.get("useCases") or ()),
        origins=tuple(derived.origins.items()),
    )


# A derived key is not in the file: its problems point at the key it was derived from.
DERIVED_FROM = {"scopeSets": "useCases", "scopes": "useCases", "redirectUris": "instanceUrl"}


def _point_at_sources(found: Problems, path: KeyPath, start: int, origins: Mapping[str, str]) -> None:
    for i, problem in enumerate(found.items[start:], start):
        key = problem.path[len(path) : len(path) + 1]
        if key and key[0] in origins:
            found.items[i] = replace(problem, path=(*path, DERIVED_FROM[str(key[0])]))


def _imports(found: Problems, path: KeyPath, v: dict[str, Any], permissions: Sequence[Permission]) -> Imports | None:
    """The `import:` ids; a consent grant is imported only where the program registers one."""
    given = v.get("import")
    if not given or not given.get("application"):
        return None
    requested = sorted({p.resource_key for p in permissions})
    grants: dict[str, str] = {}
    for i, grant in enumerate(given.get("consentGrants") or ()):
        where = (*path, "import", "consentGrants", i, "resource")
        resource = grant.get("resource")
        if not v.get("adminConsent"):
            found.error(where, "a consent grant is imported only with adminConsent: true", resource)
        elif resource not in requested:
            hint = f"resources it requests: {', '.join(requested)}"
            found.error(where, f"the app requests no permission from {quoted(resource)}", resource, hint=hint)
        elif resource in grants:
            found.error(
                where, f"a second grant for {quoted(resource)}", resource, hint="one tenant-wide grant per resource"
            )
        if resource and grant.get("id"):
            grants[resource] = grant["id"]
    sp = given.get("servicePrincipal")
    order = given.get("permissionOrder") or []
    names = {p.value for p in permissions}
    for i, name in enumerate(order):
        if name not in names:
            found.error((*path, "import", "permissionOrder", i), "the app does not request this permission", name)
    return Imports(given["application"], _lower_guid(sp) if sp else None, tuple(sorted(grants.items())), tuple(order))


def _lower_guid(import_id: str) -> str:
    """`/servicePrincipals/<GUID>` with the GUID lower-cased; the provider's id parser is case-sensitive on the
    collection segment, so the whole id must not be lower-cased."""
    collection, _, guid = import_id.rpartition("/")
    return f"{collection}/{guid.lower()}"


def _secrets(
    found: Problems, path: KeyPath, v: dict[str, Any], ctx: rules.Context | None
) -> tuple[SecretSlot, ...] | None:
    """The app's secret slots; expired ones are reported against `ctx.today` unless `ctx` is None."""
    single, many = v.get("secret"), v.get("secrets")
    if (single is None) == (many is None):
        found.error(
            path,
            "give exactly one of 'secret:' (one slot) or 'secrets:' (up to two slots)",
            hint="secret: {description: ..., expires: YYYY-MM-DD}",
        )
        return None
    slots = (
        [(("secret",), single, "secret")]
        if single is not None
        else [(("secrets", i), s, f"secret-{s.get('expires')}") for i, s in enumerate(many or ())]
    )
    if many is not None and len(many) > 2:
        found.error(
            (*path, "secrets"),
            f"at most two secret slots (got {len(many)})",
            len(many),
            hint="remove the oldest slot once the downstream app uses the newest",
        )
    out = []
    for sub, s, default_name in slots:
        if s.get("expires") is None or s.get("description") is None:
            continue
        if ctx is not None:
            _check_expiry(found, (*path, *sub, "expires"), s["expires"], ctx)
        out.append(SecretSlot(s.get("name") or default_name, s["description"], s["expires"], s.get("keyId")))
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        found.error(
            (*path, "secrets"),
            "two secret slots have the same name",
            names,
            hint="give each slot a distinct 'name' or expiry",
        )
    return tuple(out) if len(out) == len(slots) else None


def _check_expiry(found: Problems, path: KeyPath, expires: date, ctx: rules.Context) -> None:
    """An expired slot is a finding, not invalid input: it blocks nothing unrelated (`pulumi up` leaves an
    existing slot alone), and `mailoauth diff` refuses a slot that a change adds or edits already expired.
    How far ahead a slot may expire is the secret lifetime rules' business."""
    if expires <= ctx.today:
        found.warn(
            path,
            f"secret slot expired on {expires.isoformat()} (today is {ctx.today.isoformat()}); nothing can sign in "
            "with it",
            expires.isoformat(),
            hint=f"run `mailoauth secrets rotate --stack {ctx.stack} --app {path[2]}` (it drops expired slots and "
            "adds a new one), then switch the mail handler to the new slot",
        )


def _check_display_name(found: Problems, path: KeyPath, name: str | None, personal: bool) -> None:
    limits = entra.limits()
    limit = limits.of(limits.display_name_length, personal)
    if name and len(name) > limit:
        found.error(
            (*path, "displayName"),
            f"display name is {len(name)} characters; Entra allows {limit}"
            + (" for apps that allow personal accounts" if personal else ""),
            name,
        )


def _check_audience(
    found: Problems, path: KeyPath, v: dict[str, Any], cloud: Cloud | None, permissions: Sequence[Permission]
) -> None:
    audience = v.get("audience")
    personal = audience in PERSONAL_AUDIENCES
    if personal and cloud is not None and not cloud.personal_accounts:
        found.error(
            (*path, "audience"),
            f"personal Microsoft accounts are not supported in {cloud.title}",
            audience,
            hint="use single-tenant or multi-tenant",
        )
    if audience == "personal" and v.get("adminConsent"):
        found.error(
            (*path, "adminConsent"),
            "admin consent does not apply to personal-account-only apps",
            True,
            hint="remove adminConsent or choose a work/school audience",
        )
    legacy = [p.value for p in permissions if p.protocol in ("imap", "pop", "smtp")] if personal else []
    if legacy:
        found.warn(
            (*path, "audience"),
            f"personal accounts with {', '.join(legacy)}: Outlook.com support for "
            "OAuth IMAP/POP/SMTP has changed over time; test with a personal mailbox before relying on it",
            audience,
            rule="personal-legacy-protocols",
        )


def _check_runtime(found: Problems, path: KeyPath, v: dict[str, Any], expansion: Expansion) -> None:
    """Warnings for registrations that validate but fail once a mailbox signs in."""
    audiences = expansion.audiences
    if len(audiences) > 1 and not v.get("adminConsent") and v.get("audience") != "personal":
        found.warn(
            (*path, "adminConsent"),
            f"tokens for {len(audiences)} audiences ({', '.join(audiences)}) without admin consent: a user consents "
            f"at sign-in to the first one only, and the token request for the next fails with AADSTS65001",
            False,
            hint="set adminConsent: true, or split the app into one app per audience (mailoauth explain AADSTS65001)",
            rule="consent-per-audience",
        )
    if v.get("product") and any(p.protocol == "smtp" for p in expansion.permissions):
        exo = exchange_online()
        found.warn(
            (*path, "useCases"),
            f"SMTP AUTH is off in tenants created after {exo.smtp_auth_off_since} and can be turned off per mailbox; "
            f"sending then fails with {exo.smtp_auth_refusal}",
            hint="check with mailoauth preflight, and enable it for the mailbox (Set-CASMailbox "
            "-SmtpClientAuthenticationDisabled $false) or send through Graph (mailoauth explain 5.7.139)",
            rule="smtp-auth",
        )


def _check_permission_limits(found: Problems, path: KeyPath, expansion: Expansion, personal: bool) -> None:
    limits = entra.limits()
    total = limits.of(limits.permissions, personal)
    per_api = limits.permissions_per_api_personal
    asked = len(expansion.permissions)
    if asked > total:
        found.error((*path, "scopes"), f"{asked} permissions; Entra allows {total}", asked)
    for resource, count in expansion.per_resource.items() if personal else ():
        if count > per_api:
            found.error(
                (*path, "scopes"),
                f"{count} permissions on {resource}; Entra allows {per_api} per API for apps that allow personal "
                "accounts",
                count,
            )
