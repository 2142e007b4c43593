"""`mailoauth consent list|revoke` against the fake cloud: grants, revocations, refusals and failures."""

from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mailoauth.graph.errors import permission_for
from mailoauth.project.context import ProjectContext
from tests.fakes.cloud import CLIENT_SECRET, FakeCloud
from tests.fakes.graph import graph_error
from tests.fakes.project import mail_app, write_project
from tests.fakes.server import Request, Response, Route
from tests.fakes.tenant import Deployed

TODAY = "2026-06-01"
APPS = {
    "mail-in": mail_app("Jira mail handler (inbound)", ["imap"], "jira-in", adminConsent=True),
    "mail-out": mail_app("Jira mail handler (outbound)", ["smtp"], "jira-out"),
}
IMAP_SCOPES = ["IMAP.AccessAsUser.All", "email", "offline_access", "openid", "profile"]
# Exactly what revoking needs, nothing more: the least-privileged application permissions.
LEAST = ["Application.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "User.ReadBasic.All"]
TOKENS = (
    "access tokens already issued stay valid until they expire, 60-90 minutes after issue; refresh tokens stop "
    "working now, so the app cannot get new tokens through the removed consent"
)


@dataclass
class Tenant:
    """The deployed stack plus three users: alice and bob consented to mail-out, alice to mail-in; carol to none."""

    cloud: FakeCloud
    apps: dict[str, Deployed]
    users: dict[str, dict[str, Any]]
    grants: dict[str, dict[str, Any]]  # "<app>/<user>" and "<app>/admin" -> grant

    def grant_ids(self) -> set[str]:
        return {g["id"] for g in self.cloud.tenant.grants}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)
    return write_project(tmp_path / "project", APPS)


@pytest.fixture
def tenant(live_env: FakeCloud, project: Path) -> Tenant:
    from mailoauth.base.tree import WorkTree
    from mailoauth.desired import catalogue
    from mailoauth.project import loader

    tree = WorkTree(project)
    stack = loader.load_stack(tree, "test", ProjectContext(catalogue.load(tree), date.fromisoformat(TODAY)))
    fake = live_env.tenant
    apps = fake.deploy(stack)
    users = {name: fake.add_user(f"{name}@example.com") for name in ("alice", "bob", "carol")}
    inbound, outbound = apps["mail-in"].service_principal, apps["mail-out"].service_principal
    grants = {
        "mail-in/admin": apps["mail-in"].grants[0],
        "mail-in/alice": fake.add_grant(
            inbound, fake.graph_sp, ["IMAP.AccessAsUser.All", "offline_access"], users["alice"]["id"]
        ),
        "mail-out/alice": fake.add_grant(
            outbound, fake.graph_sp, ["SMTP.Send", "offline_access", "openid"], users["alice"]["id"]
        ),
        "mail-out/bob": fake.add_grant(
            outbound, fake.graph_sp, ["SMTP.Send", "offline_access", "Mail.Send"], users["bob"]["id"]
        ),
    }
    return Tenant(live_env, apps, users, grants)


def consent(run_cli, cloud: FakeCloud, project: Path, *argv: str):
    return run_cli("-C", project, "consent", *argv, "--stack", "test", "--graph-url", cloud.graph_url)


def sign_in_as(cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, roles=(), **kwargs: Any) -> None:
    client = cloud.add_client(roles=list(roles), **kwargs)
    for name, value in cloud.env(client).items():
        monkeypatch.setenv(name, value)


class Terminal(io.StringIO):
    """Standard input that is a terminal with `answer` typed in."""

    def isatty(self) -> bool:
        return True


def deletes(cloud: FakeCloud) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in cloud.graph.calls if r.method == "DELETE"]


# -- consent list ---------------------------------------------------------------------------------------------------


