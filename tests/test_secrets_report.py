"""`mailoauth secrets report`: every slot of every stack, due ones first, exit 1 when any is due."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailoauth.cli import main
from tests.test_cli import project  # noqa: F401 (fixture)
from tests.test_secrets_rotate import OPS

LAB = """\
config:
  azuread:tenantId: 22222222-3333-4444-5555-666666666666
  mailoauth:apps:
    trial:
      displayName: Trial
      redirectUris: [https://trial.example.com/cb]
      scopeSets: [imap]
      secret: {description: trial, expires: 2026-11-01}
"""


@pytest.fixture
def stacks(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """The example stacks plus ops (comments, two slots) and lab (a secret that expired on 2026-11-01)."""
    monkeypatch.setenv("MAILOAUTH_TODAY", "2026-11-27")
    (project / "stacks" / "Pulumi.ops.yaml").write_text(OPS)
    (project / "stacks" / "Pulumi.lab.yaml").write_text(LAB)
    return project


def report(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["-C", str(root), "secrets", "report", *args])
    return code, capsys.readouterr().out


def test_text_lists_expired_and_expiring_first_and_exits_1(stacks: Path, capsys) -> None:
    code, out = report(stacks, capsys)
    assert code == 1
    assert out == (
        "EXPIRES     DAYS LEFT  STATUS    STACK  APP            SLOT    ACTION\n"
        "2026-11-01        -26  expired   lab    trial          secret  rotate\n"
        "2026-12-20         23  expiring  ops    desk-in        secret  rotate\n"
        "2027-01-10         44  ok        ops    desk-graph     first   -\n"
        "2027-03-01         94  ok        ops    desk-out       secret  -\n"
        "2027-06-10        195  ok        ops    desk-graph     second  -\n"
        "2027-09-30        307  ok        saas   helpdesk       secret  -\n"
        "2027-10-31        338  ok        prod   jira-mail-in   secret  -\n"
        "2027-10-31        338  ok        prod   jira-mail-out  secret  -\n"
        "2027-11-15        353  ok        dev    jira-mail-in   secret  -\n"
        "\n"
        "9 secrets in 5 stacks: 1 expired, 1 expiring by 2026-12-27 (within 30d of 2026-11-27)\n"
        "\n"
        "to fix:\n"
        "  mailoauth secrets rotate --stack lab --app trial\n"
        "  mailoauth secrets rotate --stack ops --app desk-in\n"
    )


def test_json_names_one_action_per_app(stacks: Path, capsys) -> None:
    code, out = report(stacks, capsys, "--within", "60d", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert (doc["today"], doc["within"], doc["windowEnd"], doc["due"], doc["expired"]) == (
        "2026-11-27",
        "60d",
        "2027-01-26",
        3,
        1,
    )
    assert doc["secrets"][2] == {
        "stack": "ops",
        "file": "stacks/Pulumi.ops.yaml",
        "app": "desk-graph",
        "slot": "first",
        "description": "desk-graph",
        "expires": "2027-01-10",
        "daysLeft": 44,
        "status": "expiring",
        "action": "retire",  # its newer slot 'second' is good until June: drop the old one, do not add a third
    }
    assert [(s["stack"], s["app"], s["slot"]) for s in doc["secrets"]][:5] == [
        ("lab", "trial", "secret"),
        ("ops", "desk-in", "secret"),
        ("ops", "desk-graph", "first"),
        ("ops", "desk-out", "secret"),
        ("ops", "desk-graph", "second"),
    ]
    assert doc["actions"] == [
        {"stack": "lab", "app": "trial", "action": "rotate"},
        {"stack": "ops", "app": "desk-in", "action": "rotate"},
        {"stack": "ops", "app": "desk-graph", "action": "retire"},
    ]


def test_when_both_valid_slots_are_due_the_action_is_retire_before_rotate(stacks: Path, capsys) -> None:
    """A rotation would have to remove a valid slot, which it never does unasked: retire first, rotate next run."""
    code, out = report(stacks, capsys, "--within", "7m", "--format", "json")
    desk_graph = [s["action"] for s in json.loads(out)["secrets"] if s["app"] == "desk-graph"]
    assert (code, desk_graph) == (1, ["retire", "retire"])


def test_markdown_is_a_table_with_the_commands(stacks: Path, capsys) -> None:
    code, out = report(stacks, capsys, "--within", "2w", "--format", "markdown")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("**9 secrets in 5 stacks: 1 expired, 0 expiring by 2026-12-11 (within 2w of 2026-11-27)**")
    assert lines[2:5] == [
        "| expires | days left | status | stack | app | slot | action |",
        "|---|---|---|---|---|---|---|",
        "| 2026-11-01 | -26 | expired | lab | trial | secret | rotate |",
    ]
    assert "| 2026-12-20 | 23 | ok | ops | desk-in | secret | - |" in lines
    assert lines[-4:] == ["", "```sh", "mailoauth secrets rotate --stack lab --app trial", "```"]


def test_nothing_due_exits_0(stacks: Path, capsys) -> None:
    (stacks / "stacks" / "Pulumi.lab.yaml").unlink()
    code, out = report(stacks, capsys, "--within", "3w")
    assert code == 0
    assert "8 secrets in 4 stacks: 0 expired, 0 expiring by 2026-12-18 (within 3w of 2026-11-27)" in out
    assert "to fix" not in out


def test_a_secret_expiring_on_the_window_end_is_due(stacks: Path, capsys) -> None:
    (stacks / "stacks" / "Pulumi.lab.yaml").unlink()
    code, out = report(stacks, capsys, "--within", "23d", "--format", "json")
    assert (code, json.loads(out)["due"]) == (1, 1)


def test_an_invalid_stack_is_invalid_input_not_a_report(stacks: Path, capsys) -> None:
    (stacks / "stacks" / "Pulumi.lab.yaml").write_text(LAB.replace("scopeSets: [imap]", "scopeSets: [imapp]"))
    code = main(["-C", str(stacks), "secrets", "report"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert (
        "error: stacks/Pulumi.lab.yaml:7: config.mailoauth:apps.trial.scopeSets[0]: unknown scope set 'imapp'"
        in captured.err
    )


def test_warnings_of_valid_stacks_are_left_to_validate(stacks: Path, capsys) -> None:
    """Tokens for two audiences without admin consent is a warning; the report is about secrets, with or
    without another stack's errors."""
    lab = stacks / "stacks" / "Pulumi.lab.yaml"
    lab.write_text(LAB.replace("scopeSets: [imap]", "scopeSets: [imap, graph-read]"))
    code = main(["-C", str(stacks), "validate", "--stack", "lab"])
    assert code == 0
    assert "warning: stacks/Pulumi.lab.yaml:5: config.mailoauth:apps.trial.adminConsent" in capsys.readouterr().out
    code, out = report(stacks, capsys)
    assert (code, capsys.readouterr().err) == (1, "")
    assert "lab    trial" in out
    (stacks / "stacks" / "Pulumi.ops.yaml").write_text(OPS.replace("desk-in:", "Desk In:", 1))
    code = main(["-C", str(stacks), "secrets", "report"])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert "error: stacks/Pulumi.ops.yaml" in captured.err
    assert "lab" not in captured.err


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("30x", "argument --within: '30x' is not a duration"),
        ("9999y", "argument --within: '9999y' is longer than 100 years; at most 100y"),
        ("9999w", "argument --within: '9999w' is longer than 100 years; at most 5218w"),
    ],
)
def test_bad_window_is_a_usage_error(stacks: Path, capsys, window: str, message: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(stacks), "secrets", "report", "--within", window])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_window_of_100_years_is_accepted(stacks: Path, capsys) -> None:
    code, out = report(stacks, capsys, "--within", "100y", "--format", "json")
    assert (code, json.loads(out)["windowEnd"]) == (1, "2126-11-27")


def test_a_bare_number_of_days_is_a_window_as_in_audit(stacks: Path, capsys) -> None:
    main(["-C", str(stacks), "secrets", "report", "--within", "21"])
    days = capsys.readouterr().out
    main(["-C", str(stacks), "secrets", "report", "--within", "3w"])
    weeks = capsys.readouterr().out
    assert days.replace("within 21d", "within 3w") == weeks


@pytest.mark.parametrize("window", ["0d", "0"])
def test_within_0d_asks_what_has_expired_now(stacks: Path, capsys, window: str) -> None:
    code, out = report(stacks, capsys, "--within", window, "--format", "json")
    doc = json.loads(out)
    assert (code, doc["within"], doc["windowEnd"], doc["due"], doc["expired"]) == (1, "0d", "2026-11-27", 1, 1)
    assert [(s["stack"], s["app"], s["status"]) for s in doc["secrets"] if s["action"]] == [("lab", "trial", "expired")]
    (stacks / "stacks" / "Pulumi.lab.yaml").unlink()
    assert report(stacks, capsys, "--within", window)[0] == 0
