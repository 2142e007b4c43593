"""`preflight`: what a tenant must offer before the first `pulumi up`, as checks with a fix each.

Pure: evaluates facts read from the tenant (`TenantFacts`) against the stack. A fact that could not
be read (for example, a permission the signed-in identity lacks) fails its check and names the fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from mailoauth.desired import entra
from mailoauth.desired.exchange import exchange_online
from mailoauth.desired.model import Stack
from mailoauth.graph.auth import Principal
from mailoauth.graph.errors import GraphError, grant_hint
from mailoauth.graph.records import Registration

# Directory roles (their template ids are in desired/entra.yaml) that may register apps, or grant admin consent.
CREATE_APP_ROLES = (
    "globalAdministrator",
    "applicationAdministrator",
    "cloudApplicationAdministrator",
    "applicationDeveloper",
)
CONSENT_ROLES = (
    "globalAdministrator",
    "privilegedRoleAdministrator",
    "applicationAdministrator",
    "cloudApplicationAdministrator",
)
PASS, WARN, FAIL = "pass", "warn", "fail"

Fact = Any  # the JSON Graph returned, or the GraphError that prevented reading it


@dataclass(frozen=True)
class Check:
    check: str
    subject: str
    status: str
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Mailbox:
    user: Fact  # dict, None (no such user) or GraphError
    licences: Fact  # list of licenseDetails, or GraphError


@dataclass
class TenantFacts:
    principal: Principal
    skus: Fact
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    namesakes: dict[str, Fact] = field(default_factory=dict)  # app key -> [Registration] or GraphError
    authorization_policy: Fact = None  # read for user sign-ins only
    directory_roles: Fact = None  # read for user sign-ins only


def unreadable(check: str, subject: str, error: GraphError) -> Check:
    """A check whose facts could not be read fails, naming the permission to grant when Graph refused."""
    if error.needs:
        return Check(
            check,
            subject,
            FAIL,
            f"cannot check: the signed-in identity lacks {error.needs}",
            grant_hint(error.needs, None),
        )
    return Check(check, subject, FAIL, f"cannot check: {error}", "")


def checks(stack: Stack, facts: TenantFacts, today: date) -> list[Check]:
    out = [sign_in(stack, facts.principal), exchange_plan(facts.skus)]
    out += [mailbox(upn, facts.mailboxes[upn], users_of(stack, upn)) for upn in facts.mailboxes]
    out.append(create_apps(facts))
    if any(app.admin_consent for app in stack.apps.values()):
        out.append(admin_consent(facts))
    out += [display_name(stack.apps[key].display_name, key, found) for key, found in facts.namesakes.items()]
    out += protocol_checks(stack, today)
    return out


def users_of(stack: Stack, upn: str) -> list[str]:
    return [key for key, app in stack.apps.items() if upn in app.mailboxes]


def sign_in(stack: Stack, principal: Principal) -> Check:
    who = f"user {principal.object_id}" if principal.kind == "user" else f"application {principal.app_id}"
    return Check(
        "sign-in", stack.tenant_id, PASS, f"{who} via {principal.credential} credentials, in the stack's tenant"
    )


def _plans(service_plans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(plan name, provisioning status) of the Exchange Online plans in a SKU or licence."""
    known = exchange_online().service_plans
    return [
        (known[str(p.get("servicePlanId")).lower()], str(p.get("provisioningStatus")))
        for p in service_plans or ()
        if str(p.get("servicePlanId")).lower() in known
    ]


def exchange_plan(skus: Fact) -> Check:
    if isinstance(skus, GraphError):
        return unreadable("exchange-plan", "tenant", skus)
    enabled: list[str] = []
    other: list[str] = []
    for sku in skus:
        for plan, status in _plans(sku.get("servicePlans")):
            entry = f"{plan} in {sku.get('skuPartNumber')} ({sku.get('capabilityStatus')}, plan {status})"
            good = sku.get("capabilityStatus") == "Enabled" and status == "Success"
            (enabled if good else other).append(entry)
    if enabled:
        return Check("exchange-plan", "tenant", PASS, "; ".join(enabled))
    fix = "buy or reactivate a subscription with Exchange Online; without one, mail OAuth fails with obscure errors"
    if other:
        return Check("exchange-plan", "tenant", WARN, "no enabled Exchange Online plan: " + "; ".join(other), fix)
    return Check("exchange-plan", "tenant", FAIL, "no subscription in the tenant includes Exchange Online", fix)