def test_list_shows_admin_and_user_consent_with_drift(tenant: Tenant, project: Path, run_cli) -> None:
    result = consent(run_cli, tenant.cloud, project, "list", "--format", "json")
    assert result.code == 1, result.err  # bob's grant holds Mail.Send, which the stack does not declare
    doc = json.loads(result.out)
    assert doc["drift"] is True
    assert doc["counts"] == {"tenantWide": 1, "user": 3, "users": 2, "undeclared": 1}
    inbound, outbound = doc["apps"]["mail-in"], doc["apps"]["mail-out"]
    assert inbound["status"] == "found"
    assert inbound["clientId"] == tenant.apps["mail-in"].application["appId"]
    assert inbound["servicePrincipalId"] == tenant.apps["mail-in"].service_principal["id"]
    sp_graph = tenant.cloud.tenant.graph_sp
    assert inbound["grants"] == [
        {
            "id": tenant.grants["mail-in/admin"]["id"],
            "consentType": "AllPrincipals",
            "principalId": None,
            "userPrincipalName": None,
            "resourceAppId": sp_graph["appId"],
            "resource": "Microsoft Graph",
            "scopes": IMAP_SCOPES,
            "undeclaredScopes": [],
            "declaredByStack": True,
        },
        {
            "id": tenant.grants["mail-in/alice"]["id"],
            "consentType": "Principal",
            "principalId": tenant.users["alice"]["id"],
            "userPrincipalName": "alice@example.com",
            "resourceAppId": sp_graph["appId"],
            "resource": "Microsoft Graph",
            "scopes": ["IMAP.AccessAsUser.All", "offline_access"],
            "undeclaredScopes": [],
            "declaredByStack": False,
        },
    ]
    assert [(g["userPrincipalName"], g["scopes"], g["undeclaredScopes"]) for g in outbound["grants"]] == [
        ("alice@example.com", ["SMTP.Send", "offline_access", "openid"], []),
        ("bob@example.com", ["SMTP.Send", "offline_access", "Mail.Send"], ["Mail.Send"]),
    ]


def test_list_text_and_markdown(tenant: Tenant, project: Path, run_cli) -> None:
    text = consent(run_cli, tenant.cloud, project, "list").out
    tenant_id = tenant.cloud.tenant.tenant_id
    in_id = tenant.apps["mail-in"].application["appId"]
    out_id = tenant.apps["mail-out"].application["appId"]
    assert text.splitlines() == [
        f"consent for stack test (tenant {tenant_id}): 2 apps, 1 tenant-wide grant, 3 user grants from 2 "
        "users; 1 grant with scopes the stack does not declare",
        "",
        f"mail-in: Jira mail handler (inbound) (client id {in_id}): 2 grants",
        "  CONSENT      USER               RESOURCE         " + "SCOPES".ljust(59) + "NOT IN STACK",
        "  tenant-wide  all users          Microsoft Graph  IMAP.AccessAsUser.All email offline_access openid profile",
        "  user         alice@example.com  Microsoft Graph  IMAP.AccessAsUser.All offline_access",
        "",
        f"mail-out: Jira mail handler (outbound) (client id {out_id}): 2 grants",
        "  CONSENT  USER               RESOURCE         SCOPES                              NOT IN STACK",
        "  user     alice@example.com  Microsoft Graph  SMTP.Send offline_access openid",
        "  user     bob@example.com    Microsoft Graph  SMTP.Send offline_access Mail.Send  Mail.Send",
    ]
    markdown = consent(run_cli, tenant.cloud, project, "list", "--app", "mail-out", "--format", "markdown").out
    assert f"### mail-out: Jira mail handler (outbound) (client id {out_id}): 2 grants" in markdown
    assert "| user | bob@example.com | Microsoft Graph | SMTP.Send offline_access Mail.Send | Mail.Send |" in markdown
    assert "mail-in" not in markdown


