"""The rule functions on hand-built subjects, and policy/rules.yaml changing levels and parameters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.guardrails import rules
from tests.guardrails_support import TODAY, app, make_project, run_cli, write_stack, write_yaml
from tests.projectcopy import ROOT

CAT = catalogue.load(WorkTree(ROOT))
CTX = rules.Context(CAT, date.fromisoformat(TODAY), "dev")
GRAPH = "00000003-0000-0000-c000-000000000000"


def rule(rule_id: str) -> rules.Rule:
    return next(r for r in rules.RULES if r.id == rule_id)


def scope(name: str) -> rules.Access:
    s = CAT.scopes[name]
    return rules.Access(s.value, "Scope", s.resource_app_id, s)


def registration(*permissions: rules.Access, **fields: object) -> rules.ApplicationSubject:
    base: dict[str, object] = {
        "name": "app",
        "audience": "single-tenant",
        "redirect_uris": ("https://jira.example.com/cb",),
        "permissions": permissions,
        "owners": ("{deployer}",),
        "declaration": None,
    }
    return rules.ApplicationSubject(**{**base, **fields})  # type: ignore[arg-type]


def messages(rule_id: str, subject: rules.Subject, ctx: rules.Context = CTX) -> list[str]:
    return [f.message for f in rule(rule_id).findings(subject, ctx)]


def test_delegated_only() -> None:
    assert messages("delegated-only", registration(scope("Mail.Read"))) == []
    role = rules.Access("810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Role", GRAPH)
    assert messages("delegated-only", registration(scope("Mail.Read"), role)) == [
        f"810c84a8-4a9e-49e6-bf7d-12d183f40d01 on {GRAPH} is an application permission (type Role): it works "
        "without a signed-in user, on every mailbox the tenant allows"
    ]


def test_declared_scopes_against_a_declaration_and_against_the_catalogue() -> None:
    declared = rules.declaration(CAT, {"scopeSets": ["imap"], "scopes": []})
    assert messages("declared-scopes", registration(scope("IMAP.AccessAsUser.All"), declaration=declared)) == []
    assert messages("declared-scopes", registration(scope("Mail.Send"), declaration=declared)) == [
        "Mail.Send is registered but not declared by the app's scopeSets or scopes in its stack file"
    ]
    unknown = rules.Access("10465720-29dd-4523-a11a-6a75c743c9d9", "Scope", GRAPH)  # Files.Read: not mail
    assert messages("declared-scopes", registration(scope("Mail.Send"), unknown)) == [
        "10465720-29dd-4523-a11a-6a75c743c9d9 is not a scope of the catalogue (scopes/catalogue.yaml); a mail app "
        "needs none outside it"
    ]


def test_declaration_expands_general_and_includes_but_asks_only_for_named_scopes() -> None:
    declared = rules.declaration(CAT, {"scopeSets": ["graph-send-shared"], "scopes": ["User.Read"]})
    assert declared.scopes == {
        "offline_access",
        "openid",
        "email",
        "profile",
        "Mail.Send.Shared",
        "Mail.Send",
        "User.Read",
    }
    assert declared.asked == {"Mail.Send.Shared", "User.Read"}  # Mail.Send comes through an include, general always


def test_user_read_on_a_hand_written_app_is_never_asked_for() -> None:
    assert messages("user-read", registration(scope("User.Read")))[0].startswith("User.Read is registered but")


def test_owners() -> None:
    assert messages("owners", registration()) == []
    assert messages("owners", registration(owners=())) == ["the app registration has no owner"]


def test_secret_lifetime_counts_from_the_start_date_and_defaults_to_two_years() -> None:
    assert messages("secret-max-lifetime", rules.Password("s", date(2029, 6, 1), start=date(2027, 6, 1))) == []
    assert messages("secret-max-lifetime", rules.Password("s", date(2029, 6, 2), start=date(2027, 6, 1))) == [
        "secret expires 2029-06-02, more than 24 months from 2027-06-01"
    ]
    assert messages("secret-max-lifetime", rules.Password("s", None)) == []
    assert messages("secret-recommended-lifetime", rules.Password("s", None)) == [
        "secret expires 2028-11-27, more than 12 months from today (no end date: Microsoft Graph gives two years)"
    ]


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert rules.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert rules.add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)
    assert rules.add_months(date(2026, 11, 27), 24) == date(2028, 11, 27)
    assert rules.add_months(date(2026, 11, 27), 99_999_999) == date(9999, 12, 31)


def test_ews_status_follows_the_calendar() -> None:
    assert rules.ews_status(date(2026, 9, 30)).startswith("Exchange Online blocks EWS from 2026-10-01 unless")
    assert rules.ews_status(date(2026, 10, 1)).startswith("Exchange Online has blocked EWS since 2026-10-01 unless")
    assert rules.ews_status(date(2027, 4, 1)) == (
        "Exchange Online shut EWS down on 2027-04-01; the scope no longer works there"
    )


def test_unique_callback_ignores_the_own_stack() -> None:
    guard = rules.Guard(callbacks={"https://jira.example.com/cb": frozenset({"dev", "prod"})})
    ctx = rules.Context(CAT, CTX.today, "dev", guard)
    assert messages("unique-callback", registration(), ctx) == [
        "redirect URI 'https://jira.example.com/cb' is also registered by stack prod: an instance's callback must "
        "belong to one stack"
    ]
    alone = rules.Context(
        CAT, CTX.today, "dev", rules.Guard(callbacks={"https://jira.example.com/cb": frozenset({"dev"})})
    )
    assert messages("unique-callback", registration(), alone) == []


def test_a_rule_ignores_subjects_it_is_not_for() -> None:
    assert rule("owners").findings(rules.Password("s", date(2027, 1, 1)), CTX) == []


# --- policy/rules.yaml ----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)
    return make_project(tmp_path)


def set_policy(root: Path, policy: dict[str, object]) -> None:
    write_yaml(root / "policy/rules.yaml", {"rules": policy})


def test_a_mandatory_rule_made_advisory_warns_and_passes(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    set_policy(project, {"redirect-https": {"level": "advisory"}})
    write_stack(project, "test", {"jira-test": app(redirectUris=["http://jira-test.example.com/cb"])})
    status, out, _ = run_cli(capsys, project, "validate", "--stack", "test")
    assert status == 0
    assert "warning: stacks/Pulumi.test.yaml:8: config.mailoauth:apps.jira-test.redirectUris[0]: redirect URI" in out
    assert "redirect-https               advisory       0        1" in out


def test_a_disabled_rule_reports_nothing(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    set_policy(project, {"ews-retirement": {"level": "disabled"}})
    write_stack(project, "test", {"jira-test": app(scopeSets=["ews-send"], allowEws=True)})
    status, out, _ = run_cli(capsys, project, "validate", "--stack", "test")
    assert status == 0
    assert "EWS" not in out.split("\n\n")[0]
    assert "ews-retirement               disabled       0        0" in out


@pytest.mark.parametrize(
    ("months", "status", "expected"),
    [
        (6, 2, "secret expires 2027-05-28, more than 6 months from today; expire on 2027-05-27 or earlier"),
        (99_999_999, 0, "secret-max-lifetime          mandatory      0        0"),  # no limit, and no crash
    ],
    ids=["stricter", "beyond-the-calendar"],
)
def test_a_chosen_maximum_lifetime(
    capsys: pytest.CaptureFixture[str], project: Path, months: int, status: int, expected: str
) -> None:
    set_policy(project, {"secret-max-lifetime": {"maxMonths": months}})
    write_stack(project, "test", {"jira-test": app(secret={"description": "d", "expires": date(2027, 5, 28)})})
    result, out, _ = run_cli(capsys, project, "validate", "--stack", "test")
    assert result == status
    assert expected in out


def test_a_broken_policy_file_is_invalid_input(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    set_policy(
        project,
        {"redirect-http": {"level": "advisory"}, "owners": {"level": "off"}, "secret-max-lifetime": {"maxMonths": 0}},
    )
    status, out, err = run_cli(capsys, project, "validate", "--all")
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        "error: policy/rules.yaml:3: rules.redirect-http: unknown key; did you mean 'redirect-https'?",
        "error: policy/rules.yaml:7: rules.secret-max-lifetime.maxMonths: expected a whole number of at least 1 "
        "(got 0)",
        "error: policy/rules.yaml:5: rules.owners.level: must be one of mandatory, advisory, disabled (got 'off')",
    ]


def test_without_a_policy_file_the_defaults_apply(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "policy/rules.yaml").unlink()
    write_stack(project, "test", {"jira-test": app(redirectUris=["https://*.example.com/cb"])})
    status, out, _ = run_cli(capsys, project, "validate", "--stack", "test")
    assert status == 2
    assert "(rule redirect-no-wildcard)" in out
