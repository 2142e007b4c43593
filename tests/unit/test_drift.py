"""drift: one desired app against one registration, as tables of tenant states and the findings they give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from mailoauth.desired.model import SecretSlot
from mailoauth.graph.records import AppInTenant, Grant, Registration, ResourceApi, Secret
from mailoauth.tenant.drift import Names, app_drift, desired_permissions, secret_drift
from tests.unit.desired import CALLBACK, CATALOGUE, GRAPH, TODAY, app

GRAPH_SP = "aaaaaaaa-0000-0000-0000-000000000001"
NAMES = Names(CATALOGUE, {GRAPH: ResourceApi(GRAPH_SP, GRAPH, "Microsoft Graph")})
SLOT = SecretSlot("secret", "jira", date(2027, 5, 27))
KEY_ID = "bbbbbbbb-0000-0000-0000-000000000002"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


SECRETS = {
    "the slot's secret": ([SLOT], [Secret(KEY_ID, "jira", at("2027-05-27"))], []),
    "no secret": (
        [SLOT],
        [],
        [("secret-missing", "secret slot 'secret' (\"jira\", expires 2027-05-27) has no secret in the tenant")],
    ),
    "another expiry": (
        [SLOT],
        [Secret(KEY_ID, "jira", at("2027-06-30"))],
        [
            (
                "secret-expiry",
                f"secret 'jira' (keyId {KEY_ID}) expires 2027-06-30 in the tenant; slot 'secret' says 2027-05-27",
            )
        ],
    ),
    "one secret too many": (
        [],
        [Secret(KEY_ID, "old", None)],
        [("secret-extra", f"secret 'old' (keyId {KEY_ID}), expiring never, is not in the stack")],
    ),
    "expired": (
        [replace(SLOT, expires=date(2026, 11, 1))],
        [Secret(KEY_ID, "jira", at("2026-11-01"))],
        [("secret-expired", f"secret 'jira' (keyId {KEY_ID}) expired on 2026-11-01")],
    ),
    "expiring within the window": (
        [replace(SLOT, expires=date(2026, 12, 7))],
        [Secret(KEY_ID, "jira", at("2026-12-07"))],
        [("secret-expiring", f"secret 'jira' (keyId {KEY_ID}) expires on 2026-12-07, in 10 days")],
    ),
    "adopted slot matched by keyId, not by description": (
        [SecretSlot("old", "renamed", date(2027, 5, 27), KEY_ID.upper())],
        [Secret(KEY_ID, "jira", at("2027-05-27"))],
        [],
    ),
}


@pytest.mark.parametrize("case", SECRETS)
def test_secret_drift(case: str) -> None:
    slots, secrets, expected = SECRETS[case]
    assert [(f.kind, f.message) for f in secret_drift(slots, secrets, TODAY, within=30)] == expected


def registration(**changes: object) -> Registration:
    """The registration `pulumi up` makes for the unit app."""
    base = Registration(
        "cccccccc-0000-0000-0000-000000000003",
        "dddddddd-0000-0000-0000-000000000004",
        "Jira mail",
        "AzureADMyOrg",
        web_redirect_uris=(CALLBACK,),
        permissions=desired_permissions(app()),
        secrets=(Secret(KEY_ID, "jira", at("2027-05-27")),),
    )
    return replace(base, **changes)


SMTP_SEND = (GRAPH, "258f6531-6087-4cc4-bb90-092c5fb3ed3f", "Scope")
IMAP = (GRAPH, "652390e4-393a-48de-9484-05f9b1212954", "Scope")
REGISTRATIONS = {
    "as deployed": (registration(), []),
    "renamed in the portal": (
        registration(display_name="Jira"),
        [("display-name", "displayName is 'Jira' in the tenant, 'Jira mail' in the stack")],
    ),
    "opened to other tenants": (
        registration(sign_in_audience="AzureADMultipleOrgs"),
        [
            (
                "audience",
                "signInAudience is AzureADMultipleOrgs (multi-tenant) in the tenant; the stack says audience: "
                "single-tenant (AzureADMyOrg)",
            )
        ],
    ),
    "a scope added in the portal": (
        registration(permissions=desired_permissions(app()) | {SMTP_SEND}),
        [
            (
                "permission-extra",
                "SMTP.Send (Microsoft Graph, delegated) is requested in the tenant but not in the stack",
            )
        ],
    ),
    "a scope removed in the portal": (
        registration(permissions=desired_permissions(app()) - {IMAP}),
        [
            (
                "permission-missing",
                "IMAP.AccessAsUser.All (Microsoft Graph, delegated) is in the stack but not requested in the tenant",
            )
        ],
    ),
    "the callback dropped, a SPA URI added": (
        registration(web_redirect_uris=(), other_redirect_uris={"spa": ("https://spa.example.com/",)}),
        [
            ("redirect-uri-missing", f"web redirect URI {CALLBACK} is in the stack but not registered"),
            (
                "redirect-uri-extra",
                "spa redirect URI https://spa.example.com/ is registered; the stack registers web redirect URIs only",
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", REGISTRATIONS)
def test_app_drift(case: str) -> None:
    reg, expected = REGISTRATIONS[case]
    found = AppInTenant("jira", "displayName", [reg], service_principal_id="eeeeeeee-0000-0000-0000-000000000005")
    assert [(f.kind, f.message) for f in app_drift(app(), found, NAMES, TODAY, within=30)] == expected


SP = "eeeeeeee-0000-0000-0000-000000000005"
CONSENT = {
    "none": ([], [("consent-missing", "no tenant-wide admin consent for Microsoft Graph (stack: adminConsent: true)")]),
    "a user's own consent only": (
        [Grant("g1", SP, GRAPH_SP, "Principal", "user-1", ("openid",))],
        [("consent-missing", "no tenant-wide admin consent for Microsoft Graph (stack: adminConsent: true)")],
    ),
    "tenant-wide, too narrow": (
        [Grant("g1", SP, GRAPH_SP, "AllPrincipals", None, ("openid",))],
        [
            (
                "consent-scopes",
                "admin consent for Microsoft Graph covers openid; the stack grants IMAP.AccessAsUser.All email "
                "offline_access openid profile (missing: IMAP.AccessAsUser.All email offline_access profile)",
            )
        ],
    ),
}


@pytest.mark.parametrize("case", CONSENT)
def test_admin_consent_is_found_through_the_resource_service_principal(case: str) -> None:
    grants, expected = CONSENT[case]
    found = AppInTenant("jira", "displayName", [registration()], service_principal_id=SP, grants=grants)
    findings = app_drift(app(adminConsent=True), found, NAMES, TODAY, within=30)
    assert [(f.kind, f.message) for f in findings] == expected


@pytest.mark.parametrize(
    ("matches", "kind", "message"),
    [
        ([], "app-missing", "no app registration with display name 'Jira mail' in the tenant"),
        (
            [registration(client_id="c1"), registration(client_id="c2")],
            "app-ambiguous",
            "2 registrations are named 'Jira mail' (client ids c1, c2)",
        ),
    ],
)
def test_app_not_found_once(matches: list[Registration], kind: str, message: str) -> None:
    found = AppInTenant("jira", "displayName", matches)
    assert [(f.kind, f.message) for f in app_drift(app(), found, NAMES, TODAY, within=30)] == [(kind, message)]