def test_users_are_named_in_one_batched_lookup(tenant: Tenant, project: Path, run_cli) -> None:
    fake = tenant.cloud.tenant
    outbound = tenant.apps["mail-out"].service_principal
    for i in range(20):  # 22 consenting users: two `id in (...)` steps of at most 15, one request
        user = fake.add_user(f"user{i:02d}@example.com")
        fake.add_grant(outbound, fake.graph_sp, ["SMTP.Send"], user["id"])
    result = consent(run_cli, tenant.cloud, project, "list", "--app", "mail-out", "--format", "json")
    upns = [g["userPrincipalName"] for g in json.loads(result.out)["apps"]["mail-out"]["grants"]]
    assert upns == ["alice@example.com", "bob@example.com", *(f"user{i:02d}@example.com" for i in range(20))]
    lookups = [r for r in tenant.cloud.graph.calls if r.path.startswith("/v1.0/users")]
    assert [(r.path, r.batched, r.query["$select"]) for r in lookups] == [
        ("/v1.0/users", True, "id,userPrincipalName")
    ] * 2
    assert [r.query["$filter"].count(",") + 1 for r in lookups] == [15, 7]
    batches = [r for r in tenant.cloud.graph.http_requests if r.path.endswith("$batch")]
    assert "/users?" in json.dumps(batches[-1].json())  # both lookups rode in the last batch


def test_list_reports_missing_apps_and_unknown_resources(tenant: Tenant, project: Path, run_cli) -> None:
    fake = tenant.cloud.tenant
    fake.applications.remove(tenant.apps["mail-out"].application)
    other_api = fake.add_service_principal("6f0b3c2e-1111-4222-8333-444455556666", "Contoso HR API")
    fake.add_grant(tenant.apps["mail-in"].service_principal, other_api, ["hr.read"], tenant.users["carol"]["id"])
    result = consent(run_cli, tenant.cloud, project, "list")
    assert "mail-out: Jira mail handler (outbound): not found in the tenant (see mailoauth audit)" in result.out
    rows = [line.split() for line in result.out.splitlines() if "carol@example.com" in line]
    assert rows == [["user", "carol@example.com", "Contoso", "HR", "API", "hr.read", "hr.read"]]  # all of it is drift
    doc = json.loads(consent(run_cli, tenant.cloud, project, "list", "--format", "json").out)
    assert doc["apps"]["mail-out"] == {
        "displayName": "Jira mail handler (outbound)",
        "status": "missing",
        "clientId": None,
        "servicePrincipalId": None,
        "adminConsent": False,
        "grants": [],
    }
    assert doc["apps"]["mail-in"]["grants"][-1]["resourceAppId"] == "6f0b3c2e-1111-4222-8333-444455556666"
    revoke = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert revoke.code == 2
    assert revoke.err == (
        "error: mail-out: Jira mail handler (outbound): not found in the tenant (see mailoauth audit); nothing was "
        "revoked\n"
    )


def test_app_without_service_principal_has_nothing_to_revoke(tenant: Tenant, project: Path, run_cli) -> None:
    fake = tenant.cloud.tenant
    sp = tenant.apps["mail-out"].service_principal
    fake.service_principals.remove(sp)
    fake.grants[:] = [g for g in fake.grants if g["clientId"] != sp["id"]]
    out_id = tenant.apps["mail-out"].application["appId"]
    listed = consent(run_cli, tenant.cloud, project, "list", "--app", "mail-out")
    assert listed.code == 0
    assert listed.out.splitlines()[-1] == (
        f"mail-out: Jira mail handler (outbound) (client id {out_id}): no service principal in the tenant, so nobody "
        "has consented"
    )
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert result.code == 0
    assert result.out == (
        f"nothing to revoke: mail-out: Jira mail handler (outbound) (client id {out_id}) has no delegated grants\n"
    )


def test_list_names_the_user_read_permission_it_lacks(tenant: Tenant, project: Path, run_cli, monkeypatch) -> None:
    sign_in_as(tenant.cloud, monkeypatch, ["Application.Read.All", "DelegatedPermissionGrant.Read.All"])
    result = consent(run_cli, tenant.cloud, project, "list")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(
        "error: Microsoft Graph refused GET /users: 403 Authorization_RequestDenied (Insufficient privileges to "
        "complete the operation.); the signed-in identity lacks the Microsoft Graph permission User.ReadBasic.All; "
        "add User.ReadBasic.All as an application permission"
    )
    sign_in_as(
        tenant.cloud, monkeypatch, ["Application.Read.All", "DelegatedPermissionGrant.Read.All", "User.ReadBasic.All"]
    )
    assert consent(run_cli, tenant.cloud, project, "list").code == 1  # drift: bob's Mail.Send


