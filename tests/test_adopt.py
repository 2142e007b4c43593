"""`mailoauth adopt` against the fake cloud: a portal-made app becomes a stack entry, then the program
imports every resource with inputs equal to what the tenant holds."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.cloud import CLIENT_SECRET, FakeCloud
from tests.fakes.project import CALLBACK, write_project
from tests.fakes.tenant import (
    EXCHANGE_APP_ID,
    EXCHANGE_SCOPES,
    GRAPH_ADMIN_SCOPES,
    GRAPH_APP_ID,
    GRAPH_ROLES,
    GRAPH_SCOPES,
    FakeTenant,
)
from tests.pulumi_harness import Tenant, run_program, stack_config

APPLICATION = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"

TODAY = "2026-06-01"
FIRST_VALUE = "Qx7~first-portal-secret-value"  # Graph shows only "Qx7"; neither may be printed or written
SECOND_VALUE = "Zw4~second-portal-secret-value"
PORTAL_SCOPES = ["User.Read", "offline_access", "IMAP.AccessAsUser.All", "SMTP.Send", "openid", "email", "profile"]
STACK_TEXT = """\
# yaml-language-server: $schema=../schema/stack.schema.json
# Production: the service desk's mail apps.
config:
  azuread:tenantId: {tenant}
  azuread:environment: global  # the public cloud
  mailoauth:apps:
    # Outbound mail of the helpdesk, made by this project.
    desk-out:
      displayName: Helpdesk mail (outbound)
      redirectUris: [https://desk.example.com/oauth/callback]
      scopeSets: [smtp]   # SMTP AUTH only
      secret: {{description: desk-out, expires: 2027-03-01}}

    # new apps go below
"""


@dataclass
class Portal:
    """What an admin clicked together in the portal, following the vendor's guide."""

    application: dict[str, Any]
    service_principal: dict[str, Any]
    admin: dict[str, Any]
    grant: dict[str, Any] | None
    secrets: list[dict[str, Any]]

    @property
    def client_id(self) -> str:
        return self.application["appId"]


def portal_app(
    cloud: FakeCloud, *, scopes: list[str] = PORTAL_SCOPES, consent: bool = True, ews: bool = False
) -> Portal:
    tenant = cloud.tenant
    admin = tenant.add_user("it-admin@contoso.example")
    secrets = [
        FakeTenant.secret("jira prod", date(2027, 5, 31), SECOND_VALUE),
        FakeTenant.secret("jira", date(2026, 12, 31), FIRST_VALUE),
    ]
    secrets[0]["endDateTime"] = "2027-05-31T14:22:07.123Z"  # the portal picks a time of day
    app = tenant.add_application(
        "Jira Mail (prod)",
        redirect_uris=[CALLBACK],
        required={
            GRAPH_APP_ID: [GRAPH_SCOPES[name] for name in scopes],
            **({EXCHANGE_APP_ID: [EXCHANGE_SCOPES["EWS.AccessAsUser.All"]]} if ews else {}),
        },
        secrets=secrets,
    )
    sp = tenant.add_service_principal(app["appId"], app["displayName"])
    for owner in (admin, cloud.sp):
        tenant.add_owner(app, owner)
        tenant.add_owner(sp, owner)
    grant = tenant.add_grant(sp, tenant.graph_sp, scopes) if consent else None  # "Grant admin consent"
    return Portal(app, sp, admin, grant, secrets)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live_env: FakeCloud) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)
    root = write_project(tmp_path / "project", {})
    (root / "stacks" / "Pulumi.prod.yaml").write_text(STACK_TEXT.format(tenant=live_env.tenant.tenant_id))
    (root / "stacks" / "Pulumi.test.yaml").unlink()
    return root


def adopt(run_cli, cloud: FakeCloud, project: Path, client_id: str, *extra: str):
    return run_cli(
        "-C", project, "adopt", "--stack", "prod", "--client-id", client_id, "--graph-url", cloud.graph_url, *extra
    )


def stack_text(project: Path) -> str:
    return (project / "stacks" / "Pulumi.prod.yaml").read_text()


