"""`mailoauth verify` and `mailoauth explain` as a user runs them: a separate process, $BROWSER, stdin, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.projectcopy import ROOT
from tests.verify_world import SECRET, USER, World


def run_cli(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailoauth", *args],
        input=stdin,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_real_process_with_browser_prints_no_token_code_or_secret(world: World) -> None:
    """Everything the process writes, on both streams, is searched for every credential the fake handed out."""
    args = [a for a in world.args("helpdesk") if a not in ("--format", "json")]
    browser = {
        "BROWSER": f"{sys.executable} -m tests.fakes.browser %s",
        "FAKE_BROWSER_COOKIE": world.cloud.signin.session(world.account),
    }
    result = run_cli([*args, "--outputs", "-"], json.dumps(world.outputs()), browser)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "result: all steps passed" in result.stdout
    assert f"IMAP             PASS    AUTHENTICATE XOAUTH2 as {USER}; SELECT INBOX: 3 messages" in result.stdout
    issued = world.cloud.signin.issued
    assert len(issued) >= 4  # code, two access tokens, refresh tokens
    shown = result.stdout + result.stderr
    assert [v for v in [*issued, SECRET] if v in shown] == []


def test_secret_on_the_command_line_is_not_an_option(world: World) -> None:
    result = run_cli([*world.args("helpdesk"), "--client-secret", SECRET])
    assert result.returncode == 2
    assert "unrecognized arguments: --client-secret" in result.stderr


def test_explain_in_project_terms(world: World) -> None:
    result = run_cli(
        [
            "-C",
            str(world.project),
            "explain",
            "535",
            "5.7.139",
            "Authentication",
            "unsuccessful",
            "--stack",
            "verify",
            "--app",
            "kiosk",
        ]
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "SMTP-535-5.7.139"
    assert lines[2].startswith("  fix:    In Exchange Online PowerShell: Set-CASMailbox -Identity <mailbox> ")
    source = "learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission"
    assert lines[3] == f"  source: {source}"


def test_explain_json_and_unknown_codes() -> None:
    found = run_cli(
        ["explain", "invalid_grant: AADSTS65001: The user or administrator has not consented", "--format", "json"]
    )
    assert found.returncode == 0
    doc = json.loads(found.stdout)
    assert doc["explanation"]["code"] == "AADSTS65001"
    assert "`adminConsent: true` under `mailoauth:apps.<key>` in <file>" in doc["explanation"]["fix"]
    unknown = run_cli(["explain", "AADSTS12345"])
    assert unknown.returncode == 1
    assert unknown.stdout.startswith("no explanation for 'AADSTS12345'; known codes: AADSTS65001, AADSTS65004,")
    only = run_cli(["explain", "aadsts50011", "--stack", "dev"])  # dev has one app: it is the one meant
    assert only.returncode == 0
    assert "`redirectUris` under `mailoauth:apps.jira-mail-in` in stacks/Pulumi.dev.yaml" in only.stdout
    two = run_cli(["explain", "50011", "--stack", "prod"])
    assert two.returncode == 2 and two.stderr == (
        "error: stacks/Pulumi.prod.yaml: stack prod has 2 apps; choose one with --app "
        "(apps: jira-mail-in, jira-mail-out)\n"
    )
    lone = run_cli(["explain", "7000215", "--app", "jira-mail-in"])
    assert lone.returncode == 2
    assert lone.stderr == "error: --app needs --stack (the app key is looked up in that stack)\n"
