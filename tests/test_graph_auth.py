"""Sign-in and endpoints: the cloud's hosts and their overrides, each credential of the chain, redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailoauth.base.problems import CommandError
from mailoauth.desired.clouds import clouds
from mailoauth.graph.errors import GraphError, permission_for
from mailoauth.graph.target import resolve
from tests.fakes.cloud import CLIENT_SECRET, FakeCloud
from tests.fakes.project import CALLBACK, mail_app, write_project

TENANT = "5e1f0c9a-3d2b-4c8e-9f7a-6b5d4c3b2a10"


def test_cloud_chooses_hosts_and_overrides_win() -> None:
    gov = resolve(TENANT, clouds()["usgovernmentl4"], env={})
    assert (gov.authority, gov.api_url, gov.scope) == (
        "https://login.microsoftonline.us",
        "https://graph.microsoft.us/v1.0",
        "https://graph.microsoft.us/.default",
    )
    assert gov.microsoft_authority
    stack_hub = resolve(
        TENANT,
        clouds()["global"],
        "https://graph.hub.contoso.local/v1.0/",
        env={"AZURE_AUTHORITY_HOST": "login.hub.contoso.local", "SSL_CERT_FILE": "/etc/ssl/hub.pem"},
    )
    assert (stack_hub.authority, stack_hub.graph_url, stack_hub.ca_bundle) == (
        "https://login.hub.contoso.local",
        "https://graph.hub.contoso.local",
        "/etc/ssl/hub.pem",
    )
    assert not stack_hub.microsoft_authority  # so instance discovery is turned off


def test_plain_http_endpoints_are_refused() -> None:
    with pytest.raises(CommandError) as err:
        resolve(TENANT, clouds()["global"], "http://graph.example.net", env={})
    assert str(err.value) == (
        "--graph-url: 'http://graph.example.net' is not an https URL; Microsoft sign-in and Graph need https"
    )


def test_permission_names_per_request() -> None:
    assert permission_for("GET", "/servicePrincipals/1/oauth2PermissionGrants") == "DelegatedPermissionGrant.Read.All"
    assert permission_for("DELETE", "/oauth2PermissionGrants/abc") == "DelegatedPermissionGrant.ReadWrite.All"
    assert permission_for("PATCH", "/applications/1") == "Application.ReadWrite.All"
    assert permission_for("GET", "/users/a@b.c/licenseDetails") == "User.Read.All"
    assert permission_for("GET", "/print/printers") is None


def test_errors_never_carry_secrets_or_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
    token = "eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl"
    err = GraphError(f"failed with secret {CLIENT_SECRET}\nand header Bearer {token}")
    assert str(err) == "failed with secret [redacted] and header Bearer [redacted token]"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-06-01")
    return write_project(tmp_path / "project", {"mail": mail_app("O'Brien & Co mail", ["imap"])})


def audit_json(run_cli, cloud: FakeCloud, project: Path, *extra: str):
    result = run_cli(
        "-C", project, "audit", "--stack", "test", "--graph-url", cloud.graph_url, "--format", "json", *extra
    )
    return result, (json.loads(result.out) if result.out else None)


def test_managed_identity_from_the_instance_metadata_endpoint(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch
) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    live_env.login.managed_identity = live_env.client
    result, doc = audit_json(run_cli, live_env, project)
    assert result.code == 1, result.err  # signed in; the app is simply not there yet
    assert doc["apps"]["mail"]["findings"][0]["kind"] == "app-missing"
    assert [r.path for r in live_env.login_router.log][-1] == "/metadata/identity/oauth2/token"


def test_an_unavailable_choice_says_so(live_env: FakeCloud, project: Path, run_cli) -> None:
    result, _ = audit_json(run_cli, live_env, project, "--credential", "azure-cli")
    assert (result.code, result.err) == (
        2,
        "error: no Azure credentials: the azure-cli credential is not available here (see docs/live-checks.md)\n",
    )


def test_the_deploy_service_principal_from_arm_variables(
    live_env: FakeCloud, project: Path, run_cli, monkeypatch
) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("ARM_TENANT_ID", live_env.client.tenant_id)
    monkeypatch.setenv("ARM_CLIENT_ID", live_env.client.client_id)
    monkeypatch.setenv("ARM_CLIENT_SECRET", live_env.client.secret)
    app = live_env.tenant.add_application("O'Brien & Co mail", audience="AzureADMyOrg", redirect_uris=[CALLBACK])
    result, doc = audit_json(run_cli, live_env, project)
    assert doc["apps"]["mail"]["clientId"] == app["appId"]  # found by a display name with a quote in it
    filters = [r.query.get("$filter") for r in live_env.graph.calls if r.path == "/v1.0/applications"]
    assert filters == ["displayName in ('O''Brien & Co mail')"]
    assert CLIENT_SECRET not in result.text