def test_permission_names_for_the_consent_requests() -> None:
    assert permission_for("GET", "/users") == "User.ReadBasic.All"
    assert permission_for("GET", "/users/alice@example.com/licenseDetails") == "User.Read.All"
    assert permission_for("DELETE", "/oauth2PermissionGrants/AbC-123") == "DelegatedPermissionGrant.ReadWrite.All"
    assert permission_for("POST", "/users/1/revokeSignInSessions") == "User.RevokeSessions.All"
    assert permission_for("PATCH", "/users/1") == "User.ReadWrite.All"


# -- consent revoke -------------------------------------------------------------------------------------------------


def test_revoke_one_user_and_sign_them_out(tenant: Tenant, project: Path, run_cli, monkeypatch) -> None:
    sign_in_as(tenant.cloud, monkeypatch, [*LEAST, "User.RevokeSessions.All"])
    bob = tenant.grants["mail-out/bob"]
    result = consent(
        run_cli,
        tenant.cloud,
        project,
        "revoke",
        "--app",
        "mail-out",
        "--user",
        "Bob@Example.com",
        "--yes",
        "--sign-out",
    )
    assert result.code == 0, result.err
    out_id = tenant.apps["mail-out"].application["appId"]
    assert result.out.splitlines() == [
        f"mail-out: Jira mail handler (outbound) (client id {out_id})",
        "to remove: 1 delegated grant",
        "  CONSENT  USER             RESOURCE         SCOPES",
        "  user     bob@example.com  Microsoft Graph  SMTP.Send offline_access Mail.Send",
        "to sign bob@example.com out: every refresh token and session of theirs stops working, in every app",
        f"[1/1] removed: grant {bob['id']} (bob@example.com, Microsoft Graph)",
        "signed bob@example.com out: their refresh tokens and sign-in sessions are revoked in every app",
        f"removed 1 grant; {TOKENS}",
    ]
    assert result.err == ""
    assert bob["id"] not in tenant.grant_ids()
    assert tenant.grants["mail-out/alice"]["id"] in tenant.grant_ids()
    assert tenant.users["bob"]["signInSessionsValidFromDateTime"]
    assert "signInSessionsValidFromDateTime" not in tenant.users["alice"]
    assert deletes(tenant.cloud) == [bob["id"]]
    assert CLIENT_SECRET not in result.text
    tokens = list(tenant.cloud.book.tokens)
    assert tokens  # it did sign in, and printed none of them
    assert not any(token in result.text or token.split(".")[1] in result.text for token in tokens)


def test_revoke_all_removes_every_grant_of_the_app(tenant: Tenant, project: Path, run_cli) -> None:
    fake = tenant.cloud.tenant
    portal = fake.add_grant(tenant.apps["mail-out"].service_principal, fake.graph_sp, ["SMTP.Send"])  # not declared
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert result.code == 0, result.err
    removed = [portal, tenant.grants["mail-out/alice"], tenant.grants["mail-out/bob"]]
    assert [line for line in result.out.splitlines() if line.startswith("[")] == [
        f"[1/3] removed: grant {portal['id']} (all users, Microsoft Graph)",
        f"[2/3] removed: grant {removed[1]['id']} (alice@example.com, Microsoft Graph)",
        f"[3/3] removed: grant {removed[2]['id']} (bob@example.com, Microsoft Graph)",
    ]
    assert not {g["id"] for g in removed} & tenant.grant_ids()
    assert tenant.grants["mail-in/alice"]["id"] in tenant.grant_ids()  # the other app is untouched
    batches = [r for r in tenant.cloud.graph.http_requests if r.path.endswith("$batch")]
    assert [s["method"] for s in batches[-1].json()["requests"]] == ["DELETE"] * 3  # one request for all three


