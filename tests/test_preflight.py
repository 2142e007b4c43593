"""`mailoauth preflight` against the fake cloud."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailoauth.tenant import preflight as preflight_module
from tests.fakes.cloud import FakeCloud
from tests.fakes.project import mail_app, write_project

APPS = {
    "mail-in": mail_app(
        "Jira mail handler (inbound)",
        ["imap"],
        "jira-in",
        adminConsent=True,
        mailboxes=["support@example.com", "shared@example.com"],
    ),
    "mail-out": mail_app(
        "Jira mail handler (outbound)",
        ["graph-send", "ews-send"],
        "jira-out",
        mailboxes=["support@example.com"],
        allowEws=True,
    ),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-06-01")
    return write_project(tmp_path / "project", APPS)


def healthy(cloud: FakeCloud) -> None:
    cloud.tenant.add_sku("SPE_E3")
    cloud.tenant.add_user("support@example.com", licensed="SPE_E3")
    cloud.tenant.add_user("shared@example.com", licensed=None, enabled=False)


def preflight(run_cli, cloud: FakeCloud, project: Path, *extra: str):
    return run_cli("-C", project, "preflight", "--stack", "test", "--graph-url", cloud.graph_url, *extra)


def table(result) -> list[tuple[str, str, str]]:
    return [(c["status"], c["check"], c["subject"]) for c in json.loads(result.out)["checks"]]


def test_healthy_tenant_passes_with_warnings(live_env: FakeCloud, project: Path, run_cli) -> None:
    healthy(live_env)
    result = preflight(run_cli, live_env, project, "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert table(result) == [
        ("pass", "sign-in", live_env.tenant.tenant_id),
        ("pass", "exchange-plan", "tenant"),
        ("pass", "mailbox", "support@example.com (mail-in, mail-out)"),
        ("warn", "mailbox", "shared@example.com (mail-in)"),
        ("pass", "create-apps", "deployer"),
        ("pass", "admin-consent", "deployer"),
        ("pass", "display-name", "mail-in"),
        ("pass", "display-name", "mail-out"),
        ("warn", "ews", "mail-out"),
    ]
    checks = doc["checks"]
    assert checks[1]["detail"] == "EXCHANGE_S_ENTERPRISE in SPE_E3 (Enabled, plan Success)"
    assert checks[2]["detail"] == "has an Exchange Online licence: EXCHANGE_S_ENTERPRISE via SPE_E3"
    assert checks[4]["detail"] == "the application holds Application.ReadWrite.All"
    assert checks[8]["detail"] == (
        "EWS is blocked from 2026-10-01 unless the tenant allow-lists the app, and shuts down on 2027-04-01"
    )
    assert [r.path for r in live_env.graph.http_requests] == ["/v1.0/$batch"]  # one round trip


def test_failures_each_name_a_fix(live_env: FakeCloud, project: Path, run_cli, monkeypatch) -> None:
    live_env.tenant.add_sku("TEAMS_EXPLORATORY")  # no Exchange Online in it
    live_env.tenant.add_user("support@example.com", licensed="SPE_E3", plan_status="Disabled")
    live_env.tenant.add_application("Jira mail handler (outbound)", app_id="0a1b2c3d-0000-4000-8000-000000000001")
    weak = live_env.add_client(roles=["Application.Read.All", "User.Read.All", "LicenseAssignment.Read.All"])
    for name, value in live_env.env(weak).items():
        monkeypatch.setenv(name, value)

    result = preflight(run_cli, live_env, project)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == (f"preflight of stack test (tenant {live_env.tenant.tenant_id}, global): 2 pass, 2 warn, 5 fail")
    assert lines[2].split() == ["STATUS", "CHECK", "SUBJECT", "DETAIL", "FIX"]
    rows = [re.split(r"\s{2,}", line) for line in lines[3:]]
    grant = "as an application permission (Microsoft Graph) to the signing-in app and grant admin consent"
    assert rows == [
        [
            "pass",
            "sign-in",
            live_env.tenant.tenant_id,
            f"application {weak.client_id} via environment credentials, in the stack's tenant",
        ],
        [
            "fail",
            "exchange-plan",
            "tenant",
            "no subscription in the tenant includes Exchange Online",
            "buy or reactivate a subscription with Exchange Online; without one, mail OAuth fails with obscure errors",
        ],
        [
            "fail",
            "mailbox",
            "support@example.com (mail-in, mail-out)",
            "Exchange Online is not active: EXCHANGE_S_ENTERPRISE via SPE_E3 is Disabled",
            "enable the Exchange Online service plan in the user's licence",
        ],
        [
            "fail",
            "mailbox",
            "shared@example.com (mail-in)",
            "no such user in the tenant",
            "correct the address under mailboxes:, or create the mailbox first",
        ],
        [
            "fail",
            "create-apps",
            "deployer",
            "the application holds neither Application.ReadWrite.OwnedBy nor Application.ReadWrite.All",
            f"add Application.ReadWrite.OwnedBy {grant}",
        ],
        [
            "fail",
            "admin-consent",
            "deployer",
            "adminConsent: true needs DelegatedPermissionGrant.ReadWrite.All, which the application lacks",
            f"add DelegatedPermissionGrant.ReadWrite.All {grant}",
        ],
        ["pass", "display-name", "mail-in", "no registration is named 'Jira mail handler (inbound)' yet"],
        [
            "warn",
            "display-name",
            "mail-out",
            "'Jira mail handler (outbound)' is already registered (client id "
            "0a1b2c3d-0000-4000-8000-000000000001); pulumi up would create another app of that name",
            "set clientId: to manage the existing registration, or rename",
        ],
        [
            "warn",
            "ews",
            "mail-out",
            "EWS is blocked from 2026-10-01 unless the tenant allow-lists the app, and shuts down on 2027-04-01",
            "send MIME through Graph sendMail (scopeSets: [graph-send], Mail.Send alone) instead of EWS",
        ],
    ]


def test_missing_read_permission_fails_only_that_check(live_env: FakeCloud, project: Path, run_cli, monkeypatch):
    healthy(live_env)
    no_licences = live_env.add_client(
        roles=["Application.ReadWrite.All", "User.Read.All", "DelegatedPermissionGrant.ReadWrite.All"]
    )
    for name, value in live_env.env(no_licences).items():
        monkeypatch.setenv(name, value)
    result = preflight(run_cli, live_env, project, "--format", "json")
    assert result.code == 1
    checks = json.loads(result.out)["checks"]
    assert checks[1] == {
        "check": "exchange-plan",
        "subject": "tenant",
        "status": "fail",
        "detail": "cannot check: the signed-in identity lacks LicenseAssignment.Read.All",
        "fix": "add LicenseAssignment.Read.All as an application permission (Microsoft Graph) to the signing-in app "
        "and grant admin consent",
    }
    assert [c["status"] for c in checks[2:]] == ["pass", "warn", "pass", "pass", "pass", "pass", "warn"]


def test_signed_in_user_needs_a_role_or_the_tenant_setting(live_env: FakeCloud, project: Path, run_cli, monkeypatch):
    healthy(live_env)
    admin = live_env.tenant.add_user("admin@example.com")
    live_env.tenant.authorization_policy["defaultUserRolePermissions"]["allowedToCreateApps"] = False
    user = live_env.add_client(
        user_id=admin["id"],
        scopes=("User.Read", "User.Read.All", "Application.Read.All", "LicenseAssignment.Read.All", "Policy.Read.All"),
    )
    for name, value in live_env.env(user).items():
        monkeypatch.setenv(name, value)

    result = preflight(run_cli, live_env, project, "--format", "json")
    checks = {c["check"]: c for c in json.loads(result.out)["checks"]}
    assert checks["create-apps"]["status"] == "fail"
    assert checks["create-apps"]["detail"] == "users may not register applications and the user has no role that may"
    assert checks["admin-consent"]["status"] == "fail"

    live_env.tenant.directory_roles[admin["id"]] = [
        {
            "id": "3f1b0c52-0000-4000-8000-000000000001",
            "displayName": "Cloud Application Administrator",
            "roleTemplateId": "158c047a-c907-4556-b7ef-446551a6b5f7",
        }
    ]
    again = {c["check"]: c for c in json.loads(preflight(run_cli, live_env, project, "--format", "json").out)["checks"]}
    assert again["create-apps"]["status"] == "pass"
    assert again["admin-consent"]["detail"] == "the user holds a directory role that grants admin consent"
    me = [r for r in live_env.graph.calls if r.path.startswith("/v1.0/me/")]
    assert me and me[-1].path == "/v1.0/me/transitiveMemberOf/graph.directoryRole"
    # an OData cast on a directory relationship is an advanced query: Graph answers 400 without these
    assert (me[-1].headers.get("consistencylevel"), me[-1].query.get("$count")) == ("eventual", "true")


def test_markdown_and_smtp_warning(live_env: FakeCloud, project: Path, run_cli, tmp_path: Path) -> None:
    healthy(live_env)
    smtp = dict(APPS["mail-out"], scopeSets=["smtp"])
    write_project(project, {"mail-out": smtp})
    result = preflight(run_cli, live_env, project, "--format", "markdown")
    assert result.code == 0
    assert result.out.startswith("**preflight of stack test")
    assert (
        "| :warning: warn | `smtp-auth` | mail-out | SMTP AUTH is off in tenants created after January 2020"
        in result.out
    )
    assert (
        "Basic authentication for SMTP AUTH is off by default from the end of December 2026 (MC786329): OAuth "
        "(XOAUTH2) is unaffected, clients still sending a password fail"
    ) in result.out


GOV_PLANS = [
    ("e9b4930a-925f-45e2-ac2a-3f7788ca6fdd", "EXCHANGE_S_STANDARD_GOV", "EXCHANGESTANDARD_GOV"),
    ("8c3069c0-ccdb-44be-ab77-986203a67df2", "EXCHANGE_S_ENTERPRISE_GOV", "ENTERPRISEPREMIUM_GOV"),
    ("fc52cc4b-ed7d-472d-bbe7-b081c23ecc56", "EXCHANGE_S_STANDARD_MIDMARKET", "MIDSIZEPACK"),
]


@pytest.mark.parametrize(("plan_id", "plan", "sku"), GOV_PLANS)
def test_government_and_midmarket_exchange_plans_count(plan_id: str, plan: str, sku: str) -> None:
    """GCC, GCC High and DoD tenants license mailboxes with the _GOV plans; midmarket suites with their own."""
    service_plans = [{"servicePlanId": plan_id.upper(), "provisioningStatus": "Success"}]
    tenant = preflight_module.exchange_plan(
        [{"skuPartNumber": sku, "capabilityStatus": "Enabled", "servicePlans": service_plans}]
    )
    assert (tenant.status, tenant.detail) == ("pass", f"{plan} in {sku} (Enabled, plan Success)")
    user = {"id": "u1", "userPrincipalName": "ops@agency.example", "accountEnabled": True}
    box = preflight_module.mailbox(
        "ops@agency.example",
        preflight_module.Mailbox(user, [{"skuPartNumber": sku, "servicePlans": service_plans}]),
        ["in"],
    )
    assert (box.status, box.detail) == ("pass", f"has an Exchange Online licence: {plan} via {sku}")


def test_explain_names_the_basic_auth_retirement_and_its_reply() -> None:
    from mailoauth.verify.explain import explain

    disabled = explain("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled")
    assert disabled is not None
    assert (
        "Basic authentication for SMTP AUTH off by default at the end of December 2026 (MC786329)" in disabled.meaning
    )
    assert "OAuth (XOAUTH2), which mailoauth apps use, is unaffected" in disabled.meaning
    removed = explain("550 5.7.30 Basic authentication is not supported for Client Submission.")
    assert removed is not None and removed.code == "SMTP-550-5.7.30"
    assert removed.reference.startswith("Microsoft 365 Message Center MC786329")