def mailbox(upn: str, facts: Mailbox, apps: list[str]) -> Check:
    subject = f"{upn} ({', '.join(apps)})"
    if isinstance(facts.user, GraphError):
        return unreadable("mailbox", subject, facts.user)
    if facts.user is None:
        return Check(
            "mailbox",
            subject,
            FAIL,
            "no such user in the tenant",
            "correct the address under mailboxes:, or create the mailbox first",
        )
    if isinstance(facts.licences, GraphError):
        return unreadable("mailbox", subject, facts.licences)
    plans = [
        (plan, status, lic.get("skuPartNumber"))
        for lic in facts.licences
        for plan, status in _plans(lic.get("servicePlans"))
    ]
    working = [f"{plan} via {sku}" for plan, status, sku in plans if status == "Success"]
    if working:
        return Check("mailbox", subject, PASS, "has an Exchange Online licence: " + ", ".join(working))
    if plans:
        states = ", ".join(f"{plan} via {sku} is {status}" for plan, status, sku in plans)
        return Check(
            "mailbox",
            subject,
            FAIL,
            f"Exchange Online is not active: {states}",
            "enable the Exchange Online service plan in the user's licence",
        )
    if facts.user.get("accountEnabled") is False:
        return Check(
            "mailbox",
            subject,
            WARN,
            "no Exchange Online licence and sign-in is blocked: a shared mailbox?",
            "shared mailboxes need no licence, but users sign in as a licensed user with access to it",
        )
    return Check(
        "mailbox",
        subject,
        FAIL,
        "no Exchange Online licence",
        "assign a licence that includes Exchange Online; mail OAuth fails without a mailbox",
    )


@dataclass(frozen=True)
class Right:
    """A right the deployer needs: any of `permissions` for an application, any of `roles` for a user."""

    check: str
    permissions: tuple[str, ...]
    roles: tuple[str, ...]  # keys of roleTemplates in entra.yaml
    app_lacks: str
    user_has: str


CREATE_APPS = Right(
    "create-apps",
    ("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"),
    CREATE_APP_ROLES,
    "the application holds neither Application.ReadWrite.OwnedBy nor Application.ReadWrite.All",
    "the user holds a directory role that registers applications",
)
ADMIN_CONSENT = Right(
    "admin-consent",
    ("DelegatedPermissionGrant.ReadWrite.All",),
    CONSENT_ROLES,
    "adminConsent: true needs DelegatedPermissionGrant.ReadWrite.All, which the application lacks",
    "the user holds a directory role that grants admin consent",
)


def holds(facts: TenantFacts, right: Right) -> Check | None:
    """The verdict from the token's roles or the user's directory roles; None: a user without such a role."""
    p = facts.principal
    if p.kind == "application":
        held = [perm for perm in right.permissions if perm in p.roles]
        if held:
            return Check(right.check, "deployer", PASS, f"the application holds {held[0]}")
        return Check(right.check, "deployer", FAIL, right.app_lacks, grant_hint(right.permissions[0], "application"))
    if isinstance(facts.directory_roles, GraphError):
        return unreadable(right.check, "deployer", facts.directory_roles)
    roles = {str(r.get("roleTemplateId")).lower() for r in facts.directory_roles or ()}
    wanted = {entra.role_template(name) for name in right.roles}
    return Check(right.check, "deployer", PASS, right.user_has) if roles & wanted else None


def create_apps(facts: TenantFacts) -> Check:
    found = holds(facts, CREATE_APPS)
    if found:
        return found
    policy = facts.authorization_policy
    if isinstance(policy, GraphError):
        return unreadable("create-apps", "deployer", policy)
    if ((policy or {}).get("defaultUserRolePermissions") or {}).get("allowedToCreateApps"):
        return Check("create-apps", "deployer", PASS, "users may register applications in this tenant")
    return Check(
        "create-apps",
        "deployer",
        FAIL,
        "users may not register applications and the user has no role that may",
        "ask for the Application Developer role, or deploy with a service principal",
    )


def admin_consent(facts: TenantFacts) -> Check:
    return holds(facts, ADMIN_CONSENT) or Check(
        "admin-consent",
        "deployer",
        FAIL,
        "adminConsent: true needs a Global, Privileged Role, Application or Cloud Application Administrator",
        "deploy as such an administrator, or set adminConsent: false and let each mailbox owner consent",
    )