def test_declared_admin_consent_is_refused_unless_included(tenant: Tenant, project: Path, run_cli) -> None:
    before = tenant.grant_ids()
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-in", "--all", "--yes")
    assert result.code == 2
    assert result.err == (
        "error: refusing to remove the tenant-wide admin consent for Microsoft Graph: stacks/Pulumi.test.yaml "
        "declares config.mailoauth:apps.mail-in.adminConsent: true, so the next pulumi up would grant it again; set "
        "adminConsent: false and run pulumi up (which removes it), or pass --include-declared to remove it now "
        "anyway; nothing was revoked\n"
    )
    assert tenant.grant_ids() == before
    assert deletes(tenant.cloud) == []

    included = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-in", "--all", "--yes", "--include-declared"
    )
    assert included.code == 0, included.err
    assert tenant.grant_ids() == before - {tenant.grants["mail-in/admin"]["id"], tenant.grants["mail-in/alice"]["id"]}


def test_one_user_under_admin_consent_keeps_access_and_is_told(tenant: Tenant, project: Path, run_cli) -> None:
    result = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-in", "--user", "alice@example.com", "--yes"
    )
    assert result.code == 1
    assert tenant.grants["mail-in/alice"]["id"] not in tenant.grant_ids()
    assert tenant.grants["mail-in/admin"]["id"] in tenant.grant_ids()
    assert result.err == (
        "warning: mail-in has tenant-wide admin consent (Microsoft Graph: IMAP.AccessAsUser.All email offline_access "
        "openid profile), which covers alice@example.com as well: without their own consent the app can still act for "
        "them; to cut their access, block their sign-in (or, with user assignment required, remove their "
        "assignment); to cut everyone's, run consent revoke --all --include-declared and set adminConsent: false\n"
    )


def test_user_who_never_consented_and_unknown_user(tenant: Tenant, project: Path, run_cli) -> None:
    never = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "carol@example.com", "--yes"
    )
    assert never.code == 0
    out_id = tenant.apps["mail-out"].application["appId"]
    assert never.out == (
        f"nothing to revoke: carol@example.com has no consent of their own to mail-out: Jira mail handler (outbound) "
        f"(client id {out_id}); they never consented, or their consent was already revoked\n"
    )
    unknown = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "dave@example.com", "--yes"
    )
    assert unknown.code == 2
    assert unknown.err == (
        f"error: --user: no user 'dave@example.com' in tenant {tenant.cloud.tenant.tenant_id}; `mailoauth consent list "
        "--stack test --app mail-out` shows who has consented; nothing was revoked\n"
    )
    assert deletes(tenant.cloud) == []


def test_deleted_user_is_revoked_by_object_id(tenant: Tenant, project: Path, run_cli) -> None:
    bob = tenant.users["bob"]
    tenant.cloud.tenant.users.remove(bob)  # the grant outlived the account
    listed = consent(run_cli, tenant.cloud, project, "list", "--app", "mail-out")
    assert f"  user     unknown user {bob['id']}" in listed.out
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", bob["id"], "--yes")
    assert result.code == 0, result.err
    assert (
        f"[1/1] removed: grant {tenant.grants['mail-out/bob']['id']} (unknown user {bob['id']}, Microsoft Graph)"
        in (result.out)
    )


