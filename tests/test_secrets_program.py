"""Two secret slots under Pulumi mocks: two passwords, the newest exported as a secret, a rotation replaces nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mailoauth.cli import main
from tests.pulumi_harness import fake_id, run_program, secret_value, stack_config
from tests.test_cli import project  # noqa: F401 (fixture)
from tests.test_secrets_rotate import OPS

PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")


def run_text(text: str, stack: str):
    return run_program(stack_config(yaml.safe_load(text)), stack)


def passwords(run, app: str) -> dict[str, dict]:
    return {r.name: r.inputs for r in run.of_type(PASSWORD) if r.name.startswith(f"{app}-")}


def test_two_slots_give_two_passwords_and_the_newest_is_the_client_secret(capfd) -> None:
    run = run_text(OPS, "ops")
    assert run.error is None
    application = f"/applications/{fake_id('object', 'desk-graph')}"
    assert passwords(run, "desk-graph") == {
        "desk-graph-first": {
            "applicationId": application,
            "displayName": "desk-graph",
            "endDate": "2027-01-10T00:00:00Z",
        },
        "desk-graph-second": {
            "applicationId": application,
            "displayName": "desk-graph",
            "endDate": "2027-06-10T00:00:00Z",
        },
    }
    assert run.outputs["clientSecrets"]["desk-graph"] == secret_value("desk-graph-second")
    assert run.outputs["clientSecretSlots"]["desk-graph"] == {
        "first": secret_value("desk-graph-first"),
        "second": secret_value("desk-graph-second"),
    }
    assert run.outputs["apps"]["desk-graph"]["secretExpires"] == "2027-06-10"
    assert run.outputs["apps"]["desk-graph"]["secrets"] == [
        {"name": "first", "expires": "2027-01-10"},
        {"name": "second", "expires": "2027-06-10"},
    ]
    assert run.secret_outputs == {"clientSecrets", "clientSecretSlots"}
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    printed = capfd.readouterr()
    for text in (plain, printed.out, printed.err):
        assert "S3cr3t~" not in text


def test_rotating_a_single_secret_keeps_the_existing_password_as_it_is(project: Path) -> None:  # noqa: F811
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    before = run_text(stack_file.read_text(), "dev")
    assert main(["-C", str(project), "secrets", "rotate", "--stack", "dev", "--app", "jira-mail-in"]) == 0
    after = run_text(stack_file.read_text(), "dev")
    assert after.error is None
    old = passwords(before, "jira-mail-in")
    assert list(old) == ["jira-mail-in-secret"]
    assert passwords(after, "jira-mail-in") == {
        **old,  # same resource name, same inputs: pulumi up keeps the secret the downstream app uses
        "jira-mail-in-secret-2027-11-27": {
            "applicationId": f"/applications/{fake_id('object', 'jira-mail-in')}",
            "displayName": "jira-dev",
            "endDate": "2027-11-27T00:00:00Z",
        },
    }
    assert after.outputs["clientSecrets"] == {"jira-mail-in": secret_value("jira-mail-in-secret-2027-11-27")}
    assert after.outputs["clientSecretSlots"] == {
        "jira-mail-in": {
            "secret": secret_value("jira-mail-in-secret"),
            "secret-2027-11-27": secret_value("jira-mail-in-secret-2027-11-27"),
        }
    }


def test_plan_shows_both_slots_after_a_rotation(project: Path, capsys) -> None:  # noqa: F811
    assert main(["-C", str(project), "secrets", "rotate", "--stack", "dev", "--app", "jira-mail-in"]) == 0
    capsys.readouterr()
    assert main(["-C", str(project), "plan", "--stack", "dev"]) == 0
    out = capsys.readouterr().out
    assert "stack dev: 1 app registration, 1 service principal, 2 client secrets" in out
    assert '    secret         secret: "jira-dev", expires 2027-11-15\n' in out
    assert '    secret         secret-2027-11-27: "jira-dev", expires 2027-11-27\n' in out
    assert main(["-C", str(project), "plan", "--stack", "dev", "--format", "json"]) == 0
    app = json.loads(capsys.readouterr().out)["apps"]["jira-mail-in"]
    assert app["secret"] == {"description": "jira-dev", "expires": "2027-11-27"}
    assert [(s["name"], s["endDate"]) for s in app["secrets"]] == [
        ("secret", "2027-11-15T00:00:00Z"),
        ("secret-2027-11-27", "2027-11-27T00:00:00Z"),
    ]
