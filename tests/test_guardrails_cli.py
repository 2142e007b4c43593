"""Each guardrail through the command line: a stack file that passes it and one that fails it.

Three rules cannot fail through a stack file, because the desired state is built from the very
declaration they compare against: delegated-only (the model registers type Scope only),
declared-scopes (permissions are the expansion of the declared sets and scopes) and owners (the
program always adds the deploying principal). Those are tested on hand-built subjects in
test_guardrails_rules.py and on resource inputs in test_guardrails_pack.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.guardrails_support import CALLBACK, TODAY, app, make_project, run_cli, write_stack, write_yaml
from tests.projectcopy import ROOT

APP = "config.mailoauth:apps.jira-test"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def smtp_auth(where: str) -> str:
    """The warning an app whose product use case sends over SMTP gets (examples: dev and prod's outbound app)."""
    return (
        f"warning: {where}.useCases: SMTP AUTH is off in tenants created after January 2020 and can be turned off "
        "per mailbox; sending then fails with 535 5.7.139; check with mailoauth preflight, and enable it for the "
        "mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) or send through Graph (mailoauth explain "
        "5.7.139) (rule smtp-auth)"
    )


DEV_SMTP = smtp_auth("stacks/Pulumi.dev.yaml:12: config.mailoauth:apps.jira-mail-in")
PROD_SMTP = smtp_auth("stacks/Pulumi.prod.yaml:21: config.mailoauth:apps.jira-mail-out")


def validate(capsys: pytest.CaptureFixture[str], root: Path, **settings: object) -> tuple[int, str, str]:
    write_stack(root, "test", {"jira-test": app(**settings)})
    return run_cli(capsys, root, "validate", "--stack", "test")


def problem_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("error:", "warning:"))]


def test_examples_pass_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, ROOT, "validate", "--all")
    assert status == 0
    assert problem_lines(out) == [DEV_SMTP, PROD_SMTP]
    assert out.rstrip().endswith("3 stacks: 3 valid; 0 errors, 2 warnings")


