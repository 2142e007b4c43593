"""`--app` means the same in every command: without it the stack's only app; with several apps, or a key
that is not there, exit 2 with the stack's app keys (and a suggestion for a typo) and nothing done."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailoauth import cli
from tests.projectcopy import copy_project

PROD = "stacks/Pulumi.prod.yaml"
KEYS = "(apps: jira-mail-in, jira-mail-out)"
# command words before --stack, and what the command adds to the message (it changed nothing)
COMMANDS = {
    "secrets rotate": (["secrets", "rotate"], "; the file was not changed"),
    "secrets retire": (["secrets", "retire"], "; the file was not changed"),
    "verify": (["verify"], ""),
    "handoff": (["handoff"], ""),
    "explain": (["explain", "AADSTS50011"], ""),
    "consent revoke": (["consent", "revoke", "--all", "--yes"], "; nothing was revoked"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


def run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    status = cli.main(["-C", str(project), *args])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys: pytest.CaptureFixture[str], project: Path, name: str, *app: str) -> str:
    """Run the command on prod (two apps): exit 2, nothing on stdout, the stack file untouched; its stderr."""
    before = (project / PROD).read_text()
    status, out, err = run(capsys, project, *COMMANDS[name][0], "--stack", "prod", *app)
    assert (status, out) == (2, "")
    assert (project / PROD).read_text() == before
    return err


@pytest.mark.parametrize("name", COMMANDS)
def test_several_apps_without_app_is_refused_with_the_keys(
    name: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = COMMANDS[name][1]
    assert refused(capsys, project, name) == (
        f"error: {PROD}: stack prod has 2 apps; choose one with --app {KEYS}{note}\n"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_misspelt_app_gets_a_suggestion_and_the_keys(
    name: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    note = COMMANDS[name][1]
    assert refused(capsys, project, name, "--app", "jira-mail-ot") == (
        f"error: {PROD}: config.mailoauth:apps: no app 'jira-mail-ot'; did you mean 'jira-mail-out'? {KEYS}{note}\n"
    )
    assert refused(capsys, project, name, "--app", "billing") == (
        f"error: {PROD}: config.mailoauth:apps: no app 'billing' {KEYS}{note}\n"
    )


def test_consent_list_names_a_misspelt_app(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, project, "consent", "list", "--stack", "prod", "--app", "jira-mail-ot") == (
        2,
        "",
        f"error: {PROD}: config.mailoauth:apps: no app 'jira-mail-ot'; did you mean 'jira-mail-out'? {KEYS}\n",
    )


def test_handoff_picks_the_only_app(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, project, "handoff", "--stack", "dev")
    assert (status, err) == (0, "")
    assert out == run(capsys, project, "handoff", "--stack", "dev", "--app", "jira-mail-in")[1]
    assert "mailoauth handoff --stack dev --app jira-mail-in" in out


def test_secrets_rotate_picks_the_only_app(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, project, "secrets", "rotate", "--stack", "dev")
    assert (status, err) == (0, "")
    assert "then run `mailoauth secrets retire --stack dev --app jira-mail-in`" in out


def test_verify_without_app_checks_the_only_app(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The app is resolved before anything else: a protocol the only app lacks is reported for that app."""
    status, _, err = run(capsys, project, "verify", "--stack", "dev", "--protocol", "graph")
    assert status == 2
    assert err.startswith("error: stacks/Pulumi.dev.yaml: app jira-mail-in has no graph scope")
