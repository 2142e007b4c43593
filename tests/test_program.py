"""The real __main__.py under Pulumi mocks: every resource's inputs and every stack output."""

from __future__ import annotations

import json

import pytest

from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan
from tests.projectcopy import ROOT
from tests.pulumi_harness import DEPLOYER, assert_program_matches_plan, fake_id, run_stack_file, secret_value

APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
GRAPH = "00000003-0000-0000-c000-000000000000"
GENERAL = {  # offline_access, openid, email, profile
    "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "37f7f235-527c-4136-accd-4a02d197296e",
    "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "14dad69e-099b-42c9-810b-d002981feec1",
}
DEV_CONNECTIONS = {  # apps.jira-mail-in.connections of the dev example: one labelled scope per connection
    "imap": {
        "scope": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
        "host": "outlook.office365.com",
        "port": 993,
        "security": "tls",
    },
    "smtp": {
        "scope": "offline_access https://outlook.office.com/SMTP.Send",
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
    },
}
IMAP, SMTP = "652390e4-393a-48de-9484-05f9b1212954", "258f6531-6087-4cc4-bb90-092c5fb3ed3f"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")


def scope_ids(app_inputs: dict) -> dict[str, list[str]]:
    return {
        r["resourceAppId"]: [a["id"] for a in r["resourceAccesses"]] for r in app_inputs["requiredResourceAccesses"]
    }


def test_dev_registers_one_app_with_imap_smtp_and_no_user_read() -> None:
    run = run_stack_file("dev")
    assert run.error is None
    assert sorted((r.typ, r.name) for r in run.resources if r.typ.startswith("azuread")) == [
        (APP, "jira-mail-in"),
        (PASSWORD, "jira-mail-in-secret"),
        (SP, "jira-mail-in-sp"),
    ]
    app = run.get(APP, "jira-mail-in").inputs
    assert app["displayName"] == "Jira mail handler (dev)"
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["web"] == {"redirectUris": ["https://jira-dev.example.com/plugins/servlet/oauth2/callback"]}
    assert app["owners"] == [DEPLOYER]
    ids = scope_ids(app)
    assert list(ids) == [GRAPH]
    assert set(ids[GRAPH]) == GENERAL | {IMAP, SMTP}
    assert "e1fe6dd8-ba31-4d61-89e7-88639da4683d" not in ids[GRAPH]  # User.Read is never added by default
    assert ids[GRAPH] == sorted(ids[GRAPH]), "resource accesses must be emitted in a stable order"
    assert all(a["type"] == "Scope" for r in app["requiredResourceAccesses"] for a in r["resourceAccesses"])


def test_password_is_pinned_and_bound_to_the_application_resource_id() -> None:
    run = run_stack_file("dev")
    password = run.get(PASSWORD, "jira-mail-in-secret").inputs
    object_id = fake_id("object", "jira-mail-in")
    assert password == {
        "applicationId": f"/applications/{object_id}",
        "displayName": "jira-dev",
        "endDate": "2027-11-15T00:00:00Z",
    }
    assert run.get(SP, "jira-mail-in-sp").inputs == {
        "clientId": fake_id("client", "jira-mail-in"),
        "owners": [DEPLOYER],
    }


def test_dev_outputs_are_exact_and_the_secret_is_a_pulumi_secret() -> None:
    run = run_stack_file("dev")
    client_id = fake_id("client", "jira-mail-in")
    tenant = "11111111-2222-3333-4444-555555555555"
    assert run.outputs["apps"] == {
        "jira-mail-in": {
            "clientId": client_id,
            "tenantId": tenant,
            "authorizeEndpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
            "tokenEndpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
            "adminConsentUrl": f"https://login.microsoftonline.com/{tenant}/v2.0/adminconsent?client_id={client_id}"
            "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
            "&redirect_uri=https%3A%2F%2Fjira-dev.example.com%2Fplugins%2Fservlet%2Foauth2%2Fcallback",
            "scope": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
            "scopeRequests": {
                "outlook": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
                "https://outlook.office.com/SMTP.Send"
            },
            "mail": {
                "imap": {"host": "outlook.office365.com", "port": 993, "security": "tls"},
                "smtp": {"host": "smtp.office365.com", "port": 587, "security": "starttls"},
            },
            "connections": DEV_CONNECTIONS,
            "redirectUris": ["https://jira-dev.example.com/plugins/servlet/oauth2/callback"],
            "secretExpires": "2027-11-15",
            "secrets": [{"name": "secret", "expires": "2027-11-15"}],
        }
    }
    assert run.outputs["clientSecrets"] == {"jira-mail-in": secret_value("jira-mail-in-secret")}
    assert run.outputs["clientSecretSlots"] == {"jira-mail-in": {"secret": secret_value("jira-mail-in-secret")}}
    assert run.secret_outputs == {"clientSecrets", "clientSecretSlots"}


@pytest.mark.parametrize("stack", ["dev", "prod", "saas"])
def test_no_secret_value_leaks_into_plain_outputs(stack: str) -> None:
    run = run_stack_file(stack)
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    assert "S3cr3t~" not in plain
    assert set(run.outputs) - run.secret_outputs == {"apps"}