def test_graph_error_midway_reports_exactly_what_was_removed(tenant: Tenant, project: Path, run_cli) -> None:
    alice, bob = tenant.grants["mail-out/alice"], tenant.grants["mail-out/bob"]
    tenant.cloud.graph.fail(f"DELETE /v1\\.0/oauth2PermissionGrants/{bob['id']}$", 500, "Internal server error")
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert result.code == 2
    assert deletes(tenant.cloud) == [alice["id"], bob["id"]]
    assert tenant.grant_ids() & {alice["id"], bob["id"]} == {bob["id"]}
    refusal = f"Microsoft Graph refused DELETE /oauth2PermissionGrants/{bob['id']}: 500 Error (Internal server error)"
    assert [line for line in result.out.splitlines() if line.startswith("[") or line.startswith("removed")] == [
        f"[1/2] removed: grant {alice['id']} (alice@example.com, Microsoft Graph)",
        f"[2/2] NOT removed: grant {bob['id']} (bob@example.com, Microsoft Graph): {refusal}",
        f"removed 1 grant; {TOKENS}",
    ]
    assert result.err.splitlines() == [
        "error: 1 of 2 grants NOT removed:",
        f"  grant {bob['id']} (bob@example.com, Microsoft Graph): {refusal}",
        f"  removed: {alice['id']}; run the command again to retry, or `mailoauth consent list --stack test --app "
        "mail-out` to see what remains",
    ]
    again = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert again.code == 0
    assert f"[1/1] removed: grant {bob['id']} (bob@example.com, Microsoft Graph)" in again.out


