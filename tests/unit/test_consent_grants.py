"""consent: grants sorted into what a person judges, and what `consent revoke` may remove."""

from __future__ import annotations

import pytest

from mailoauth.graph.records import AppInTenant, Grant, Registration, ResourceApi
from mailoauth.tenant.consent import RevokeRefused, app_consent, still_covered, to_revoke, who
from mailoauth.tenant.drift import Names
from tests.unit.desired import CATALOGUE, GRAPH, app

GRAPH_SP = "aaaaaaaa-0000-0000-0000-000000000001"
SP = "eeeeeeee-0000-0000-0000-000000000005"
NAMES = Names(CATALOGUE, {GRAPH: ResourceApi(GRAPH_SP, GRAPH, "Microsoft Graph")})
REG = Registration("cccccccc-0000-0000-0000-000000000003", "dddddddd-0000-0000-0000-000000000004", "Jira mail", "")
WIDE = Grant("g-wide", SP, GRAPH_SP, "AllPrincipals", None, ("openid", "IMAP.AccessAsUser.All"))
ALICE = Grant("g-alice", SP, GRAPH_SP, "Principal", "user-alice", ("openid", "Mail.Read"))
BOB = Grant("g-bob", SP, GRAPH_SP, "Principal", "user-bob", ("openid",))
UPNS = {"user-alice": "alice@contoso.example"}


def consent_of(grants: list[Grant], admin_consent: bool) -> object:
    found = AppInTenant("jira", "displayName", [REG], service_principal_id=SP, grants=grants)
    return app_consent(app(adminConsent=admin_consent), found, NAMES, UPNS)


@pytest.mark.parametrize(
    ("consent_type", "upn", "principal_id", "text"),
    [
        ("AllPrincipals", None, None, "all users"),
        ("Principal", "alice@contoso.example", "user-alice", "alice@contoso.example"),
        ("Principal", None, "user-gone", "unknown user user-gone"),
    ],
)
def test_who(consent_type: str, upn: str | None, principal_id: str | None, text: str) -> None:
    assert who(consent_type, upn, principal_id) == text


def test_grants_are_listed_tenant_wide_first_with_what_the_stack_does_not_ask_for() -> None:
    consent = consent_of([BOB, ALICE, WIDE], admin_consent=True)
    rows = [(g.grant.id, g.who, g.declared, g.undeclared) for g in consent.grants]
    assert rows == [
        ("g-wide", "all users", True, ()),
        ("g-alice", "alice@contoso.example", False, ("Mail.Read",)),
        ("g-bob", "unknown user user-bob", False, ()),
    ]


REVOKE = {
    "one user's own consent": (["user-alice", False, True], ["g-alice"]),
    "everything, nothing declared": ([None, False, False], ["g-wide", "g-alice"]),
    "everything, declared consent included": ([None, True, True], ["g-wide", "g-alice"]),
}


@pytest.mark.parametrize("case", REVOKE)
def test_to_revoke(case: str) -> None:
    (principal, include_declared, admin_consent), ids = REVOKE[case]
    consent = consent_of([WIDE, ALICE], admin_consent)
    assert [g.grant.id for g in to_revoke(consent, principal, include_declared, "stacks/Pulumi.unit.yaml")] == ids


def test_revoking_declared_consent_is_refused_without_include_declared() -> None:
    consent = consent_of([WIDE, ALICE], admin_consent=True)
    with pytest.raises(
        RevokeRefused,
        match=r"^refusing to remove the tenant-wide admin consent for Microsoft Graph: "
        r"stacks/Pulumi.unit.yaml declares config.mailoauth:apps.jira.adminConsent: true",
    ):
        to_revoke(consent, None, False, "stacks/Pulumi.unit.yaml")


def test_a_users_access_stays_while_tenant_wide_consent_covers_them() -> None:
    assert still_covered(consent_of([ALICE], admin_consent=False), "alice@contoso.example") is None
    text = still_covered(consent_of([WIDE, ALICE], admin_consent=True), "alice@contoso.example")
    assert text is not None
    assert text.startswith(
        "jira has tenant-wide admin consent (Microsoft Graph: openid IMAP.AccessAsUser.All), which covers "
        "alice@contoso.example as well"
    )
    assert text.endswith("run consent revoke --all --include-declared and set adminConsent: false")
