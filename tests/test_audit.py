"""`mailoauth audit` against the fake cloud: each kind of drift, throttling, paging and failures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.fakes.cloud import CLIENT_SECRET, OTHER_TENANT_ID, FakeCloud
from tests.fakes.project import CALLBACK, mail_app, write_project
from tests.fakes.tenant import EXCHANGE_APP_ID, GRAPH_APP_ID, GRAPH_SCOPES, FakeTenant

TODAY = "2026-06-01"
SECRET_VALUE = "Qx7~live-secret-value-of-the-mail-app"  # what the tenant holds; Graph shows only "Qx7"
APPS = {
    "mail-in": mail_app("Jira mail handler (inbound)", ["imap"], "jira-in", adminConsent=True),
    "mail-out": mail_app("Jira mail handler (outbound)", ["smtp"], "jira-out"),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)
    return write_project(tmp_path / "project", APPS)


def deploy(cloud: FakeCloud, project: Path):
    from mailoauth.base.tree import WorkTree
    from mailoauth.desired import catalogue
    from mailoauth.project import loader
    from mailoauth.project.context import ProjectContext

    tree = WorkTree(project)
    stack = loader.load_stack(tree, "test", ProjectContext(catalogue.load(tree), date.fromisoformat(TODAY)))
    return cloud.tenant.deploy(stack, {key: SECRET_VALUE for key in stack.apps})


def audit(run_cli, cloud: FakeCloud, project: Path, *extra: str):
    return run_cli("-C", project, "audit", "--stack", "test", "--graph-url", cloud.graph_url, *extra)


def findings(result) -> dict[str, list[tuple[str, str]]]:
    doc = json.loads(result.out)
    return {key: [(f["kind"], f["message"]) for f in app["findings"]] for key, app in doc["apps"].items()}


def test_clean_tenant_exits_0_with_no_drift(live_env: FakeCloud, project: Path, run_cli) -> None:
    deploy(live_env, project)
    result = audit(run_cli, live_env, project)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"audit of stack test (tenant {live_env.tenant.tenant_id}): 2 apps, no drift; "
        f"secrets checked for expiry within 30 days of {TODAY}"
    )
    assert "mail-in: Jira mail handler (inbound) (client id " in result.out
    assert result.out.rstrip().endswith("no drift")


def test_permission_drift_names_the_scope(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    deployed["mail-in"].add_permission(GRAPH_APP_ID, GRAPH_SCOPES["User.Read"])  # the portal's default, added back
    access = deployed["mail-out"].application["requiredResourceAccess"][0]["resourceAccess"]
    access[:] = [a for a in access if a["id"] != GRAPH_SCOPES["SMTP.Send"]]
    deployed["mail-out"].add_permission(EXCHANGE_APP_ID, "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "Role")

    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1
    assert findings(result) == {
        "mail-in": [
            (
                "permission-extra",
                "User.Read (Microsoft Graph, delegated) is requested in the tenant but not in the stack",
            )
        ],
        "mail-out": [
            (
                "permission-extra",
                "full_access_as_app (Office 365 Exchange Online, application) is requested in the tenant but not "
                "in the stack",
            ),
            (
                "permission-missing",
                "SMTP.Send (Microsoft Graph, delegated) is in the stack but not requested in the tenant",
            ),
        ],
    }


def test_audience_and_redirect_uri_drift(live_env: FakeCloud, project: Path, run_cli) -> None:
    app = deploy(live_env, project)["mail-in"].application
    app["signInAudience"] = "AzureADMultipleOrgs"
    app["web"]["redirectUris"] = ["https://evil.example.net/callback"]
    app["spa"]["redirectUris"] = ["https://jira.example.com/spa"]

    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1
    assert findings(result)["mail-in"] == [
        (
            "audience",
            "signInAudience is AzureADMultipleOrgs (multi-tenant) in the tenant; the stack says audience: "
            "single-tenant (AzureADMyOrg)",
        ),
        ("redirect-uri-extra", "web redirect URI https://evil.example.net/callback is registered but not in the stack"),
        (
            "redirect-uri-missing",
            f"web redirect URI {CALLBACK} is in the stack but not registered",
        ),
        (
            "redirect-uri-extra",
            "spa redirect URI https://jira.example.com/spa is registered; the stack registers web redirect URIs only",
        ),
    ]


def test_secret_drift_expired_expiring_and_extra(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    inbound = deployed["mail-in"].application["passwordCredentials"]
    inbound[0]["endDateTime"] = "2026-06-20T00:00:00Z"  # in 19 days, though the stack says 2027-06-30
    extra = FakeTenant.secret("made in the portal", date(2026, 5, 1), "Zz9~another-secret")
    deployed["mail-out"].application["passwordCredentials"].append(extra)

    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1
    key_in = inbound[0]["keyId"]
    assert findings(result) == {
        "mail-in": [
            (
                "secret-expiry",
                f"secret 'jira-in' (keyId {key_in}) expires 2026-06-20 in the tenant; slot 'secret' says 2027-06-30",
            ),
            ("secret-expiring", f"secret 'jira-in' (keyId {key_in}) expires on 2026-06-20, in 19 days"),
        ],
        "mail-out": [
            (
                "secret-extra",
                f"secret 'made in the portal' (keyId {extra['keyId']}), expiring 2026-05-01, is not in the stack",
            ),
        ],
    }
    # --within narrows the window: 19 days is not within 10
    narrow = audit(run_cli, live_env, project, "--format", "json", "--within", "10")
    assert [k for k, _ in findings(narrow)["mail-in"]] == ["secret-expiry"]


def test_expired_and_missing_secret_slots(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    deployed["mail-in"].application["passwordCredentials"][0]["endDateTime"] = "2026-05-31T09:00:00Z"
    deployed["mail-in"].application["passwordCredentials"][0]["displayName"] = "jira-in"
    deployed["mail-out"].application["passwordCredentials"].clear()

    result = audit(run_cli, live_env, project, "--format", "json")
    kinds = {key: [k for k, _ in items] for key, items in findings(result).items()}
    assert kinds == {"mail-in": ["secret-expiry", "secret-expired"], "mail-out": ["secret-missing"]}
    assert findings(result)["mail-out"][0][1] == (
        "secret slot 'secret' (\"jira-out\", expires 2027-06-30) has no secret in the tenant"
    )


def test_admin_consent_absent_present_and_different(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    tenant = live_env.tenant
    tenant.grants.remove(deployed["mail-in"].grants[0])  # stack: adminConsent true
    tenant.add_grant(deployed["mail-out"].service_principal, tenant.graph_sp, ["SMTP.Send", "User.Read"])  # false

    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1
    assert findings(result) == {
        "mail-in": [
            ("consent-missing", "no tenant-wide admin consent for Microsoft Graph (stack: adminConsent: true)"),
        ],
        "mail-out": [
            (
                "consent-extra",
                "tenant-wide admin consent is granted for Microsoft Graph (SMTP.Send User.Read), but the stack has "
                "adminConsent: false",
            ),
        ],
    }
    tenant.add_grant(
        deployed["mail-in"].service_principal, tenant.graph_sp, ["IMAP.AccessAsUser.All", "email", "Mail.Read"]
    )
    again = findings(audit(run_cli, live_env, project, "--format", "json"))
    assert again["mail-in"] == [
        (
            "consent-scopes",
            "admin consent for Microsoft Graph covers IMAP.AccessAsUser.All Mail.Read email; the stack grants "
            "IMAP.AccessAsUser.All email offline_access openid profile (extra: Mail.Read; missing: offline_access "
            "openid profile)",
        )
    ]


def test_missing_and_ambiguous_apps(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    live_env.tenant.applications.remove(deployed["mail-in"].application)
    twin = live_env.tenant.add_application("Jira mail handler (outbound)")

    result = audit(run_cli, live_env, project)
    assert result.code == 1
    assert "mail-in: Jira mail handler (inbound) (not found): 1 finding" in result.out
    assert "no app registration with display name 'Jira mail handler (inbound)' in the tenant" in result.out
    ids = ", ".join([deployed["mail-out"].application["appId"], twin["appId"]])
    assert f"2 registrations are named 'Jira mail handler (outbound)' (client ids {ids})" in result.out


def test_throttling_and_paging_do_not_change_the_result(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    deployed["mail-in"].add_permission(GRAPH_APP_ID, GRAPH_SCOPES["User.Read"])
    for i in range(5):  # namesakes of neither app, so that a page of service principals is short
        live_env.tenant.add_application(f"unrelated {i}")
    live_env.graph.page_size = 1  # every collection answer is paged: the resource APIs, the grants
    live_env.graph.fail(r"POST /v1\.0/\$batch", 429, "Too many requests")  # the whole batch, once
    live_env.graph.fail(r"GET /v1\.0/oauth2PermissionGrants", 503, "busy", batched=True)  # one step, once
    live_env.graph.fail(r"GET /v1\.0/servicePrincipals$", 429, "slow down", batched=False)  # a next page, once

    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1, result.err
    assert findings(result) == {
        "mail-in": [
            (
                "permission-extra",
                "User.Read (Microsoft Graph, delegated) is requested in the tenant but not in the stack",
            )
        ],
        "mail-out": [],
    }
    statuses = [r.path for r in live_env.graph.router.log if r.path.endswith("$batch")]
    assert len(statuses) >= 3  # the throttled batch was sent again, and the 503 step in a batch of its own
    assert any(r.query.get("$skiptoken") for r in live_env.graph.http_requests)


def test_token_error_shows_the_aadsts_message_and_no_secret(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong~" + CLIENT_SECRET)
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("error: sign-in failed (environment): AADSTS7000215: Invalid client secret provided.")
    assert len(result.err.splitlines()) == 1
    assert CLIENT_SECRET not in result.text


def test_injected_conditional_access_block(live_env: FakeCloud, project: Path, run_cli) -> None:
    live_env.login.fail(
        400,
        "invalid_grant",
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    )
    result = audit(run_cli, live_env, project)
    assert (result.code, result.err) == (
        2,
        "error: sign-in failed (environment): AADSTS53003: Access has been blocked by Conditional Access policies. "
        "The access policy does not allow token issuance.\n",
    )


def test_unknown_client_and_tenant(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_ID", "0f0f0f0f-0000-4000-8000-000000000000")
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert (
        "AADSTS700016: Application with identifier '0f0f0f0f-0000-4000-8000-000000000000' was not found in the "
        f"directory '{live_env.tenant.tenant_id}'." in result.err
    )


def test_credentials_for_another_tenant_are_refused(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    other = live_env.add_client(tenant_id=OTHER_TENANT_ID)
    for name, value in live_env.env(other).items():
        monkeypatch.setenv(name, value)
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert result.err == (
        f"error: wrong tenant: the environment credentials signed in to tenant {OTHER_TENANT_ID}, but stack test is "
        f"for tenant {live_env.tenant.tenant_id} (stacks/Pulumi.test.yaml: config.azuread:tenantId); sign in to the "
        f"right tenant (az login --tenant {live_env.tenant.tenant_id}, or AZURE_TENANT_ID) or pick the right stack\n"
    )
    assert not live_env.graph.http_requests  # nothing was read from any tenant


def test_missing_credentials(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name)
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert result.err == (
        "error: no Azure credentials found: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
        "AZURE_FEDERATED_TOKEN_FILE for workload identity), run `az login --tenant "
        f"{live_env.tenant.tenant_id}`, or run where a managed identity is available\n"
    )


def test_missing_graph_permission_is_named(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    deploy(live_env, project)
    reader = live_env.add_client(roles=["Application.Read.All"])
    for name, value in live_env.env(reader).items():
        monkeypatch.setenv(name, value)
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert result.err.startswith(
        "error: Microsoft Graph refused GET /oauth2PermissionGrants: 403 Authorization_RequestDenied (Insufficient "
        "privileges to complete the operation.); the signed-in identity lacks the Microsoft Graph permission "
        "DelegatedPermissionGrant.Read.All; add DelegatedPermissionGrant.Read.All as an application permission"
    )


def test_malformed_json_is_reported(live_env: FakeCloud, project: Path, run_cli) -> None:
    deploy(live_env, project)
    live_env.graph.fail(r"POST /v1\.0/\$batch", 200, b'{"responses": [{"id": "0", "status": 200, "body": {"val')
    result = audit(run_cli, live_env, project)
    assert result.code == 2
    assert result.err.startswith("error: Microsoft Graph sent a malformed response to POST /$batch: ")
    live_env.graph.fail(r"GET /v1\.0/applications", 200, b'{"value": [{"id": ', batched=True)
    step = audit(run_cli, live_env, project)
    assert step.code == 2
    assert step.err.startswith("error: Microsoft Graph sent a malformed response to GET /applications: ")


def test_output_never_contains_secrets_or_tokens(live_env: FakeCloud, project: Path, run_cli) -> None:
    deployed = deploy(live_env, project)
    deployed["mail-in"].application["passwordCredentials"][0]["endDateTime"] = "2026-06-10T00:00:00Z"
    outputs = [audit(run_cli, live_env, project, "--format", fmt).text for fmt in ("text", "json", "markdown")]
    assert all("expires on 2026-06-10" in text for text in outputs)  # the secret was reported on
    for command in ("preflight", "scopes sync"):
        outputs.append(
            run_cli("-C", project, *command.split(), "--stack", "test", "--graph-url", live_env.graph_url).text
        )
    tokens = list(live_env.book.tokens)
    assert len(tokens) == 5  # every run signed in
    for text in outputs:
        assert CLIENT_SECRET not in text
        assert SECRET_VALUE[:3] not in text  # Graph's hint: the first characters of the secret
        assert not any(token in text or token.split(".")[1] in text for token in tokens)


def test_a_stack_whose_secrets_have_expired_is_audited(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly fleet report audits every stack: one whose pinned expiry has passed is the one to flag."""
    deploy(live_env, project)
    monkeypatch.setenv("MAILOAUTH_TODAY", "2027-07-01")  # the stack's slots expire on 2027-06-30
    result = audit(run_cli, live_env, project, "--format", "json")
    assert result.code == 1, result.err
    assert {key: [k for k, _ in items] for key, items in findings(result).items()} == {
        "mail-in": ["secret-expired"],
        "mail-out": ["secret-expired"],
    }
