"""preflight: the deployer's rights and display-name clashes, from the facts Graph returned."""

from __future__ import annotations

import pytest

from mailoauth.graph.auth import Principal
from mailoauth.graph.errors import GraphError
from mailoauth.graph.records import Registration
from mailoauth.tenant.preflight import TenantFacts, admin_consent, create_apps, display_name

TENANT = "11111111-2222-3333-4444-555555555555"
APP = Principal(TENANT, "sp-1", "app-1", "application", roles=("Application.ReadWrite.OwnedBy",))
BARE_APP = Principal(TENANT, "sp-1", "app-1", "application")
USER = Principal(TENANT, "user-1", "cli-app", "user", scopes=("Directory.Read.All",))
APP_ADMIN = {"roleTemplateId": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"}  # Application Administrator
APP_DEVELOPER = {"roleTemplateId": "cf1c38e5-3621-4004-a7cb-879624dced7c"}  # Application Developer
USERS_MAY_CREATE = {"defaultUserRolePermissions": {"allowedToCreateApps": True}}
USERS_MAY_NOT = {"defaultUserRolePermissions": {"allowedToCreateApps": False}}
DENIED = GraphError("Microsoft Graph refused GET /me/memberOf: 403", status=403)


def facts(principal: Principal, roles: object = None, policy: object = None) -> TenantFacts:
    return TenantFacts(principal, skus=[], authorization_policy=policy, directory_roles=roles)


CREATE = {
    "application with OwnedBy": (facts(APP), "pass", "the application holds Application.ReadWrite.OwnedBy"),
    "application without either": (
        facts(BARE_APP),
        "fail",
        "the application holds neither Application.ReadWrite.OwnedBy nor Application.ReadWrite.All",
    ),
    "Application Developer": (
        facts(USER, [APP_DEVELOPER], USERS_MAY_NOT),
        "pass",
        "the user holds a directory role that registers applications",
    ),
    "no role, users may register": (
        facts(USER, [], USERS_MAY_CREATE),
        "pass",
        "users may register applications in this tenant",
    ),
    "no role, users may not": (
        facts(USER, [], USERS_MAY_NOT),
        "fail",
        "users may not register applications and the user has no role that may",
    ),
}


@pytest.mark.parametrize("case", CREATE)
def test_create_apps(case: str) -> None:
    given, status, detail = CREATE[case]
    check = create_apps(given)
    assert (check.check, check.subject, check.status, check.detail) == ("create-apps", "deployer", status, detail)


CONSENT = {
    "Application Administrator": (facts(USER, [APP_ADMIN]), "pass"),
    "Application Developer may not consent": (facts(USER, [APP_DEVELOPER]), "fail"),
    "application without DelegatedPermissionGrant.ReadWrite.All": (facts(APP), "fail"),
}


@pytest.mark.parametrize("case", CONSENT)
def test_admin_consent(case: str) -> None:
    given, status = CONSENT[case]
    assert admin_consent(given).status == status


def test_roles_that_could_not_be_read_fail_closed() -> None:
    check = create_apps(facts(USER, DENIED, USERS_MAY_CREATE))
    assert (check.status, check.detail) == ("fail", "cannot check: Microsoft Graph refused GET /me/memberOf: 403")


@pytest.mark.parametrize(
    ("found", "status", "detail"),
    [
        ([], "pass", "no registration is named 'Jira mail' yet"),
        (
            [Registration("o1", "c1", "Jira mail", "AzureADMyOrg")],
            "warn",
            "'Jira mail' is already registered (client id c1); pulumi up would create another app of that name",
        ),
    ],
)
def test_display_name(found: list[Registration], status: str, detail: str) -> None:
    check = display_name("Jira mail", "jira", found)
    assert (check.status, check.detail) == (status, detail)