def test_adopts_a_portal_app_with_user_read_two_secrets_and_consent(
    live_env: FakeCloud, project: Path, run_cli
) -> None:
    portal = portal_app(live_env)
    result = adopt(run_cli, live_env, project, portal.client_id, "--import-file", project / "import.json")
    assert result.code == 0, result.err
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    first, second = portal.secrets[1], portal.secrets[0]
    assert entry == {
        "displayName": "Jira Mail (prod)",
        "audience": "single-tenant",
        "redirectUris": [CALLBACK],
        "scopeSets": ["imap", "smtp"],
        "scopes": ["User.Read"],
        "secrets": [
            {"description": "jira", "expires": date(2026, 12, 31), "keyId": first["keyId"]},
            {"description": "jira prod", "expires": date(2027, 5, 31), "keyId": second["keyId"]},
        ],
        "adminConsent": True,
        "owners": [portal.admin["id"], live_env.sp["id"]],
        "clientId": portal.client_id,
        "import": {
            "application": f"/applications/{portal.application['id']}",
            "servicePrincipal": f"/servicePrincipals/{portal.service_principal['id']}",
            "consentGrants": [{"resource": "graph", "id": f"/oauth2PermissionGrants/{portal.grant['id']}"}],
            "permissionOrder": PORTAL_SCOPES,  # the tenant's order: the import changes nothing
        },
    }
    assert result.out.splitlines()[0] == (
        f"stacks/Pulumi.prod.yaml: adopted 'Jira Mail (prod)' (client id {portal.client_id}) as app jira-mail-prod"
    )
    assert "the first pulumi up will also" not in result.out  # nothing differs from the tenant
    assert "User.Read stays as scopes: [User.Read] (the portal adds it to every new registration)" in result.out
    assert "2 secrets recorded by keyId" in result.out
    assert "mailoauth secrets rotate --stack prod --app jira-mail-prod" in result.out
    assert json.loads((project / "import.json").read_text()) == {
        "resources": [
            {"type": "mailoauth:index:MailApp", "name": "jira-mail-prod", "component": True},
            {
                "type": "azuread:index/application:Application",
                "name": "jira-mail-prod-application",
                "logicalName": "jira-mail-prod",
                "id": f"/applications/{portal.application['id']}",
                "parent": "jira-mail-prod",
            },
            {
                "type": "azuread:index/servicePrincipal:ServicePrincipal",
                "name": "jira-mail-prod-sp",
                "id": f"/servicePrincipals/{portal.service_principal['id']}",
                "parent": "jira-mail-prod",
            },
            {
                "type": "azuread:index/servicePrincipalDelegatedPermissionGrant:"
                "ServicePrincipalDelegatedPermissionGrant",
                "name": "jira-mail-prod-consent-graph",
                "id": f"/oauth2PermissionGrants/{portal.grant['id']}",
                "parent": "jira-mail-prod",
            },
        ]
    }


def test_the_rest_of_the_file_is_kept_byte_for_byte(live_env: FakeCloud, project: Path, run_cli) -> None:
    before = stack_text(project)
    portal = portal_app(live_env)
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    after = stack_text(project)
    ops = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False).get_opcodes()
    assert [op[0] for op in ops] == ["equal", "insert", "equal"]  # one block added, nothing else touched
    lines = after.splitlines()
    first = lines.index(
        "    # Adopted by `mailoauth adopt` on 2026-06-01 from the app registration made in the portal."
    )
    assert lines[first - 2 : first] == ["      secret: {description: desk-out, expires: 2027-03-01}", ""]
    assert lines[first + 1 : first + 7] == [
        "    # Its secrets are recorded by keyId: their values cannot be read and Pulumi cannot import them, so",
        "    # pulumi up neither creates nor deletes them. Keep using them until they expire, or rotate with",
        "    #   mailoauth secrets rotate --stack prod --app jira-mail-prod",
        "    # (a new slot pulumi up creates), switch the mail product to it, then run",
        "    #   mailoauth secrets retire --stack prod --app jira-mail-prod",
        "    # and delete the old secret in the portal (Certificates & secrets).",
    ]
    assert lines[first + 7 : first + 9] == [
        "    # User.Read is the portal's default: drop it from scopes: if the mail product",
        "    # does not read the signed-in user's profile.",
    ]
    assert lines[first + 9 : first + 11] == ["    jira-mail-prod:", "      displayName: Jira Mail (prod)"]
    assert after.endswith("\n\n    # new apps go below\n")