def test_user_read_asked_for_by_name_passes(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, _ = validate(capsys, project, scopes=["User.Read"])
    assert (status, problem_lines(out)) == (0, [])


def test_user_read_added_to_the_always_added_set_fails_every_app(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    write_yaml(
        project / "scopes/sets/general.yaml",
        {"description": "sign-in", "scopes": ["offline_access", "openid", "email", "profile", "User.Read"]},
    )
    status, out, _ = validate(capsys, project)
    assert status == 2
    assert problem_lines(out) == [
        f"error: stacks/Pulumi.test.yaml:10: {APP}.scopeSets: User.Read is registered but the app does not ask for "
        "it (it comes from the portal's default, the always-added 'general' set or a set included by another); add "
        "User.Read to the app's scopes: if it reads the user's profile; otherwise remove it from the set "
        "(rule user-read)"
    ]
    status, out, _ = run_cli(capsys, project, "validate", "--all")
    assert status == 2
    assert "4 stacks: 0 valid; 5 errors, 2 warnings" in out  # dev, prod (two apps), saas, test
    assert sum("(rule user-read)" in line for line in problem_lines(out)) == 5


def test_user_read_in_a_set_the_app_names_passes(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_yaml(project / "scopes/sets/profile.yaml", {"description": "profile", "scopes": ["User.Read"]})
    status, out, _ = validate(capsys, project, scopeSets=["imap", "profile"])
    assert (status, problem_lines(out)) == (0, [])


def test_wide_audience_with_send_needs_acknowledgement(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, _ = validate(capsys, project, audience="multi-tenant", scopeSets=["graph-read"], scopes=["Mail.Send"])
    assert status == 2
    assert problem_lines(out) == [
        f"error: stacks/Pulumi.test.yaml:6: {APP}.audience: a multi-tenant app with write or send scopes "
        "(Mail.ReadWrite, Mail.Send): other tenants can consent to it changing or sending their mail; set "
        "allowWideAudience: true to acknowledge it, or use audience: single-tenant (rule wide-audience-write)"
    ]
    status, out, _ = validate(
        capsys, project, audience="multi-tenant", scopeSets=["graph-read"], scopes=["Mail.Send"], allowWideAudience=True
    )
    assert (status, problem_lines(out)) == (0, [])


def test_wide_audience_read_only_passes_and_personal_is_named(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    status, out, _ = validate(capsys, project, audience="multi-tenant", scopeSets=["graph-read-only"])
    assert (status, problem_lines(out)) == (0, [])
    status, out, _ = validate(capsys, project, audience="personal", scopeSets=["graph-read"])
    assert status == 2
    assert "other tenants' users and personal accounts can consent" in out


def test_secret_max_lifetime_boundary(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    at_limit = {"description": "d", "expires": date(2028, 11, 27)}
    status, out, _ = validate(capsys, project, secret=at_limit)
    assert status == 0  # 24 months exactly: only the advisory
    assert [line.rsplit("(rule ", 1)[1] for line in problem_lines(out)] == ["secret-recommended-lifetime)"]
    status, out, _ = validate(capsys, project, secret={"description": "d", "expires": date(2028, 11, 28)})
    assert status == 2
    assert problem_lines(out)[0] == (
        f"error: stacks/Pulumi.test.yaml:13: {APP}.secret.expires: secret expires 2028-11-28, more than 24 months from "
        "today; expire on 2028-11-27 or earlier; pin an earlier expires date; rotate with two slots (secrets:) "
        "instead of long-lived secrets (rule secret-max-lifetime)"
    )


def test_secret_recommended_lifetime_is_a_warning(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, _ = validate(capsys, project, secret={"description": "d", "expires": date(2027, 11, 27)})
    assert (status, problem_lines(out)) == (0, [])
    slots = [{"description": "old", "expires": date(2027, 1, 31)}, {"description": "new", "expires": date(2027, 12, 1)}]
    status, out, _ = validate(capsys, project, secret=None, secrets=slots)
    assert status == 0
    assert problem_lines(out) == [
        f"warning: stacks/Pulumi.test.yaml:15: {APP}.secrets[1].expires: secret expires 2027-12-01, more than 12 "
        "months from today; expire on 2027-11-27 or earlier; pin an earlier expires date; rotate with two slots "
        "(secrets:) instead of long-lived secrets (rule secret-recommended-lifetime)"
    ]


def test_redirect_https_allows_loopback_only(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    uris = [CALLBACK, "http://localhost:8080/callback", "http://127.0.0.1/callback"]
    status, out, _ = validate(capsys, project, redirectUris=uris)
    assert (status, problem_lines(out)) == (0, [])
    status, out, _ = validate(capsys, project, redirectUris=[CALLBACK, "http://jira-test.example.com/callback"])
    assert status == 2
    assert problem_lines(out) == [
        f"error: stacks/Pulumi.test.yaml:9: {APP}.redirectUris[1]: redirect URI "
        "'http://jira-test.example.com/callback' must use https (http only for localhost or 127.0.0.1); use the "
        "instance's https callback URL (rule redirect-https)"
    ]


def test_redirect_wildcard_fails(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, _ = validate(capsys, project, redirectUris=["https://*.example.com/callback"])
    assert status == 2
    assert problem_lines(out) == [
        f"error: stacks/Pulumi.test.yaml:8: {APP}.redirectUris[0]: redirect URI 'https://*.example.com/callback' has a "
        "wildcard; list each callback URL explicitly (rule redirect-no-wildcard)"
    ]


def test_ews_is_an_advisory_with_the_dates(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, _ = validate(capsys, project, scopeSets=["smtp"])
    assert (status, problem_lines(out)) == (0, [])
    status, out, _ = validate(capsys, project, scopeSets=["graph-send"])
    assert (status, problem_lines(out)) == (0, [])  # Mail.Send alone: sendMail takes MIME, no EWS
    status, out, _ = validate(capsys, project, scopeSets=["ews-send"], allowEws=True)
    assert status == 0
    assert problem_lines(out) == [
        f"warning: stacks/Pulumi.test.yaml:10: {APP}.scopeSets: EWS.AccessAsUser.All (EWS): Exchange Online has "
        "blocked EWS since 2026-10-01 unless the tenant allow-lists the app, and shuts it down on 2027-04-01; send "
        "MIME through Graph sendMail instead (scopeSets: [graph-send], Mail.Send alone) (rule ews-retirement)",
    ]


def test_callback_of_another_stack_fails_in_both(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    prod_callback = "https://jira.example.com/plugins/servlet/oauth2/callback"
    write_stack(project, "test", {"jira-test": app(redirectUris=[prod_callback])})
    status, out, _ = run_cli(capsys, project, "validate", "--all")
    assert status == 2
    assert problem_lines(out) == [
        "error: stacks/Pulumi.prod.yaml:13: config.mailoauth:apps.jira-mail-in.redirectUris[0]: redirect URI "
        f"'{prod_callback}' is also registered by stack test: an instance's callback must belong to one stack; give "
        "each stack its own instance's callback URL (rule unique-callback)",
        PROD_SMTP,
        "error: stacks/Pulumi.prod.yaml:22: config.mailoauth:apps.jira-mail-out.redirectUris[0]: redirect URI "
        f"'{prod_callback}' is also registered by stack test: an instance's callback must belong to one stack; give "
        "each stack its own instance's callback URL (rule unique-callback)",
        f"error: stacks/Pulumi.test.yaml:8: {APP}.redirectUris[0]: redirect URI '{prod_callback}' is also registered "
        "by stack prod: an instance's callback must belong to one stack; give each stack its own instance's callback "
        "URL (rule unique-callback)",
        DEV_SMTP,
    ]


def test_plan_reads_the_other_stack_files(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(
        project,
        "test",
        {"jira-test": app(redirectUris=["https://jira-dev.example.com/plugins/servlet/oauth2/callback"])},
    )
    status, _, err = run_cli(capsys, project, "plan", "--stack", "test")
    assert status == 2
    assert "is also registered by stack dev" in err
    (project / "stacks/Pulumi.dev.yaml").write_text("config: [unclosed\n", encoding="utf-8")
    status, _, err = run_cli(capsys, project, "plan", "--stack", "test")
    assert status == 0, err  # a broken other file is that file's problem, not this plan's


def test_shared_callback_within_one_stack_and_loopback_across_stacks_pass(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    loopback = "http://localhost:8080/callback"
    write_stack(project, "other", {"tool": app(redirectUris=[loopback, "https://tool.example.com/cb"])})
    write_stack(project, "test", {"a": app(redirectUris=[CALLBACK, loopback]), "b": app(redirectUris=[CALLBACK])})
    status, out, _ = run_cli(capsys, project, "validate", "--all")
    assert (status, problem_lines(out)) == (0, [DEV_SMTP, PROD_SMTP])


def test_plan_prints_advisories_and_keeps_them_in_json(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    write_stack(project, "test", {"jira-test": app(scopeSets=["ews-send"], allowEws=True)})
    status, out, err = run_cli(capsys, project, "plan", "--stack", "test")
    assert status == 0
    assert "(rule ews-retirement)" in err
    assert "warning        EWS.AccessAsUser.All (EWS): Exchange Online has blocked EWS since 2026-10-01" in out
    status, out, _ = run_cli(capsys, project, "plan", "--stack", "test", "--format", "json")
    assert json.loads(out)["apps"]["jira-test"]["warnings"] == [
        "EWS.AccessAsUser.All (EWS): Exchange Online has blocked EWS since 2026-10-01 unless the tenant allow-lists "
        "the app, and shuts it down on 2027-04-01",
    ]


def test_every_problem_at_once(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    """A core error elsewhere in the app does not hide the rules' findings, nor the reverse."""
    status, out, _ = validate(capsys, project, scopes=["SMTP.send"], redirectUris=["http://jira-test.example.com/cb"])
    assert status == 2
    assert [line.split(": ", 3)[2:] for line in problem_lines(out)] == [
        [f"{APP}.scopes[0]", "unknown scope 'SMTP.send'; did you mean 'SMTP.Send'?"],
        [
            f"{APP}.redirectUris[0]",
            "redirect URI 'http://jira-test.example.com/cb' must use https (http only for localhost or 127.0.0.1); "
            "use the instance's https callback URL (rule redirect-https)",
        ],
    ]


def test_validate_all_as_a_process_with_json(project: Path) -> None:
    """The PR workflow's call: a real process, the JSON report on stdout, exit status 2 on a mandatory failure."""
    write_stack(project, "test", {"jira-test": app(redirectUris=["http://jira-test.example.com/cb"])})
    done = subprocess.run(
        [sys.executable, "-m", "mailoauth", "-C", str(project), "validate", "--all", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "MAILOAUTH_TODAY": TODAY, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert report["stacks"]["test"] == {"file": "stacks/Pulumi.test.yaml", "ok": False, "errors": 1, "warnings": 0}
    assert report["stacks"]["dev"] == {"file": "stacks/Pulumi.dev.yaml", "ok": True, "errors": 0, "warnings": 1}
    https = next(r for r in report["rules"] if r["id"] == "redirect-https")
    assert (https["level"], https["errors"], https["warnings"]) == ("mandatory", 1, 0)
    assert [r["id"] for r in report["rules"]] == [
        "delegated-only",
        "declared-scopes",
        "user-read",
        "wide-audience-write",
        "secret-max-lifetime",
        "secret-recommended-lifetime",
        "redirect-https",
        "redirect-no-wildcard",
        "owners",
        "ews-retirement",
        "ews-opt-in",
        "personal-token-version",
        "unique-callback",
        "(core checks)",
    ]
    assert [p for p in report["problems"] if p["rule"] != "smtp-auth"] == [
        {
            "severity": "error",
            "file": "stacks/Pulumi.test.yaml",
            "line": 8,
            "path": f"{APP}.redirectUris[0]",
            "message": "redirect URI 'http://jira-test.example.com/cb' must use https (http only for localhost or "
            "127.0.0.1)",
            "value": None,  # the message quotes it
            "hint": "use the instance's https callback URL",
            "rule": "redirect-https",
        }
    ]


def test_validate_and_schema_import_neither_pulumi_nor_msgraph() -> None:
    code = (
        "import sys\n"
        "from mailoauth import cli\n"
        f"assert cli.main(['-C', {str(ROOT)!r}, 'validate', '--all']) == 0\n"
        f"assert cli.main(['-C', {str(ROOT)!r}, 'schema']) == 0\n"
        "heavy = ('pulumi', 'pulumi_azuread', 'pulumi_policy', 'msgraph', 'azure')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "MAILOAUTH_TODAY": TODAY, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "[]"