def test_prod_grants_admin_consent_against_the_looked_up_graph_principal() -> None:
    run = run_stack_file("prod")
    assert run.error is None
    assert not run.of_type(SP) or all(r.name.endswith("-sp") for r in run.of_type(SP)), "Graph's SP is never managed"
    assert ("azuread:index/getServicePrincipal:getServicePrincipal", {"clientId": GRAPH}) in run.calls
    grants = {r.name: r.inputs for r in run.of_type(GRANT)}
    graph_sp = fake_id("sp", GRAPH)
    assert grants == {
        "jira-mail-in-consent-graph": {
            "servicePrincipalObjectId": fake_id("object", "jira-mail-in-sp"),
            "resourceServicePrincipalObjectId": graph_sp,
            "claimValues": ["IMAP.AccessAsUser.All", "email", "offline_access", "openid", "profile"],
        },
        "jira-mail-out-consent-graph": {
            "servicePrincipalObjectId": fake_id("object", "jira-mail-out-sp"),
            "resourceServicePrincipalObjectId": graph_sp,
            "claimValues": ["SMTP.Send", "email", "offline_access", "openid", "profile"],
        },
    }
    assert set(scope_ids(run.get(APP, "jira-mail-in").inputs)[GRAPH]) == GENERAL | {IMAP}
    assert set(scope_ids(run.get(APP, "jira-mail-out").inputs)[GRAPH]) == GENERAL | {SMTP}


def test_saas_is_multi_tenant_with_organizations_endpoints() -> None:
    run = run_stack_file("saas")
    app = run.get(APP, "helpdesk").inputs
    assert app["signInAudience"] == "AzureADMultipleOrgs"
    assert app["web"]["redirectUris"] == [
        "https://app.helpdesk.example/oauth2/callback",
        "https://eu.helpdesk.example/oauth2/callback",
    ]
    out = run.outputs["apps"]["helpdesk"]
    assert out["authorizeEndpoint"] == "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
    assert out["tokenEndpoint"] == "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
    assert out["adminConsentUrl"].startswith("https://login.microsoftonline.com/organizations/v2.0/adminconsent?")
    assert out["mail"] == {"graph": {"url": "https://graph.microsoft.com/v1.0"}}
    assert not run.of_type(GRANT)
    assert not any(token.endswith("getServicePrincipal") for token, _ in run.calls)


@pytest.mark.parametrize("stack", ["dev", "prod", "saas"])
def test_program_registers_exactly_what_plan_shows(stack: str) -> None:
    tree = WorkTree(ROOT)
    doc = plan.plan_document(loader.load_stack(tree, stack, ProjectContext(catalogue.load(tree))))
    assert_program_matches_plan(run_stack_file(stack), doc)


def test_wrong_tenant_registers_nothing() -> None:
    run = run_stack_file("prod", tenant_id="12345678-1234-1234-1234-123456789abc")
    assert run.error is not None
    message = str(run.error)
    assert "credentials are for tenant 12345678-1234-1234-1234-123456789abc" in message
    assert "this stack is for tenant 99999999-8888-7777-6666-555555555555" in message
    assert [r for r in run.resources if r.typ.startswith("azuread")] == []


def test_invalid_config_fails_with_the_plan_messages_before_registering(tmp_path) -> None:
    from tests.pulumi_harness import run_program

    config = {
        "azuread:tenantId": "not-a-guid",
        "mailoauth:apps": json.dumps(
            {
                "x": {
                    "displayName": "X",
                    "redirectUris": ["http://example.com/cb"],
                    "scopeSets": ["imapp"],
                    "secret": {"description": "d", "expires": "2027-01-01"},
                }
            }
        ),
    }
    run = run_program(config, "dev", tenant_id="11111111-2222-3333-4444-555555555555")
    message = str(run.error)
    assert "stacks/Pulumi.dev.yaml: config.azuread:tenantId: must be a GUID" in message
    assert "config.mailoauth:apps.x.scopeSets[0]: unknown scope set 'imapp'; did you mean 'imap'?" in message
    assert "config.mailoauth:apps.x.redirectUris[0]: redirect URI 'http://example.com/cb' must use https" in message
    assert run.resources == [] and run.calls == []


def test_provider_secrets_in_config_never_reach_the_error() -> None:
    from tests.pulumi_harness import run_program

    config = {
        "azuread:tenantId": "11111111-2222-3333-4444-555555555555",
        "azuread:clientSecret": "Pr0v1der~S3cret",
        "mailoauth:apps": json.dumps(
            {
                "x": {
                    "displayName": "X",
                    "redirectUris": ["https://x.example.com/cb"],
                    "scopes": ["Mail.Sned"],
                    "secret": {"description": "Pr0v1der", "expires": "2027-01-01"},
                }
            }
        ),
    }
    run = run_program(config, "dev")
    assert "unknown scope 'Mail.Sned'; did you mean 'Mail.Send'?" in str(run.error)
    assert "Pr0v1der~S3cret" not in str(run.error)
