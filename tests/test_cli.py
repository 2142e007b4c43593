"""`mailoauth plan` and `validate` as a user runs them: output, exit status, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.projectcopy import ROOT, copy_project
from tests.test_program import DEV_CONNECTIONS

SMTP_AUTH_WARNING = (
    "SMTP AUTH is off in tenants created after January 2020 and can be turned off per mailbox; sending then fails "
    "with 535 5.7.139"
)


def mailoauth(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mailoauth", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's data files, safe to break."""
    return copy_project(tmp_path, "Pulumi.yaml", "scopes", "stacks", "products")


def test_plan_json_has_the_documented_shape() -> None:
    result = mailoauth("plan", "--stack", "dev", "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["stack"], doc["tenantId"], doc["cloud"]) == ("dev", "11111111-2222-3333-4444-555555555555", "global")
    app = doc["apps"]["jira-mail-in"]
    assert app["displayName"] == "Jira mail handler (dev)"
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["redirectUris"] == ["https://jira-dev.example.com/plugins/servlet/oauth2/callback"]
    assert app["secret"] == {"description": "jira-dev", "expires": "2027-11-15"}
    assert {
        "resourceAppId": "00000003-0000-0000-c000-000000000000",
        "resource": "Microsoft Graph",
        "value": "SMTP.Send",
        "id": "258f6531-6087-4cc4-bb90-092c5fb3ed3f",
        "type": "Scope",
        "adminConsentRequired": False,
        "access": "send",
    } in app["permissions"]
    assert sorted(p["value"] for p in app["permissions"]) == [
        "IMAP.AccessAsUser.All",
        "SMTP.Send",
        "email",
        "offline_access",
        "openid",
        "profile",
    ]
    assert app["endpoints"]["authorize"] == (
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/authorize"
    )
    assert app["endpoints"]["token"] == (
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token"
    )
    assert app["endpoints"]["adminConsent"].startswith(
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0/adminconsent?client_id={clientId}"
    )
    assert app["warnings"] == [SMTP_AUTH_WARNING]
    assert (app["product"], app["useCases"]) == ("email-this-issue", ["mail-handler-imap", "send-smtp"])
    assert app["derivedFrom"] == {"scopeSets": "product email-this-issue, use cases mail-handler-imap, send-smtp"}
    assert app["endpoints"]["connections"] == DEV_CONNECTIONS


def test_plan_text_reads_like_a_review() -> None:
    result = mailoauth("plan", "--stack", "prod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "stack prod: 2 app registrations, 2 service principals, 2 client secrets, 2 admin "
        "consent grants in tenant 99999999-8888-7777-6666-555555555555 (global)"
    )
    assert "+ jira-mail-in: Jira mail handler (prod, inbound)" in lines
    assert (
        "    permission     IMAP.AccessAsUser.All    652390e4-393a-48de-9484-05f9b1212954  Microsoft Graph, "
        "delegated, user consent, write"
    ) in lines
    assert "    smtp           smtp.office365.com:587 (starttls)" in lines


def test_plan_markdown_leads_with_the_summary() -> None:
    result = mailoauth("plan", "--stack", "saas", "--format", "markdown")
    assert result.stdout.startswith("**stack saas: 1 app registration")
    assert "| `Mail.Send` | Microsoft Graph | `e383f46e-2787-4529-855e-0e479a3ffac0` | user consent | send |" in (
        result.stdout
    )


def test_validate_all_examples() -> None:
    result = mailoauth("validate", "--all")
    assert result.returncode == 0
    assert result.stdout.endswith("\n3 stacks: 3 valid; 0 errors, 2 warnings\n")  # SMTP AUTH, dev and prod


def test_malformed_yaml_names_file_and_line(project: Path) -> None:
    (project / "stacks" / "Pulumi.bad.yaml").write_text("config:\n  mailoauth:apps:\n    a: [unclosed\n  b: 1\n")
    result = mailoauth("plan", "--stack", "bad", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("error: stacks/Pulumi.bad.yaml:4: (file): malformed YAML:")
    assert "Traceback" not in result.stderr


def test_duplicate_key_names_file_and_line(project: Path) -> None:
    text = (
        (project / "stacks" / "Pulumi.dev.yaml")
        .read_text()
        .replace("      audience: single-tenant\n", "      audience: single-tenant\n      audience: multi-tenant\n")
    )
    (project / "stacks" / "Pulumi.dev.yaml").write_text(text)
    result = mailoauth("plan", "--stack", "dev", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "error: stacks/Pulumi.dev.yaml:11: (file): duplicate key: duplicate key 'audience'\n"


def test_validation_errors_carry_line_numbers_and_json(project: Path) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.write_text(
        path.read_text().replace("useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap, send-smpt]")
    )
    result = mailoauth("plan", "--stack", "dev", "--format", "json", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: stacks/Pulumi.dev.yaml:12: config.mailoauth:apps.jira-mail-in.useCases[1]: "
        "Email This Issue has no use case 'send-smpt'; did you mean 'send-smtp'?\n"
    )
    assert json.loads(result.stdout) == {
        "ok": False,
        "problems": [
            {
                "severity": "error",
                "file": "stacks/Pulumi.dev.yaml",
                "line": 12,
                "path": "config.mailoauth:apps.jira-mail-in.useCases[1]",
                "message": "Email This Issue has no use case 'send-smpt'",
                "value": None,
                "hint": "did you mean 'send-smtp'?",
                "rule": None,
            }
        ],
    }


def test_unknown_stack_suggests(project: Path) -> None:
    result = mailoauth("plan", "--stack", "prd", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: stacks/Pulumi.prd.yaml: (file): no stack 'prd' (working tree); did you mean 'prod'?\n"
    )


def test_broken_catalogue_is_reported_before_any_stack(project: Path) -> None:
    path = project / "scopes" / "catalogue.yaml"
    path.write_text(path.read_text().replace("id: 258f6531-6087-4cc4-bb90-092c5fb3ed3f", "id: 258f6531"))
    result = mailoauth("validate", "--all", cwd=project)
    assert result.returncode == 2
    assert (
        result.stderr == "error: scopes/catalogue.yaml:26: resources.graph.scopes.SMTP.Send.id: "
        "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) (got '258f6531')\n"
    )


def test_a_permission_guid_written_twice_in_the_catalogue_is_refused(project: Path) -> None:
    path = project / "scopes" / "catalogue.yaml"
    path.write_text(
        path.read_text().replace("id: 258f6531-6087-4cc4-bb90-092c5fb3ed3f", "id: 652390E4-393a-48de-9484-05f9b1212954")
    )
    result = mailoauth("validate", "--all", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: scopes/catalogue.yaml:26: resources.graph.scopes.SMTP.Send.id: GUID is already used by "
        "'IMAP.AccessAsUser.All' (got '652390e4-393a-48de-9484-05f9b1212954')\n"
    )


def test_scope_set_include_cycle_and_typo(project: Path) -> None:
    (project / "scopes" / "sets" / "ews-send.yaml").write_text(
        "includes: [graph-send-shared]\nscopes: [EWS.AccessAsUser.al]\n"
    )
    (project / "scopes" / "sets" / "graph-send.yaml").write_text("includes: [ews-send]\nscopes: [Mail.Send]\n")
    result = mailoauth("validate", "--all", cwd=project)
    assert result.returncode == 2
    assert (
        "error: scopes/sets/ews-send.yaml:2: scopes[0]: unknown scope 'EWS.AccessAsUser.al'; "
        "did you mean 'EWS.AccessAsUser.All'?"
    ) in result.stderr
    assert (
        "scopes/sets/ews-send.yaml: includes[0]: including 'graph-send-shared' makes a cycle back to 'ews-send'"
        in result.stderr
    )


def loaded_modules(*args: str) -> set[str]:
    """The modules a fresh process holds after `mailoauth ARGS` ran through the console entry point (exit 0)."""
    code = (
        "import sys, contextlib, io\nfrom mailoauth.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(sys.argv[1:]) == 0\n"
        "print('\\n'.join(sys.modules))\n"
    )
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code, "-C", str(ROOT), *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_plan_path_imports_neither_pulumi_nor_msgraph() -> None:
    heavy = ("pulumi", "pulumi_azuread", "msgraph", "azure", "kiota_abstractions", "grpc")
    for args in (["plan", "--stack", "prod", "--format", "json"], ["validate", "--all"]):
        assert sorted(m for m in loaded_modules(*args) if m.split(".")[0] in heavy) == []


def test_provider_secret_in_the_stack_file_is_never_echoed(project: Path) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text().replace(
        "  azuread:environment: global\n", "  azuread:environment: global\n  azuread:clientSecret: Pr0v1der~S3cret\n"
    )
    path.write_text(
        text.replace("useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap, send-smpt]")
    )
    for fmt in ("text", "json", "markdown"):
        result = mailoauth("plan", "--stack", "dev", "--format", fmt, cwd=project)
        assert result.returncode == 2
        assert "Email This Issue has no use case 'send-smpt'" in result.stderr
        assert "Pr0v1der~S3cret" not in result.stdout + result.stderr


def test_a_stack_file_that_is_not_utf8_is_a_clear_error(project: Path) -> None:
    (project / "stacks" / "Pulumi.latin1.yaml").write_bytes(b"config:\n  azuread:tenantId: caf\xe9\n")
    for args in (("plan", "--stack", "latin1"), ("validate", "--all"), ("secrets", "report")):
        result = mailoauth(*args, cwd=project)
        assert result.returncode == 2, args
        assert (
            "error: stacks/Pulumi.latin1.yaml:2: (file): the file is not UTF-8 text (byte 0xe9); save it as UTF-8\n"
        ) in result.stderr + result.stdout, args
        assert "Traceback" not in result.stderr


def test_a_folder_named_like_a_stack_file_is_a_clear_error(project: Path) -> None:
    (project / "stacks" / "Pulumi.folder.yaml").mkdir()
    result = mailoauth("plan", "--stack", "folder", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "error: stacks/Pulumi.folder.yaml: (file): the file is a folder, not a file; remove or rename the folder\n"
    )


MERGED = """\
config:
  azuread:tenantId: 11111111-2222-3333-4444-555555555555
  mailoauth:apps:
    desk-in: &desk
      displayName: Service desk (inbound)
      redirectUris: [https://desk.example.com/oauth2/callback]
      scopeSets: [imap]
      secret: {description: desk, expires: 2027-03-01}
    desk-in-eu:
      <<: *desk
      displayName: Service desk EU (inbound)
      redirectUris: [https://eu.desk.example.com/oauth2/callback]
"""


def test_keys_that_override_a_merge_key_are_not_duplicates(project: Path) -> None:
    (project / "stacks" / "Pulumi.merged.yaml").write_text(MERGED)
    result = mailoauth("plan", "--stack", "merged", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    apps = json.loads(result.stdout)["apps"]
    assert (apps["desk-in-eu"]["displayName"], apps["desk-in-eu"]["redirectUris"]) == (
        "Service desk EU (inbound)",
        ["https://eu.desk.example.com/oauth2/callback"],
    )
    assert apps["desk-in-eu"]["secrets"] == apps["desk-in"]["secrets"]


def test_a_key_twice_beside_a_merge_key_is_still_a_duplicate(project: Path) -> None:
    (project / "stacks" / "Pulumi.merged.yaml").write_text(MERGED + "      displayName: again\n")
    result = mailoauth("plan", "--stack", "merged", cwd=project)
    assert result.returncode == 2
    assert result.stderr == "error: stacks/Pulumi.merged.yaml:13: (file): duplicate key: duplicate key 'displayName'\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2027-02-30", "'2027-02-30' is not a valid date (day is out of range for month)"),
        ("1" * 5000, f"'{'1' * 40}...' is not a valid number (Exceeds the limit (4300 digits) for integer string "),
    ],
    ids=["february-30", "5000-digits"],
)
def test_a_date_or_number_yaml_cannot_build_is_a_clear_error(project: Path, value: str, message: str) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("expires: 2027-11-15", f"expires: {value}"))
    result = mailoauth("plan", "--stack", "dev", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: stacks/Pulumi.dev.yaml:16: (file): invalid value: {message}")
    assert result.stderr.endswith(
        "; fix the value (a date is YYYY-MM-DD with a real day), or quote it if it is meant as text\n"
    )


def test_a_bad_pinned_date_is_a_clear_error() -> None:
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-13-01", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mailoauth", "plan", "--stack", "dev"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "error: MAILOAUTH_TODAY: '2026-13-01' is not a date (YYYY-MM-DD); unset it to use today\n",
    )


def test_outside_a_project_says_so(tmp_path: Path) -> None:
    result = mailoauth("-C", str(tmp_path / "nowhere"), "validate", "--all")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: no mailoauth project at {tmp_path / 'nowhere'} (no Pulumi.yaml there or above); "
        "run it in the project or name it with -C DIR\n"
    )


@pytest.mark.parametrize(("expires", "ok"), [("2027-03-01T00:00:00Z", True), ("2027-03-01T10:30:00Z", False)])
def test_a_midnight_timestamp_is_a_date(project: Path, expires: str, ok: bool) -> None:
    path = project / "stacks" / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("expires: 2027-11-15", f"expires: {expires}"))
    result = mailoauth("plan", "--stack", "dev", "--format", "json", cwd=project)
    if ok:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["apps"]["jira-mail-in"]["secret"]["expires"] == "2027-03-01"
    else:
        assert result.returncode == 2
        assert "secret.expires: expected a date as YYYY-MM-DD (got '2027-03-01T10:30:00+00:00')" in result.stderr