def break_deleting_batches(cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answer every $batch that deletes with 502 Bad Gateway (the reads still work), for this test only."""
    router = cloud.graph.router
    batch = next(r for r in router.routes if r.method == "POST" and r.name.endswith("$batch"))

    def handler(req: Request, m: re.Match[str]) -> Response:
        if any(step["method"] == "DELETE" for step in req.json()["requests"]):
            return graph_error(502, "BadGateway", "The upstream server did not answer.")
        return batch.handler(req, m)

    monkeypatch.setattr(router, "routes", [Route("POST", batch.pattern, handler, "deletes fail"), *router.routes])


def test_a_failed_batch_leaves_its_grants_unconfirmed_and_stops(
    tenant: Tenant, project: Path, run_cli, monkeypatch
) -> None:
    fake = tenant.cloud.tenant
    outbound = tenant.apps["mail-out"].service_principal
    for i in range(23):  # 25 grants: a batch of 20, then one of 5
        fake.add_grant(outbound, fake.graph_sp, ["SMTP.Send"], fake.add_user(f"user{i:02d}@example.com")["id"])
    before = tenant.grant_ids()
    break_deleting_batches(tenant.cloud, monkeypatch)
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--yes")
    assert result.code == 2
    assert tenant.grant_ids() == before
    progress = [line for line in result.out.splitlines() if line.startswith("[")]
    assert len(progress) == 25
    assert all("NOT confirmed" in line for line in progress[:20])
    assert all(
        "NOT attempted" in line and "not sent: an earlier batch failed as a whole" in line for line in progress[20:]
    )
    assert not any(line.startswith("removed") for line in result.out.splitlines())
    assert "removed: none;" in result.err


def test_user_sign_in_refused_by_graph_is_named_per_grant(tenant: Tenant, project: Path, run_cli, monkeypatch) -> None:
    admin = tenant.cloud.tenant.add_user("admin@example.com")
    sign_in_as(
        tenant.cloud,
        monkeypatch,
        user_id=admin["id"],
        scopes=("Application.Read.All", "DelegatedPermissionGrant.Read.All", "User.ReadBasic.All"),
    )
    result = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "alice@example.com", "--yes"
    )
    assert result.code == 2
    grant = tenant.grants["mail-out/alice"]
    assert (
        f"[1/1] NOT removed: grant {grant['id']} (alice@example.com, Microsoft Graph): Microsoft Graph refused DELETE "
        f"/oauth2PermissionGrants/{grant['id']}: 403 Authorization_RequestDenied (Insufficient privileges to complete "
        "the operation.); the signed-in identity lacks the Microsoft Graph permission "
        "DelegatedPermissionGrant.ReadWrite.All; consent to DelegatedPermissionGrant.ReadWrite.All as a delegated "
        "permission"
    ) in result.out
    assert "removed: none;" in result.err
    assert grant["id"] in tenant.grant_ids()


@pytest.mark.parametrize(
    ("roles", "flags", "needs"),
    [
        (
            ["Application.Read.All", "DelegatedPermissionGrant.Read.All", "User.Read.All"],
            [],
            "DelegatedPermissionGrant.ReadWrite.All",
        ),
        (LEAST, ["--sign-out"], "User.RevokeSessions.All"),
        (
            ["Application.Read.All", "User.ReadBasic.All"],
            ["--sign-out"],
            "DelegatedPermissionGrant.ReadWrite.All and User.RevokeSessions.All",
        ),
    ],
    ids=["grants", "sessions", "both"],
)
def test_missing_write_permissions_are_named_before_anything_happens(
    tenant: Tenant, project: Path, run_cli, monkeypatch, roles: list[str], flags: list[str], needs: str
) -> None:
    sign_in_as(tenant.cloud, monkeypatch, roles)
    result = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "bob@example.com", "--yes", *flags
    )
    assert result.code == 2
    assert result.err.startswith(
        f"error: consent revoke needs the Microsoft Graph permission {needs}, which application "
    )
    assert result.err.endswith(
        f"lacks; add {needs} as an application permission (Microsoft Graph) to the signing-in app and grant admin "
        "consent; nothing was revoked\n"
    )
    assert tenant.cloud.graph.calls == []  # not even read


# -- confirmation ---------------------------------------------------------------------------------------------------


def test_without_a_terminal_or_yes_nothing_is_read_or_revoked(
    tenant: Tenant, project: Path, run_cli, monkeypatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped input is not a confirmation
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all")
    assert result.code == 2
    assert result.err == (
        "error: consent revoke asks for confirmation, but standard input is not a terminal; pass --yes to revoke "
        "without asking; nothing was revoked\n"
    )
    assert tenant.cloud.graph.http_requests == []


@pytest.mark.parametrize(("answer", "code", "kept"), [("n\n", 1, True), ("\n", 1, True), ("yes\n", 0, False)])
def test_the_prompt_decides(
    tenant: Tenant, project: Path, run_cli, monkeypatch, answer: str, code: int, kept: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    result = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "bob@example.com")
    assert result.code == code
    assert result.err.startswith("Remove 1 grant? [y/N] ")
    assert "  user     bob@example.com  Microsoft Graph  SMTP.Send offline_access Mail.Send" in result.out
    assert (tenant.grants["mail-out/bob"]["id"] in tenant.grant_ids()) is kept
    assert ("cancelled: nothing was revoked" in result.out) is kept
    assert (f"removed 1 grant; {TOKENS}" in result.out) is not kept


def test_sign_out_prompt_names_the_user(tenant: Tenant, project: Path, run_cli, monkeypatch) -> None:
    sign_in_as(tenant.cloud, monkeypatch, [*LEAST, "User.RevokeSessions.All"])
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    result = consent(
        run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--user", "carol@example.com", "--sign-out"
    )
    assert result.code == 0, result.err
    assert result.err == "Sign carol@example.com out? [y/N] "
    assert "nothing to revoke" not in result.out
    assert tenant.users["carol"]["signInSessionsValidFromDateTime"]


def test_usage_errors(tenant: Tenant, project: Path, run_cli) -> None:
    both = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-out", "--all", "--sign-out", "--yes")
    assert both.code == 2
    assert both.err.startswith("error: --sign-out goes with --user: it signs a user out of every app")
    mixed = consent(
        run_cli,
        tenant.cloud,
        project,
        "revoke",
        "--app",
        "mail-in",
        "--user",
        "alice@example.com",
        "--include-declared",
    )
    assert mixed.err == "error: --include-declared goes with --all: --user never removes tenant-wide consent\n"
    typo = consent(run_cli, tenant.cloud, project, "revoke", "--app", "mail-ot", "--all", "--yes")
    assert typo.err == (
        "error: stacks/Pulumi.test.yaml: config.mailoauth:apps: no app 'mail-ot'; did you mean 'mail-out'? "
        "(apps: mail-in, mail-out); nothing was revoked\n"
    )
    assert tenant.cloud.graph.http_requests == []