def test_program_imports_every_resource_with_the_live_inputs(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, run = adopt_and_run(live_env, project, run_cli, monkeypatch)
    app, sp, grant = portal.application, portal.service_principal, portal.grant
    imported = {
        (r.typ, r.name): r.resource_id
        for r in run.resources
        if r.typ.startswith("azuread:") and r.name.startswith("jira-mail-prod")
    }
    assert imported == {  # every resource of the app is imported, none is created; no password at all
        (APPLICATION, "jira-mail-prod"): f"/applications/{app['id']}",
        (SP, "jira-mail-prod-sp"): f"/servicePrincipals/{sp['id']}",
        (GRANT, "jira-mail-prod-consent-graph"): f"/oauth2PermissionGrants/{grant['id']}",
    }
    assert [r.name for r in run.of_type(PASSWORD)] == ["desk-out-secret"]
    live = live_inputs(live_env.tenant, portal)
    assert program_inputs(run, APPLICATION, "jira-mail-prod") == live[APPLICATION]
    assert program_inputs(run, SP, "jira-mail-prod-sp") == live[SP]
    assert program_inputs(run, GRANT, "jira-mail-prod-consent-graph") == live[GRANT]


def test_outputs_say_the_adopted_app_has_no_secret_value(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, run = adopt_and_run(live_env, project, run_cli, monkeypatch)
    output = run.outputs["apps"]["jira-mail-prod"]
    assert output["clientId"] == portal.client_id
    assert output["secretExpires"] == "2027-05-31"
    assert output["secrets"] == [
        {"name": "secret-2026-12-31", "expires": "2026-12-31", "adopted": True, "keyId": portal.secrets[1]["keyId"]},
        {"name": "secret-2027-05-31", "expires": "2027-05-31", "adopted": True, "keyId": portal.secrets[0]["keyId"]},
    ]
    assert list(run.outputs["clientSecrets"]) == ["desk-out"]  # nothing to export for an app of adopted slots
    assert run.outputs["clientSecretSlots"]["jira-mail-prod"] == {}


def adopt_and_run(cloud: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch):
    portal = portal_app(cloud)
    assert adopt(run_cli, cloud, project, portal.client_id).code == 0
    run = run_adopted(cloud, project, portal, monkeypatch)
    assert run.error is None
    return portal, run


def run_adopted(cloud: FakeCloud, project: Path, portal: Portal, monkeypatch: pytest.MonkeyPatch):
    """The program on the adopted stack file, the provider reading the tenant's objects for the imports."""
    monkeypatch.chdir(project)  # the program reads the project's scopes/ and the other stacks from here
    tenant = cloud.tenant
    existing = {f"/applications/{portal.application['id']}": {"clientId": portal.client_id}}
    existing[f"/servicePrincipals/{portal.service_principal['id']}"] = {"objectId": portal.service_principal["id"]}
    return run_program(
        stack_config(yaml.safe_load(stack_text(project))),
        "prod",
        tenant=Tenant(
            deployer=cloud.sp["id"],
            existing=existing,
            service_principals={sp["appId"]: sp["id"] for sp in (tenant.graph_sp, tenant.exchange_sp)},
        ),
    )


def live_inputs(tenant: FakeTenant, portal: Portal) -> dict[str, dict[str, Any]]:
    """What the tenant holds, as the provider's inputs (lists the provider treats as sets sorted)."""
    app, sp, grant = portal.application, portal.service_principal, portal.grant
    assert grant is not None
    return {
        APPLICATION: {
            "displayName": app["displayName"],
            "signInAudience": app["signInAudience"],
            "web": {"redirectUris": app["web"]["redirectUris"]},
            "requiredResourceAccesses": [
                {"resourceAppId": rra["resourceAppId"], "resourceAccesses": rra["resourceAccess"]}  # a list: in order
                for rra in sorted(app["requiredResourceAccess"], key=lambda r: r["resourceAppId"])
            ],
            "owners": sorted(tenant.owners[app["id"]]),
            "fallbackPublicClientEnabled": bool(app.get("isFallbackPublicClient")),
        },
        SP: {"clientId": app["appId"], "owners": sorted(tenant.owners[sp["id"]])},
        GRANT: {
            "servicePrincipalObjectId": grant["clientId"],
            "resourceServicePrincipalObjectId": grant["resourceId"],
            "claimValues": sorted(grant["scope"].split()),
        },
    }


def program_inputs(run, typ: str, name: str) -> dict[str, Any]:
    inputs = dict(run.get(typ, name).inputs)
    if "owners" in inputs:
        inputs["owners"] = sorted(inputs["owners"])
    return inputs


def test_only_the_owners_the_project_adds_differ(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = portal_app(live_env, scopes=["User.Read", "offline_access", "IMAP.AccessAsUser.All"])
    live_env.tenant.owners[portal.service_principal["id"]].remove(portal.admin["id"])
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    changes = result.out.split("the first pulumi up will also (the project's rules, not the tenant):\n")[1]
    assert changes.split("\n\n")[0].splitlines() == [
        f"  - make {portal.admin['id']} an owner of the service principal too: the stack gives the app registration "
        "and its service principal the same owners",
    ]
    assert "openid, email, profile stay out (omitScopes): the registration lacks them, though every app" in result.out
    run = run_adopted(live_env, project, portal, monkeypatch)
    live = live_inputs(live_env.tenant, portal)
    assert program_inputs(run, APPLICATION, "jira-mail-prod") == live[APPLICATION]  # same permissions, same order
    assert program_inputs(run, GRANT, "jira-mail-prod-consent-graph") == live[GRANT]
    assert program_inputs(run, SP, "jira-mail-prod-sp")["owners"] == sorted([portal.admin["id"], live_env.sp["id"]])


def test_a_registration_without_email_and_profile_is_adopted_exactly(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: the general set is not forced onto an adopted app, and the tenant's order is kept."""
    scopes = ["offline_access", "openid", "IMAP.AccessAsUser.All", "SMTP.Send", "User.Read"]
    portal = portal_app(live_env, scopes=scopes)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    assert "the first pulumi up will also" not in result.out
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert (entry["scopeSets"], entry["scopes"], entry["omitScopes"]) == (
        ["imap", "smtp"],
        ["User.Read"],
        ["email", "profile"],
    )
    assert entry["import"]["permissionOrder"] == scopes
    run = run_adopted(live_env, project, portal, monkeypatch)
    live = live_inputs(live_env.tenant, portal)
    for typ, name in (
        (APPLICATION, "jira-mail-prod"),
        (SP, "jira-mail-prod-sp"),
        (GRANT, "jira-mail-prod-consent-graph"),
    ):
        assert program_inputs(run, typ, name) == live[typ]
    monkeypatch.chdir(project)
    shown = run_cli("-C", project, "plan", "--stack", "prod")
    assert "    left out       email, profile (of the general set)\n" in shown.out


def test_sets_across_two_apis_and_consent_for_one_of_them(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scopes = ["offline_access", "openid", "email", "profile", "Mail.ReadWrite", "Mail.Send"]
    portal = portal_app(live_env, scopes=scopes, ews=True)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert entry["scopeSets"] == ["ews-send", "graph-read", "graph-send"]  # graph-send is Mail.Send alone
    assert "scopes" not in entry
    assert entry["allowEws"] is True  # the registration already uses EWS: kept, acknowledged
    assert (
        "allowEws: true keeps EWS.AccessAsUser.All: Exchange Online blocks EWS from 2026-10-01 unless the tenant "
        "allow-lists the app, and shuts it down on 2027-04-01; once the product sends MIME through Graph sendMail, "
        "replace ews-send by graph-send and drop allowEws"
    ) in result.out.replace("\n", " ").replace("  ", " ")
    assert entry["import"]["consentGrants"] == [
        {"resource": "graph", "id": f"/oauth2PermissionGrants/{portal.grant['id']}"}
    ]
    assert (
        "  - grant tenant-wide admin consent for Office 365 Exchange Online (EWS.AccessAsUser.All): adminConsent: "
        "true covers every API the app requests"
    ) in result.out
    run = run_adopted(live_env, project, portal, monkeypatch)
    ews = run.get(GRANT, "jira-mail-prod-consent-exchange")
    assert not ews.resource_id  # created by pulumi up, as listed
    assert ews.inputs["resourceServicePrincipalObjectId"] == live_env.tenant.exchange_sp["id"]
    accesses = program_inputs(run, APPLICATION, "jira-mail-prod")["requiredResourceAccesses"]
    assert accesses == live_inputs(live_env.tenant, portal)[APPLICATION]["requiredResourceAccesses"]


def test_a_deployer_that_owns_nothing_is_listed(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env, consent=False)
    for obj in (portal.application, portal.service_principal):
        live_env.tenant.owners[obj["id"]].remove(live_env.sp["id"])
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    assert (
        f"  - make the deploying principal an owner (the program always does): {live_env.sp['id']}, signed in for "
        "this adoption, does not own both the app registration and its service principal"
    ) in result.out
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert entry["owners"] == [portal.admin["id"]]
    assert "adminConsent" not in entry
    assert entry["import"] == {
        "application": f"/applications/{portal.application['id']}",
        "servicePrincipal": f"/servicePrincipals/{portal.service_principal['id']}",
        "permissionOrder": PORTAL_SCOPES,
    }


REFUSALS = {
    "application permission": (
        lambda p: p.application["requiredResourceAccess"][0]["resourceAccess"].append(
            {"id": GRAPH_ROLES["Mail.Read"], "type": "Role"}
        ),
        "application permission Mail.Read (Microsoft Graph, application): the stack registers delegated permissions "
        "only; remove it in the portal (API permissions) if the mail product signs in as a user, or keep this app "
        "outside the project",
    ),
    "scope not in the catalogue": (
        lambda p: p.application["requiredResourceAccess"][0]["resourceAccess"].append(
            {"id": GRAPH_ADMIN_SCOPES["Directory.Read.All"], "type": "Scope"}
        ),
        "Directory.Read.All (Microsoft Graph, delegated) is not in scopes/catalogue.yaml: add it there (id, consent "
        "flag, source) if the mail product needs it, or remove it in the portal (API permissions); then adopt again",
    ),
    "spa redirect URI": (
        lambda p: p.application["spa"]["redirectUris"].append("https://jira.example.com/spa"),
        "spa redirect URI https://jira.example.com/spa: the stack registers Web redirect URIs only; remove it in "
        "the portal (Authentication > Single-page application) if the mail product does not use them, or keep this "
        "app outside the project",
    ),
    "public client redirect URI": (
        lambda p: p.application["publicClient"]["redirectUris"].append("http://localhost"),
        "publicClient redirect URI http://localhost: the stack registers Web redirect URIs only; remove it in "
        "the portal (Authentication > Mobile and desktop applications)",
    ),
    "two spa redirect URIs": (
        lambda p: p.application["spa"]["redirectUris"].extend(
            ["https://a.example.com/spa", "https://b.example.com/spa"]
        ),
        "spa redirect URIs https://a.example.com/spa, https://b.example.com/spa: the stack registers Web redirect "
        "URIs only; remove them in the portal (Authentication > Single-page application) if the mail product does "
        "not use them, or keep this app outside the project",
    ),
    "app roles": (
        lambda p: p.application.update(appRoles=[{"value": "Mail.Admin", "displayName": "Admins"}]),
        "app role Mail.Admin: pulumi up would clear it; remove it in the portal (App roles), or keep this app "
        "outside the project",
    ),
    "two app roles": (
        lambda p: p.application.update(appRoles=[{"value": "Mail.Admin"}, {"displayName": "Auditors"}]),
        "app roles Mail.Admin, Auditors: pulumi up would clear them; remove them in the portal (App roles), or keep "
        "this app outside the project",
    ),
    "exposed API": (
        lambda p: p.application.update(identifierUris=["api://jira-mail"]),
        "Application ID URI api://jira-mail: pulumi up would clear it; remove it in the portal (Expose an API)",
    ),
    "implicit grant": (
        lambda p: p.application["web"]["implicitGrantSettings"].update(enableIdTokenIssuance=True),
        "implicit grant of ID tokens: pulumi up would clear it; remove it in the portal (Authentication)",
    ),
    "terms of service URL": (
        lambda p: p.application.update(
            info={"termsOfServiceUrl": "https://contoso.example/tos", "logoUrl": "https://cdn.example/logo.png"}
        ),
        "termsOfServiceUrl https://contoso.example/tos: pulumi up would clear it; remove it in the portal (Branding & "
        "properties)",
    ),
    "group claims": (
        lambda p: p.application.update(groupMembershipClaims="SecurityGroup"),
        "group claims (SecurityGroup): pulumi up would clear it; remove it in the portal (Token configuration)",
    ),
    "disabled enterprise application": (
        lambda p: p.service_principal.update(accountEnabled=False),
        "the enterprise application is disabled for sign-in: pulumi up would enable it; enable it first, or keep this "
        "app outside the project",
    ),
    "assignment required": (
        lambda p: p.service_principal.update(appRoleAssignmentRequired=True),
        "the enterprise application requires user assignment: pulumi up would turn that off",
    ),
    "three secrets": (
        lambda p: p.application["passwordCredentials"].append(FakeTenant.secret("old", date(2026, 9, 1))),
        "3 client secrets ('jira prod' (keyId ",
    ),
    "expired secret": (
        lambda p: p.secrets[1].update(endDateTime="2026-05-31T23:59:59Z"),
        "expired on 2026-05-31: delete it in the portal (Certificates & secrets) once nothing uses it, then adopt "
        "again",
    ),
    "no secret": (
        lambda p: p.application["passwordCredentials"].clear(),
        "no client secret: add one in the portal (Certificates & secrets), then adopt again",
    ),
    "no web redirect URI": (
        lambda p: p.application["web"]["redirectUris"].clear(),
        "no Web redirect URI: add the mail product's OAuth callback URL in the portal (Authentication > Web), then "
        "adopt again",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refuses_what_the_stack_cannot_express(case: str, live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    mutate, message = REFUSALS[case]
    mutate(portal)
    before = stack_text(project)
    result = adopt(run_cli, live_env, project, portal.client_id, "--import-file", project / "import.json")
    assert result.code == 2
    assert result.err.startswith(
        f"error: cannot adopt app registration 'Jira Mail (prod)' (client id {portal.client_id}): 1 thing the "
        "stack file cannot express; nothing was written\n  - "
    )
    assert message in result.err
    assert stack_text(project) == before
    assert not (project / "import.json").exists()


def test_every_refusal_is_listed_at_once(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    for case in ("application permission", "spa redirect URI", "expired secret"):
        REFUSALS[case][0](portal)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 2
    assert "3 things the stack file cannot express" in result.err
    assert len([line for line in result.err.splitlines() if line.startswith("  - ")]) == 3


def test_unknown_client_id(live_env: FakeCloud, project: Path, run_cli) -> None:
    before = stack_text(project)
    result = adopt(run_cli, live_env, project, "0f0f0f0f-1111-4222-8333-444444444444")
    assert result.code == 2
    assert result.err == (
        "error: no app registration with client id 0f0f0f0f-1111-4222-8333-444444444444 in tenant "
        f"{live_env.tenant.tenant_id}: copy the Application (client) ID from the app's Overview page (not its Object "
        "ID); nothing was written\n"
    )
    assert stack_text(project) == before
    assert adopt(run_cli, live_env, project, "jira-mail").err == (
        "error: --client-id: 'jira-mail' is not a GUID; copy the Application (client) ID\n"
    )


def test_an_app_is_adopted_once_and_keys_do_not_clash(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    before = stack_text(project)
    again = adopt(run_cli, live_env, project, portal.client_id.upper(), "--key", "other")
    assert (again.code, again.err) == (
        2,
        f"error: stacks/Pulumi.prod.yaml: client id {portal.client_id} is already app jira-mail-prod; nothing was "
        "written\n",
    )
    other = portal_app(live_env)
    clash = adopt(run_cli, live_env, project, other.client_id, "--key", "desk-out")
    assert clash.err == (
        "error: stacks/Pulumi.prod.yaml: config.mailoauth:apps already has an app 'desk-out'; choose another with "
        "--key; nothing was written\n"
    )
    assert stack_text(project) == before


def test_an_entry_the_guardrails_reject_is_not_written(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    portal.application["web"]["redirectUris"] = ["http://jira.example.com/plugins/servlet/oauth2/callback"]
    before = stack_text(project)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "stacks/Pulumi.prod.yaml: the entry for jira-mail-prod would not be valid, so the file was not changed:"
    )
    assert "config.mailoauth:apps.jira-mail-prod.redirectUris[0]: redirect URI" in result.err
    assert "(rule redirect-https)" in result.err
    assert stack_text(project) == before


def test_first_app_of_an_empty_stack(live_env: FakeCloud, project: Path, run_cli) -> None:
    path = project / "stacks" / "Pulumi.prod.yaml"
    path.write_text(f"config:\n  azuread:tenantId: {live_env.tenant.tenant_id}\n  mailoauth:apps: {{}}\n")
    portal = portal_app(live_env)
    result = adopt(run_cli, live_env, project, portal.client_id, "--key", "jira")
    assert result.code == 0, result.err
    text = stack_text(project)
    assert text.startswith(
        f"config:\n  azuread:tenantId: {live_env.tenant.tenant_id}\n  mailoauth:apps:\n"
        "    # Adopted by `mailoauth adopt` on 2026-06-01"
    )
    assert list(yaml.safe_load(text)["config"]["mailoauth:apps"]) == ["jira"]
    assert run_cli("-C", project, "validate", "--stack", "prod").code == 0


def test_no_secret_material_is_printed_or_written(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    result = adopt(run_cli, live_env, project, portal.client_id, "--import-file", project / "import.json")
    assert result.code == 0
    written = stack_text(project) + (project / "import.json").read_text()
    for text in (result.out, result.err, written):
        for secret in (FIRST_VALUE, SECOND_VALUE, FIRST_VALUE[:3], SECOND_VALUE[:3], CLIENT_SECRET):
            assert secret not in text
    assert portal.secrets[0]["hint"] == SECOND_VALUE[:3]  # the tenant does show a hint; adoption never reads it


def test_audit_finds_no_drift_right_after_adoption(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    (project / "stacks" / "Pulumi.prod.yaml").write_text(
        stack_text(project).replace(
            "    desk-out:", "    desk-out:\n      clientId: " + deployed_desk(live_env, project)
        )
    )
    result = run_cli("-C", project, "audit", "--stack", "prod", "--graph-url", live_env.graph_url, "--format", "json")
    assert result.code == 0, result.out
    assert json.loads(result.out)["apps"]["jira-mail-prod"]["findings"] == []


def deployed_desk(cloud: FakeCloud, project: Path) -> str:
    """Register the stack's other app as pulumi up would have, so that the audit is about the adopted one."""
    from mailoauth.base.tree import WorkTree
    from mailoauth.desired import catalogue
    from mailoauth.project import loader
    from mailoauth.project.context import ProjectContext

    tree = WorkTree(project)
    stack = loader.load_stack(tree, "prod", ProjectContext(catalogue.load(tree), date.fromisoformat(TODAY)))
    return cloud.tenant.deploy_app(stack.apps["desk-out"]).application["appId"]


def test_secrets_report_lists_adopted_slots(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    report = run_cli("-C", project, "secrets", "report", "--within", "240d", "--format", "json")
    assert report.code == 1
    rows = [(s["app"], s["slot"], s["expires"], s["status"], s["action"]) for s in json.loads(report.out)["secrets"]]
    assert rows == [
        ("jira-mail-prod", "secret-2026-12-31", "2026-12-31", "expiring", "retire"),
        ("desk-out", "secret", "2027-03-01", "ok", None),
        ("jira-mail-prod", "secret-2027-05-31", "2027-05-31", "ok", None),
    ]


def test_rotate_and_retire_an_adopted_app(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = portal_app(live_env)
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    rotate = run_cli("-C", project, "secrets", "rotate", "--stack", "prod", "--app", "jira-mail-prod")
    assert rotate.code == 0, rotate.err
    assert rotate.out.splitlines()[1:3] == [
        f"  - jira-mail-prod: removed slot 'secret-2026-12-31' (expires 2026-12-31); it was adopted (keyId "
        f"{portal.secrets[1]['keyId']}), so it stays in Entra ID until you delete it in the portal (Certificates & "
        "secrets) once nothing uses it",
        "  + jira-mail-prod: added slot 'secret-2027-06-01' (expires 2027-06-01)",
    ]
    run = run_adopted(live_env, project, portal, monkeypatch)
    assert run.error is None
    password = run.get(PASSWORD, "jira-mail-prod-secret-2027-06-01")
    assert not password.resource_id  # created, not imported
    assert password.inputs["applicationId"] == f"/applications/{portal.application['id']}"
    assert sorted(r.name for r in run.of_type(PASSWORD)) == ["desk-out-secret", "jira-mail-prod-secret-2027-06-01"]
    assert sorted(run.outputs["clientSecrets"]) == ["desk-out", "jira-mail-prod"]
    assert list(run.outputs["clientSecretSlots"]["jira-mail-prod"]) == ["secret-2027-06-01"]

    retire = run_cli("-C", project, "secrets", "retire", "--stack", "prod", "--app", "jira-mail-prod")
    assert retire.code == 0, retire.err
    assert "removed slot 'secret-2027-05-31' (expires 2027-05-31); it was adopted (keyId " in retire.out
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert entry["secrets"] == [{"name": "secret-2027-06-01", "description": "jira prod", "expires": date(2027, 6, 1)}]


def test_adoption_reads_the_tenant_in_three_round_trips_and_writes_nothing_there(
    live_env: FakeCloud, project: Path, run_cli
) -> None:
    portal = portal_app(live_env)
    tenant_before = json.dumps([live_env.tenant.applications, live_env.tenant.service_principals], sort_keys=True)
    live_env.graph.router.log.clear()
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    assert [(r.method, r.path) for r in live_env.graph.http_requests] == [("POST", "/v1.0/$batch")] * 3
    assert {r.method for r in live_env.graph.calls} == {"GET"}
    assert len(live_env.graph.calls) == 8  # app, its SP, the APIs, grants, settings, SP settings, two owner lists
    assert json.dumps([live_env.tenant.applications, live_env.tenant.service_principals], sort_keys=True) == (
        tenant_before
    )


def test_a_missing_read_permission_is_named(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    portal = portal_app(live_env)
    reader = live_env.add_client(roles=["Application.Read.All"])
    for name, value in live_env.env(reader).items():
        monkeypatch.setenv(name, value)
    before = stack_text(project)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 2
    assert result.err.startswith(
        "error: Microsoft Graph refused GET /oauth2PermissionGrants: 403 Authorization_RequestDenied (Insufficient "
        "privileges to complete the operation.); the signed-in identity lacks the Microsoft Graph permission "
        "DelegatedPermissionGrant.Read.All"
    )
    assert stack_text(project) == before


def test_certificates_are_left_alone_and_said_so(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    portal.application["keyCredentials"] = [
        {"keyId": "1c1c1c1c-0000-4000-8000-000000000001", "type": "AsymmetricX509Cert"}
    ]
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    assert "  note         1 certificate is left alone: pulumi up neither manages nor removes them\n" in result.out


def test_a_wide_audience_with_write_scopes_needs_the_flag(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env)
    portal.application["signInAudience"] = "AzureADMultipleOrgs"
    refused = adopt(run_cli, live_env, project, portal.client_id)
    assert refused.code == 2
    assert refused.err.splitlines()[1] == "(to accept the wide audience, adopt again with --allow-wide-audience)"
    assert "(rule wide-audience-write)" in refused.err
    accepted = adopt(run_cli, live_env, project, portal.client_id, "--allow-wide-audience")
    assert accepted.code == 0, accepted.err
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert (entry["audience"], entry["allowWideAudience"]) == ("multi-tenant", True)


def test_public_client_flows_are_kept_not_refused(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = portal_app(live_env)
    portal.application["isFallbackPublicClient"] = True
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    entry = yaml.safe_load(stack_text(project))["config"]["mailoauth:apps"]["jira-mail-prod"]
    assert entry["allowPublicClientFlows"] is True
    run = run_adopted(live_env, project, portal, monkeypatch)
    assert program_inputs(run, APPLICATION, "jira-mail-prod") == live_inputs(live_env.tenant, portal)[APPLICATION]


def test_listed_deployers_are_the_owners_adopt_compares(live_env: FakeCloud, project: Path, run_cli) -> None:
    """With mailoauth:deployers, the first pulumi up adds the listed deployers, not whoever adopts."""
    ci = "c1c1c1c1-0000-4000-8000-000000000001"
    stack = project / "stacks" / "Pulumi.prod.yaml"
    stack.write_text(
        stack.read_text().replace("  mailoauth:apps:\n", f"  mailoauth:deployers: [{ci}]\n  mailoauth:apps:\n")
    )
    portal = portal_app(live_env, consent=False)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    assert f"  - make {ci} an owner of both (mailoauth:deployers owns every app of the stack)" in result.out
    assert "make the deploying principal an owner" not in result.out


def test_the_order_and_the_left_out_scopes_are_one_line_each(live_env: FakeCloud, project: Path, run_cli) -> None:
    portal = portal_app(live_env, scopes=["offline_access", "openid", "IMAP.AccessAsUser.All", "User.Read"])
    assert adopt(run_cli, live_env, project, portal.client_id).code == 0
    text = stack_text(project)
    assert "      omitScopes: [email, profile]\n" in text
    assert "        permissionOrder: [offline_access, openid, IMAP.AccessAsUser.All, User.Read]\n" in text


def test_notes_and_changes_count_their_nouns(live_env: FakeCloud, project: Path, run_cli) -> None:
    """One left-out scope and two listed deployers: the singular and the plural, never "(s)"."""
    ci, ops = "c1c1c1c1-0000-4000-8000-000000000001", "c1c1c1c1-0000-4000-8000-000000000002"
    stack = project / "stacks" / "Pulumi.prod.yaml"
    stack.write_text(
        stack.read_text().replace("  mailoauth:apps:\n", f"  mailoauth:deployers: [{ci}, {ops}]\n  mailoauth:apps:\n")
    )
    portal = portal_app(live_env, scopes=[s for s in PORTAL_SCOPES if s != "profile"], consent=False)
    result = adopt(run_cli, live_env, project, portal.client_id)
    assert result.code == 0, result.err
    assert f"  - make {ci}, {ops} owners of both (mailoauth:deployers owns every app of the stack)" in result.out
    assert (
        "profile stays out (omitScopes): the registration lacks it, though every app of this project asks for the "
        "general set; delete omitScopes and pulumi up adds it"
    ) in result.out.replace("\n    ", " ")
    assert "(s)" not in result.out
