"""`mailoauth secrets rotate` and `retire` as a user runs them: the exact edit, and the file untouched on errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailoauth.base.tree import WorkTree
from mailoauth.cli import main
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from tests.projectcopy import ROOT
from tests.test_cli import MERGED, project  # noqa: F401 (fixture)

OPS = """\
# Operations stack: every comment here must survive a rotation.
config:
  azuread:tenantId: 11111111-2222-3333-4444-555555555555   # ops tenant
  mailoauth:apps:
    # Inbound mail for the service desk.
    desk-in:
      displayName: "Service desk (inbound)"
      redirectUris:
        - https://desk.example.com/oauth2/callback   # instance callback
      scopeSets: [imap]
      secret: {description: desk-in, expires: 2026-12-20}  # made in the portal days
      # consent is left to each mailbox owner
      adminConsent: false

    # Outbound mail.
    desk-out:
      displayName: 'Service desk (outbound)'
      redirectUris: [https://desk.example.com/oauth2/callback]
      scopeSets: [smtp]
      secret:
        description: desk-out   # label in the portal
        expires: 2027-03-01
      # comment after the secret block
    # comment before the last app
    desk-graph:
      displayName: Service desk (Graph)
      redirectUris: [https://desk.example.com/oauth2/callback]
      scopeSets: [graph-read]
      secrets:
        - name: first
          description: desk-graph
          expires: 2027-01-10
        - {name: second, description: desk-graph, expires: 2027-06-10}
# end of file
"""
DESK_IN = "      secret: {description: desk-in, expires: 2026-12-20}  # made in the portal days\n"
DESK_OUT = "      secret:\n        description: desk-out   # label in the portal\n        expires: 2027-03-01\n"
DESK_GRAPH = (
    "        - name: first\n"
    "          description: desk-graph\n"
    "          expires: 2027-01-10\n"
    "        - {name: second, description: desk-graph, expires: 2027-06-10}\n"
)
STACK_FILES = ["Pulumi.dev.yaml", "Pulumi.ops.yaml", "Pulumi.prod.yaml", "Pulumi.saas.yaml"]


@pytest.fixture
def ops(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """The project copy with the commented ops stack; today pinned to 2026-11-27."""
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")
    path = project / "stacks" / "Pulumi.ops.yaml"
    path.write_text(OPS)
    return path


def secrets_cmd(path: Path, *args: str) -> int:
    return main(["-C", str(path.parent.parent), "secrets", *args])


def slots(path: Path, app: str) -> list[tuple[str, str]]:
    tree = WorkTree(path.parent.parent)
    stack = loader.load_stack(tree, "ops", ProjectContext(catalogue.load(tree), check_expiry=False))
    return [(s.name, s.expires.isoformat()) for s in stack.apps[app].secrets]


def test_rotating_a_single_secret_keeps_its_name_and_every_other_byte(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    rotated = (
        "      secrets:\n"
        "        - {name: secret, description: desk-in, expires: 2026-12-20} # made in the portal days\n"
        "        - {name: secret-2027-11-27, description: desk-in, expires: 2027-11-27}\n"
    )
    assert ops.read_text() == OPS.replace(DESK_IN, rotated)
    assert slots(ops, "desk-in") == [("secret", "2026-12-20"), ("secret-2027-11-27", "2027-11-27")]
    out = capsys.readouterr().out
    assert "+ desk-in: added slot 'secret-2027-11-27' (expires 2027-11-27)" in out
    assert out.splitlines()[-1] == (
        "next: open a pull request; after pulumi up, switch the downstream app to "
        "clientSecretSlots.desk-in.secret-2027-11-27 (pulumi stack output clientSecretSlots --show-secrets), "
        "then run `mailoauth secrets retire --stack ops --app desk-in`"
    )


def test_a_block_secret_becomes_a_block_list_and_the_comments_after_it_stay(ops: Path) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-out", "--lifetime", "6m") == 0
    rotated = (
        "      secrets:\n"
        "        - name: secret\n"
        "          description: desk-out # label in the portal\n"
        "          expires: 2027-03-01\n"
        "        - name: secret-2027-05-27\n"
        "          description: desk-out\n"
        "          expires: 2027-05-27\n"
    )
    assert ops.read_text() == OPS.replace(DESK_OUT, rotated)


def test_rotating_two_valid_slots_is_refused_because_the_handler_may_use_the_oldest(ops: Path, capsys) -> None:
    before = ops.read_text()
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-graph", "--lifetime", "2y") == 2
    assert ops.read_text() == before
    assert capsys.readouterr().err == (
        "error: stacks/Pulumi.ops.yaml: app desk-graph already has 2 valid secret slots, and a new one would remove "
        "'first' (expires 2027-01-10, 44 days left), which the mail handler may still use; once it uses 'second', "
        "run `mailoauth secrets retire` first, or pass --drop-oldest to remove it in this rotation; "
        "the file was not changed\n"
    )


def test_drop_oldest_removes_the_oldest_valid_slot(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-graph", "--lifetime", "1y", "--drop-oldest") == 0
    rotated = (
        "        - {name: second, description: desk-graph, expires: 2027-06-10}\n"
        "        - {name: secret-2027-11-27, description: desk-graph, expires: 2027-11-27}\n"
    )
    assert ops.read_text() == OPS.replace(DESK_GRAPH, rotated)
    assert "- desk-graph: removed slot 'first' (expires 2027-01-10)" in capsys.readouterr().out


def test_second_rotation_needs_retire_first_and_keeps_names_stable(ops: Path, monkeypatch) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-12-01")
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", "--lifetime", "2y") == 2
    assert secrets_cmd(ops, "retire", "--stack", "ops", "--app", "desk-in") == 0
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    assert slots(ops, "desk-in") == [("secret-2027-11-27", "2027-11-27"), ("secret-2027-12-01", "2027-12-01")]
    rotated = (
        "      secrets:\n"
        "        - {name: secret-2027-11-27, description: desk-in, expires: 2027-11-27}\n"
        "        - {name: secret-2027-12-01, description: desk-in, expires: 2027-12-01}\n"
    )
    assert ops.read_text() == OPS.replace(DESK_IN, rotated)


def outputs_file(tmp: Path, given: str) -> str:
    """Stack outputs where clientSecrets.desk-graph (what the downstream app was handed) is slot `given`."""
    values = {"first": "value-of-first", "second": "value-of-second"}
    doc = {"clientSecrets": {"desk-graph": values[given]}, "clientSecretSlots": {"desk-graph": values}}
    path = tmp / "outputs.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_outputs_name_the_slot_the_downstream_app_was_given(ops: Path, capsys, tmp_path: Path) -> None:
    args = ["--stack", "ops", "--app", "desk-graph", "--drop-oldest", "--outputs", outputs_file(tmp_path, "second")]
    assert secrets_cmd(ops, "rotate", *args) == 0
    out = capsys.readouterr().out
    assert "the downstream app was given slot 'second' (clientSecrets.desk-graph in the outputs)" in out
    assert "value-of" not in out


def test_retire_refuses_to_remove_the_slot_the_downstream_app_still_uses(ops: Path, capsys, tmp_path: Path) -> None:
    before = ops.read_text()
    args = ["--stack", "ops", "--app", "desk-graph", "--outputs", outputs_file(tmp_path, "first")]
    assert secrets_cmd(ops, "retire", *args) == 2
    assert ops.read_text() == before
    assert "slot 'first' is the one the downstream app was given" in capsys.readouterr().err
    assert (
        secrets_cmd(
            ops, "retire", "--stack", "ops", "--app", "desk-graph", "--outputs", outputs_file(tmp_path, "second")
        )
        == 0
    )
    assert slots(ops, "desk-graph") == [("second", "2027-06-10")]


def test_drop_oldest_refuses_to_remove_the_slot_the_downstream_app_uses(ops: Path, capsys, tmp_path: Path) -> None:
    before = ops.read_text()
    args = ["--stack", "ops", "--app", "desk-graph", "--drop-oldest", "--outputs", outputs_file(tmp_path, "first")]
    assert secrets_cmd(ops, "rotate", *args) == 2
    assert ops.read_text() == before
    err = capsys.readouterr().err
    assert "slot 'first' is the one the downstream app was given (clientSecrets.desk-graph in the outputs)" in err
    assert "value-of" not in err


def test_an_expired_slot_is_dropped_even_when_it_is_the_only_one(ops: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-12-20")  # desk-in's secret expires at 00:00 UTC today
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", "--lifetime", "90d") == 0
    rotated = "      secrets:\n        - {name: secret-2027-03-20, description: desk-in, expires: 2027-03-20}\n"
    assert ops.read_text() == OPS.replace(DESK_IN, rotated)


def test_description_can_be_given(ops: Path) -> None:
    args = ("rotate", "--stack", "ops", "--app", "desk-in", "--description", "desk-in 2027")
    assert secrets_cmd(ops, *args) == 0
    assert "- {name: secret-2027-11-27, description: desk-in 2027, expires: 2027-11-27}\n" in ops.read_text()


@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        ("25m", "--lifetime 25m: a secret may live at most 24 months (until 2028-11-27), Entra's limit"),
        ("3y", "--lifetime 3y: a secret may live at most 24 months (until 2028-11-27)"),
        ("732d", "--lifetime 732d: a secret may live at most 24 months"),
        ("2w", "the new secret would expire on 2026-12-11, not after the newest slot 'secret' (expires 2026-12-20)"),
    ],
)
def test_too_long_or_too_short_lifetimes_leave_the_file_untouched(ops: Path, capsys, lifetime, message) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", "--lifetime", lifetime) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stacks/Pulumi.ops.yaml: ")
    assert message in err
    assert err.rstrip().endswith("the file was not changed")
    assert ops.read_text() == OPS


@pytest.mark.parametrize("lifetime", ["12", "0m", "-1m", "12x", "1.5y", "m"])
def test_malformed_lifetimes_are_usage_errors(ops: Path, capsys, lifetime: str) -> None:
    with pytest.raises(SystemExit) as exc:
        secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", f"--lifetime={lifetime}")
    assert exc.value.code == 2
    assert f"argument --lifetime: '{lifetime}' is not a duration; use a number and d, w, m or y" in (
        capsys.readouterr().err
    )
    assert ops.read_text() == OPS


def test_unknown_app_names_the_file_and_suggests(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-inn") == 2
    assert capsys.readouterr().err == (
        "error: stacks/Pulumi.ops.yaml: config.mailoauth:apps: no app 'desk-inn'; did you mean 'desk-in'? "
        "(apps: desk-in, desk-out, desk-graph); the file was not changed\n"
    )
    assert ops.read_text() == OPS


def test_unknown_stack_is_invalid_input(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "opps", "--app", "desk-in") == 2
    assert "error: stacks/Pulumi.opps.yaml: (file): no stack 'opps' (working tree); did you mean 'ops'?" in (
        capsys.readouterr().err
    )
    assert ops.read_text() == OPS


def test_expired_slots_of_other_apps_do_not_block_a_rotation(ops: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", "2027-01-10")  # desk-in and desk-graph's first slot have expired
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-out") == 0
    assert slots(ops, "desk-in") == [("secret", "2026-12-20")]  # untouched: its own rotation is another edit
    assert slots(ops, "desk-out") == [("secret", "2027-03-01"), ("secret-2028-01-10", "2028-01-10")]
    assert capsys.readouterr().err == ""


def test_invalid_yaml_is_reported_with_its_line(ops: Path, capsys) -> None:
    ops.write_text(OPS.replace("scopeSets: [smtp]", "scopeSets: [smtp"))
    before = ops.read_bytes()
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 2
    assert "error: stacks/Pulumi.ops.yaml:" in capsys.readouterr().err
    assert ops.read_bytes() == before


def test_retire_keeps_only_the_newest_slot(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "retire", "--stack", "ops", "--app", "desk-graph") == 0
    retired = "        - {name: second, description: desk-graph, expires: 2027-06-10}\n"
    assert ops.read_text() == OPS.replace(DESK_GRAPH, retired)
    assert "- desk-graph: removed slot 'first' (expires 2027-01-10)" in capsys.readouterr().out


def test_retire_with_one_slot_changes_nothing(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "retire", "--stack", "ops", "--app", "desk-out") == 0
    assert capsys.readouterr().out == "stacks/Pulumi.ops.yaml: app desk-out has one secret slot; nothing to change\n"
    assert ops.read_text() == OPS


def test_rotate_then_retire_is_the_no_downtime_runbook(ops: Path) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    assert secrets_cmd(ops, "retire", "--stack", "ops", "--app", "desk-in") == 0
    rotated = "      secrets:\n        - {name: secret-2027-11-27, description: desk-in, expires: 2027-11-27}\n"
    assert ops.read_text() == OPS.replace(DESK_IN, rotated)


def test_other_layouts_are_kept(ops: Path) -> None:
    """Four-space mappings, lists at the key's column, CRLF line ends and a document marker."""
    text = (
        "---\r\n"
        "config:\r\n"
        "    azuread:tenantId: 11111111-2222-3333-4444-555555555555\r\n"
        "    mailoauth:apps:\r\n"
        "        desk:\r\n"
        "            displayName: Desk\r\n"
        "            redirectUris:\r\n"
        "            - https://desk.example.com/cb\r\n"
        "            scopeSets: [imap]\r\n"
        "            secrets:\r\n"
        "            - description: desk   # old\r\n"
        "              expires: 2027-01-01\r\n"
        "            # the end\r\n"
    )
    ops.write_bytes(text.encode())
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk") == 0
    added = (
        "            - name: secret-2027-11-27\r\n"
        "              description: desk\r\n"
        "              expires: 2027-11-27\r\n"
    )
    assert ops.read_bytes().decode() == text.replace("            # the end", added + "            # the end")


def test_file_mode_is_kept_and_no_temporary_file_is_left(ops: Path) -> None:
    ops.chmod(0o640)
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    assert ops.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in ops.parent.iterdir()) == STACK_FILES


def test_expired_secrets_are_warnings_and_silent_when_asked(ops: Path, monkeypatch) -> None:
    tree = WorkTree(ops.parent.parent)
    monkeypatch.setenv("MAILOAUTH_TODAY", "2027-01-10")
    checked = loader.load_stack(tree, "ops", ProjectContext(catalogue.load(tree)))
    assert [w.path[2:] for w in checked.warnings if "expired" in w.message] == [
        ("desk-in", "secret", "expires"),
        ("desk-graph", "secrets", 0, "expires"),
    ]
    stack = loader.load_stack(tree, "ops", ProjectContext(catalogue.load(tree), check_expiry=False))
    assert stack.apps["desk-in"].secrets[0].expires.isoformat() == "2026-12-20"
    assert not [w for w in stack.warnings if "expired" in w.message]


def light_install(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a Python that cannot import ruamel.yaml or pulumi (the PyYAML-only install)."""
    blocker = (
        "import sys\n"
        "for name in ('ruamel', 'pulumi', 'pulumi_azuread', 'msgraph', 'azure', 'msal', 'kiota_abstractions'):\n"
        "    sys.modules[name] = None\n"
    )
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", blocker + code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_light_install_reports_and_plans_but_rotate_asks_for_the_edit_extra(ops: Path) -> None:
    root = ops.parent.parent
    run = "from mailoauth.cli import main; raise SystemExit(main({args!r}))"
    report = light_install(run.format(args=["secrets", "report"]), root)
    assert report.returncode == 1, report.stderr
    assert "desk-in" in report.stdout
    rotate = light_install(run.format(args=["secrets", "rotate", "--stack", "ops", "--app", "desk-in"]), root)
    assert (rotate.returncode, rotate.stderr) == (
        2,
        "error: this command needs ruamel, which is not installed: pip install 'mailoauth[edit]' (the light install "
        "covers plan, validate, diff, schema, explain, handoff, init and secrets report)\n",
    )
    assert ops.read_text() == OPS


def test_a_layout_ruamel_cannot_reproduce_is_rotated_with_a_warning(ops: Path, capsys) -> None:
    mixed = OPS.replace("      displayName: Service desk (Graph)", "      displayName:   Service desk (Graph)")
    ops.write_text(mixed)
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in") == 0
    assert capsys.readouterr().err == (
        "warning: stacks/Pulumi.ops.yaml: ruamel.yaml could not reproduce this file's layout exactly; "
        "review the diff for reformatted lines outside the secret slots\n"
    )
    assert slots(ops, "desk-in") == [("secret", "2026-12-20"), ("secret-2027-11-27", "2027-11-27")]
    assert "      displayName: Service desk (Graph)\n" in ops.read_text()


def test_rotate_obeys_a_stricter_project_policy(ops: Path, capsys) -> None:
    policy = ops.parent.parent / "policy"
    policy.mkdir(exist_ok=True)
    (policy / "rules.yaml").write_text("rules:\n  secret-max-lifetime: {level: mandatory, maxMonths: 6}\n")
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", "--lifetime", "12m") == 2
    err = capsys.readouterr().err
    assert "the edited file would not be valid, so it was not changed" in err
    assert "secret expires 2027-11-27, more than 6 months from today" in err
    assert "(rule secret-max-lifetime)" in err
    assert ops.read_text() == OPS


@pytest.mark.parametrize("app", ["desk-in", "desk-in-eu"])
def test_slots_shared_through_a_merge_key_are_not_edited(project: Path, capsys, monkeypatch, app: str) -> None:  # noqa: F811
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")
    path = project / "stacks" / "Pulumi.merged.yaml"
    path.write_text(MERGED)
    assert secrets_cmd(path, "rotate", "--stack", "merged", "--app", app) == 2
    assert capsys.readouterr().err == (
        f"error: stacks/Pulumi.merged.yaml: app {app}: its settings or secret slots use a YAML anchor, alias or "
        "merge key (&, *, <<:), so an edit here would change every app that shares them; write this app's secret "
        "slots out in full and run the command again; the file was not changed\n"
    )
    assert path.read_text() == MERGED


def test_an_empty_description_is_refused(ops: Path, capsys) -> None:
    assert secrets_cmd(ops, "rotate", "--stack", "ops", "--app", "desk-in", "--description", " ") == 2
    assert "--description: give the text shown in the portal" in capsys.readouterr().err
    assert ops.read_text() == OPS


@pytest.mark.parametrize("command", [["audit", "--stack", "dev"], ["consent", "list", "--stack", "dev"]])
def test_live_commands_on_the_light_install_name_the_graph_extra(ops: Path, command: list[str]) -> None:
    run = "from mailoauth.cli import main; raise SystemExit(main({args!r}))"
    result = light_install(run.format(args=command), ops.parent.parent)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: this command needs azure, which is not installed: pip install 'mailoauth[graph]'"
    )
