"""`mailoauth handoff`: the product's form filled from the same desired state plan shows and the program exports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.guardrails_support import make_project, run_cli
from tests.pulumi_harness import ROOT, fake_id, run_program, run_stack_file, secret_value, stack_config
from tests.test_products import PROFILE_STACKS, stack_of

DEV_TENANT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")


def handoff(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    status, out, err = run_cli(capsys, root, "handoff", *args)
    return status, out, err


def outputs_file(tmp_path: Path, outputs: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs), encoding="utf-8")
    return path


def fields(doc: dict[str, Any]) -> dict[str, str | None]:
    return {f["label"]: f["value"] for f in doc["fields"]}


def assert_agrees(doc: dict[str, Any], key: str, outputs: dict[str, Any]) -> None:
    """Every filled field is the stack output it names."""
    deployed = outputs["apps"][key]
    by_source = {
        f"apps.{key}.clientId": deployed["clientId"],
        f"clientSecrets.{key}": outputs["clientSecrets"][key],
        f"apps.{key}.authorizeEndpoint": deployed["authorizeEndpoint"],
        f"apps.{key}.tokenEndpoint": deployed["tokenEndpoint"],
        "azuread:tenantId": deployed["tenantId"],
        **{f"apps.{key}.connections.{p}.scope": c["scope"] for p, c in deployed["connections"].items()},
    }
    for field in doc["fields"]:
        if field["source"] in by_source:
            assert field["value"] == by_source[field["source"]], field
        elif field["source"].endswith("redirectUris (check)"):
            assert field["value"] in deployed["redirectUris"]
        else:
            assert field["source"].endswith("without 'authorize'")
            assert deployed["authorizeEndpoint"] == field["value"] + "authorize"
    assert {p: {k: v for k, v in c.items() if k != "name"} for p, c in doc["connections"].items()} == deployed[
        "connections"
    ]


@pytest.mark.parametrize(
    ("stack", "key"),
    [("dev", "jira-mail-in"), ("prod", "jira-mail-in"), ("prod", "jira-mail-out"), ("saas", "helpdesk")],
)
def test_handoff_of_every_example_is_the_programs_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stack: str, key: str
) -> None:
    run = run_stack_file(stack)
    assert run.error is None
    path = outputs_file(tmp_path, run.outputs)
    status, out, _ = handoff(
        capsys, ROOT, "--stack", stack, "--app", key, "--outputs", str(path), "--show-secret", "--format", "json"
    )
    assert status == 0
    doc = json.loads(out)
    assert_agrees(doc, key, run.outputs)
    assert fields(doc)[doc["fields"][1]["label"]] == secret_value(f"{key}-secret")


@pytest.mark.parametrize("product", sorted(PROFILE_STACKS))
def test_handoff_of_a_stack_per_profile_is_the_programs_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, product: str
) -> None:
    (tmp_path / "project").mkdir()
    project = make_project(tmp_path / "project")
    doc = stack_of(product=product, **PROFILE_STACKS[product])
    (project / "stacks/Pulumi.lab.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    run = run_program(stack_config(doc), "lab", project_dir=project)
    assert run.error is None
    path = outputs_file(tmp_path, run.outputs)
    status, out, _ = handoff(
        capsys, project, "--stack", "lab", "--app", "mail", "--outputs", str(path), "--show-secret", "--format", "json"
    )
    assert status == 0
    handed = json.loads(out)
    assert_agrees(handed, "mail", run.outputs)
    assert handed["product"]["key"] == product


def test_without_outputs_placeholders_name_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = handoff(capsys, ROOT, "--stack", "dev", "--app", "jira-mail-in")
    assert status == 0
    assert out.splitlines()[:9] == [
        "Email This Issue: OAuth2 Client Credentials for app jira-mail-in (stack dev)",
        "",
        "  Client ID               <run `pulumi up`, then `mailoauth handoff --stack dev --app jira-mail-in "
        "--outputs -`>",
        "  Client Secret           <pipe `pulumi stack output --show-secrets --json` into `mailoauth handoff "
        "--stack dev --app jira-mail-in --outputs - --show-secret`>",
        f"  Authorization Endpoint  https://login.microsoftonline.com/{DEV_TENANT}/oauth2/v2.0/authorize",
        f"  Token Endpoint          https://login.microsoftonline.com/{DEV_TENANT}/oauth2/v2.0/token",
        "  Scope (IMAP)            offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
        "  Scope (SMTP)            offline_access https://outlook.office.com/SMTP.Send",
        "  Callback URL            https://jira-dev.example.com/plugins/servlet/oauth2/callback",
    ]
    assert (
        f"\nTenant: {DEV_TENANT}\nCallback URL: must equal what Email This Issue shows: the Callback URL field" in out
    )


def test_the_secret_is_shown_only_when_asked_and_never_when_hidden(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = run_stack_file("dev")
    path = outputs_file(tmp_path, run.outputs)
    secret = secret_value("jira-mail-in-secret")
    for fmt in ("text", "json", "env", "markdown"):
        status, out, err = handoff(
            capsys, ROOT, "--stack", "dev", "--app", "jira-mail-in", "--outputs", str(path), "--format", fmt
        )
        assert status == 0 and secret not in out + err
        assert fake_id("client", "jira-mail-in") in out
    assert (
        "<add --show-secret>"
        in handoff(capsys, ROOT, "--stack", "dev", "--app", "jira-mail-in", "--outputs", str(path))[1]
    )
    hidden = outputs_file(tmp_path, {**run.outputs, "clientSecrets": {"jira-mail-in": "[secret]"}})
    status, out, _ = handoff(
        capsys, ROOT, "--stack", "dev", "--app", "jira-mail-in", "--outputs", str(hidden), "--show-secret"
    )
    assert "[secret]" not in out
    assert "<give `pulumi stack output --show-secrets --json` as --outputs>" in out


def test_env_format_is_shell_assignments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run = run_stack_file("dev")
    path = outputs_file(tmp_path, run.outputs)
    status, out, _ = handoff(
        capsys,
        ROOT,
        "--stack",
        "dev",
        "--app",
        "jira-mail-in",
        "--outputs",
        str(path),
        "--show-secret",
        "--format",
        "env",
    )
    assert status == 0
    assert out.splitlines() == [
        f"CLIENT_ID={fake_id('client', 'jira-mail-in')}",
        f"CLIENT_SECRET='{secret_value('jira-mail-in-secret')}'",  # quoted for the shell
        f"AUTHORIZATION_ENDPOINT=https://login.microsoftonline.com/{DEV_TENANT}/oauth2/v2.0/authorize",
        f"TOKEN_ENDPOINT=https://login.microsoftonline.com/{DEV_TENANT}/oauth2/v2.0/token",
        "SCOPE_IMAP='offline_access https://outlook.office.com/IMAP.AccessAsUser.All'",
        "SCOPE_SMTP='offline_access https://outlook.office.com/SMTP.Send'",
        "CALLBACK_URL=https://jira-dev.example.com/plugins/servlet/oauth2/callback",
        "IMAP_HOST=outlook.office365.com",
        "IMAP_PORT=993",
        "IMAP_SECURITY=tls",
        "SMTP_HOST=smtp.office365.com",
        "SMTP_PORT=587",
        "SMTP_SECURITY=starttls",
    ]


def test_odoo_gets_its_tenant_authority_for_the_system_parameter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    doc = stack_of(product="odoo", **PROFILE_STACKS["odoo"])
    (project / "stacks/Pulumi.lab.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    status, out, _ = handoff(capsys, project, "--stack", "lab", "--app", "mail", "--format", "json")
    assert status == 0
    assert fields(json.loads(out))["System parameter microsoft.outlook.endpoint"] == (
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/"
    )


def test_unknown_app_and_unreadable_outputs_are_clear_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _, err = handoff(capsys, ROOT, "--stack", "dev", "--app", "jira-mail")
    assert (status, err) == (
        2,
        "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps: no app 'jira-mail'; did you mean 'jira-mail-in'? "
        "(apps: jira-mail-in)\n",
    )
    status, _, err = handoff(
        capsys, ROOT, "--stack", "dev", "--app", "jira-mail-in", "--outputs", str(tmp_path / "none.json")
    )
    assert status == 2
    assert "cannot read the outputs" in err


def test_handoff_imports_neither_pulumi_nor_msgraph() -> None:
    code = (
        "import sys\nfrom mailoauth import cli\n"
        f"assert cli.main(['-C', {str(ROOT)!r}, 'handoff', '--stack', 'dev', '--app', 'jira-mail-in']) == 0\n"
        "heavy = ('pulumi', 'pulumi_azuread', 'msgraph', 'azure')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stderr.strip() == "[]"


def test_an_adopted_secret_is_named_not_asked_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    key_id = "0a0b0c0d-1111-4222-8333-444455556666"
    doc = stack_of(product="odoo", **PROFILE_STACKS["odoo"])
    doc["config"]["mailoauth:apps"]["mail"]["secret"]["keyId"] = key_id
    (project / "stacks/Pulumi.lab.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    status, out, _ = handoff(capsys, project, "--stack", "lab", "--app", "mail", "--show-secret", "--format", "json")
    assert status == 0
    assert json.loads(out)["fields"][1] == {
        "label": "Secret",
        "value": None,
        "source": "clientSecrets.mail",
        "fill": f"the secret the product has now (made outside mailoauth, keyId {key_id})",
    }