def display_name(name: str, key: str, found: Fact) -> Check:
    if isinstance(found, GraphError):
        return unreadable("display-name", key, found)
    regs: list[Registration] = found
    if not regs:
        return Check("display-name", key, PASS, f"no registration is named '{name}' yet")
    ids = ", ".join(r.client_id for r in regs)
    return Check(
        "display-name",
        key,
        WARN,
        f"'{name}' is already registered (client id {ids}); pulumi up would create another app of that name",
        "set clientId: to manage the existing registration, or rename",
    )


def protocol_checks(stack: Stack, today: date) -> list[Check]:
    """Tenant settings Graph cannot read that break mail OAuth: EWS retirement, SMTP AUTH."""
    out = []
    for key, app in stack.apps.items():
        if "ews" in app.protocols:
            out.append(ews(key, today))
        if "smtp" in app.protocols:
            out.append(
                Check(
                    "smtp-auth",
                    key,
                    WARN,
                    "SMTP AUTH is off in tenants created after January 2020 and "
                    "can be off per mailbox (error 535 5.7.139); Graph cannot read the setting. "
                    f"{smtp_basic_auth_note()}",
                    "Exchange Online PowerShell: Set-CASMailbox <mailbox> -SmtpClientAuthenticationDisabled "
                    "$false (or Set-TransportConfig for the organisation)",
                )
            )
    return out


def smtp_basic_auth_note() -> str:
    """Microsoft's retirement of passwords on SMTP AUTH, which leaves XOAUTH2 alone."""
    facts = exchange_online()
    return (
        f"Basic authentication for SMTP AUTH is off by default from {facts.smtp_basic_auth_off} "
        f"({facts.smtp_basic_auth_notice}): OAuth (XOAUTH2) is unaffected, clients still sending a password fail"
    )


def ews(key: str, today: date) -> Check:
    fix = "send MIME through Graph sendMail (scopeSets: [graph-send], Mail.Send alone) instead of EWS"
    blocked, shutdown = exchange_online().ews_blocked.isoformat(), exchange_online().ews_shutdown.isoformat()
    if today >= exchange_online().ews_shutdown:
        return Check("ews", key, FAIL, f"EWS in Exchange Online was shut down on {shutdown}", fix)
    if today >= exchange_online().ews_blocked:
        return Check(
            "ews",
            key,
            WARN,
            f"EWS is blocked since {blocked} unless the tenant allow-lists this app, and shuts down on {shutdown}",
            f"{fix}, or allow-list the app in Exchange Online",
        )
    return Check(
        "ews",
        key,
        WARN,
        f"EWS is blocked from {blocked} unless the tenant allow-lists the app, and shuts down on {shutdown}",
        fix,
    )


def preflight_document(stack: Stack, results: list[Check]) -> dict[str, Any]:
    counts = {s: sum(1 for c in results if c.status == s) for s in (PASS, WARN, FAIL)}
    return {
        "stack": stack.name,
        "tenantId": stack.tenant_id,
        "cloud": stack.cloud.name,
        "ok": counts[FAIL] == 0,
        "counts": counts,
        "checks": [c.as_json() for c in results],
    }


def _summary(doc: dict[str, Any]) -> str:
    c = doc["counts"]
    return (
        f"preflight of stack {doc['stack']} (tenant {doc['tenantId']}, {doc['cloud']}): {c[PASS]} pass, "
        f"{c[WARN]} warn, {c[FAIL]} fail"
    )


def render_text(doc: dict[str, Any], colour: bool = False) -> str:
    """The checks as a table; with `colour` (a terminal), pass, warn and fail in green, yellow and red."""
    from mailoauth.base.tables import text_table

    rows = [(c["status"], c["check"], c["subject"], c["detail"], c["fix"]) for c in doc["checks"]]
    table = text_table(("status", "check", "subject", "detail", "fix"), rows, colour=colour)
    return "\n".join([_summary(doc), "", *table]) + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    from mailoauth.base.tables import markdown_table

    icons = {PASS: ":white_check_mark: pass", WARN: ":warning: warn", FAIL: ":x: fail"}
    rows = [(icons[c["status"]], f"`{c['check']}`", c["subject"], c["detail"], c["fix"]) for c in doc["checks"]]
    return (
        "\n".join([f"**{_summary(doc)}**", "", *markdown_table(("status", "check", "subject", "detail", "fix"), rows)])
        + "\n"
    )
