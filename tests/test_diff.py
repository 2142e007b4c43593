"""`mailoauth diff` on real git repositories: what a reviewer sees for each kind of change, and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mailoauth import cli
from tests.gitrepo import GitRepo
from tests.projectcopy import ROOT

MAIL_SEND = "e383f46e-2787-4529-855e-0e479a3ffac0"
MAIL_READ = "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"
SMTP_SEND = "258f6531-6087-4cc4-bb90-092c5fb3ed3f"
GRAPH = "00000003-0000-0000-c000-000000000000"
SAAS_TENANT = "33333333-4444-5555-6666-777777777777"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


@pytest.fixture
def diff(repo: GitRepo, capsys: pytest.CaptureFixture[str]):
    def run(*args: str) -> Run:
        code = cli.main(["-C", str(repo.path), "diff", "--base", "main", *args])
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def app_changes(doc: dict[str, Any], stack: str, app: str) -> list[dict[str, Any]]:
    (found,) = [s for s in doc["stacks"] if s["stack"] == stack]
    (entry,) = [a for a in found["apps"] if a["app"] == app]
    return entry["changes"]


def test_no_change_says_so_and_exits_0(diff) -> None:
    result = diff("--exit-code")
    assert (result.code, result.err) == (0, "")
    assert result.out == "No changes to the desired state of 3 stacks (main → working tree).\n"
    doc = diff("--format", "json").json()
    assert (doc["changed"], doc["stacks"], doc["unchanged"]) == (False, [], ["dev", "prod", "saas"])
    assert doc["base"]["ref"] == "main" and len(doc["base"]["commit"]) == 40
    assert doc["head"] == {"ref": None, "commit": None}


def test_reordering_comments_and_layout_are_no_change(repo: GitRepo, diff) -> None:
    repo.write(
        "stacks/Pulumi.saas.yaml",
        "# rewritten by hand: block style, keys in another order\n"
        "config:\n"
        "  mailoauth:apps:\n"
        "    helpdesk:\n"
        "      secret:\n"
        "        expires: 2027-09-30   # next rotation\n"
        "        description: helpdesk-saas\n"
        "      allowWideAudience: true\n"
        "      scopes:\n"
        "        - Mail.Send\n"
        "      scopeSets: [general, graph-read]\n"
        "      redirectUris:\n"
        "        - https://eu.helpdesk.example/oauth2/callback\n"
        "        - https://app.helpdesk.example/oauth2/callback\n"
        "      audience: multi-tenant\n"
        "      displayName: Example Helpdesk\n"
        "  azuread:tenantId: 33333333-4444-5555-6666-777777777777\n",
    )
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [send-smtp, mail-handler-imap]"
    )
    repo.edit(
        "scopes/sets/general.yaml",
        "[offline_access, openid, email, profile]",
        "[profile, email, openid, offline_access]",
    )
    result = diff("--exit-code", "--fail-on", "low")
    assert (result.code, result.out) == (0, "No changes to the desired state of 3 stacks (main → working tree).\n")


def test_scope_added_directly_is_high_risk_with_guid(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    doc = diff("--format", "json").json()
    assert doc["summary"] == (
        "1 app changed in 1 of 3 stacks (main → working tree): 1 change; security 1 high-risk; availability 1 low."
    )
    assert app_changes(doc, "dev", "jira-mail-in") == [
        {
            "kind": "permission",
            "action": "added",
            "subject": "Mail.Send",
            "risk": "high",
            "availability": "low",
            "why": "sends mail as the signed-in user",
            "permission": {
                "resourceAppId": GRAPH,
                "resource": "Microsoft Graph",
                "value": "Mail.Send",
                "id": MAIL_SEND,
                "type": "Scope",
                "adminConsentRequired": False,
                "access": "send",
                "protocol": "graph",
                "via": ["scopes"],
            },
        }
    ]
    text = diff().out
    assert (
        "      + permission        Mail.Send  (Microsoft Graph, e383f46e-2787-4529-855e-0e479a3ffac0, user consent, "
        "send, via scopes)  [security high: sends mail as the signed-in user]\n"
    ) in text
    assert (
        diff("--exit-code").code,
        diff("--fail-on", "high").code,
        diff("--fail-on", "high", "--exit-code").code,
    ) == (
        1,
        3,
        3,
    )


def test_scope_removed_directly_is_low_risk(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.saas.yaml", "      scopes: [Mail.Send]\n", "")
    doc = diff("--format", "json").json()
    (change,) = app_changes(doc, "saas", "helpdesk")
    assert (change["action"], change["subject"], change["risk"], change["permission"]["id"]) == (
        "removed",
        "Mail.Send",
        "low",
        MAIL_SEND,
    )
    assert (diff("--fail-on", "high").code, diff("--fail-on", "low").code, diff("--exit-code").code) == (0, 3, 1)


def test_scope_set_change_shows_in_every_app_that_uses_it(repo: GitRepo, diff) -> None:
    repo.edit("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")
    repo.edit("scopes/sets/smtp.yaml", "scopes: [SMTP.Send]", "scopes: []")
    doc = diff("--format", "json").json()
    assert doc["counts"] == {
        "stacks": 3,
        "stacksChanged": 2,
        "appsChanged": 3,
        "high": 0,
        "medium": 2,
        "low": 2,
        "availability": {"high": 2, "medium": 0, "low": 2},
    }
    whys = {"dev": "reads mail", "prod": "reads mail; granted for every user by admin consent"}
    for stack, why in whys.items():
        added = next(c for c in app_changes(doc, stack, "jira-mail-in") if c["action"] == "added")
        assert (added["subject"], added["risk"], added["why"]) == ("Mail.Read", "medium", why)
        assert (added["permission"]["id"], added["permission"]["via"]) == (MAIL_READ, ["imap"])
    removed = [c for c in app_changes(doc, "dev", "jira-mail-in") if c["action"] == "removed"]
    assert [(c["subject"], c["permission"]["id"], c["permission"]["via"]) for c in removed] == [
        ("SMTP.Send", SMTP_SEND, ["smtp"])
    ]
    assert (removed[0]["availability"], removed[0]["outage"]) == ("high", "the mail handler loses smtp access")
    (dev,) = [a for s in doc["stacks"] if s["stack"] == "dev" for a in s["apps"]]
    assert dev["downstream"] == [
        "scope for outlook tokens: offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
        "scope for graph tokens: offline_access https://graph.microsoft.com/Mail.Read",
    ]
    assert diff("--fail-on", "availability:high").code == 3 and diff("--fail-on", "high").code == 0
    assert [c["subject"] for c in app_changes(doc, "prod", "jira-mail-out")] == ["SMTP.Send"]


def test_scope_set_include_carries_the_change(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.saas.yaml", "scopeSets: [graph-read]", "scopeSets: [graph-read-shared]")
    repo.edit("scopes/sets/graph-read.yaml", "scopes: [Mail.ReadWrite]", "scopes: [Mail.ReadWrite, Mail.Read]")
    doc = diff("--format", "json").json()
    assert [(c["subject"], c["risk"], c["permission"]["via"]) for c in app_changes(doc, "saas", "helpdesk")] == [
        ("Mail.ReadWrite.Shared", "high", ["graph-read-shared"]),
        ("Mail.Read", "medium", ["graph-read"]),
    ]


def test_app_added_with_a_wide_audience_is_high_risk(repo: GitRepo, diff) -> None:
    repo.write(
        "stacks/Pulumi.dev.yaml",
        repo.read("stacks/Pulumi.dev.yaml") + "    helpdesk-dev:\n"
        "      displayName: Helpdesk (dev)\n"
        "      audience: multi-tenant\n"
        "      redirectUris: [https://helpdesk-dev.example.com/callback]\n"
        "      scopeSets: [graph-read-only]\n"
        "      secret: {description: helpdesk-dev, expires: 2027-06-30}\n",
    )
    doc = diff("--format", "json").json()
    (stack,) = doc["stacks"]
    (app,) = stack["apps"]
    assert (app["app"], app["status"], app["displayName"], app["risk"]) == (
        "helpdesk-dev",
        "added",
        "Helpdesk (dev)",
        "high",
    )
    rows = [(c["kind"], c["action"], c["subject"], c["risk"]) for c in app["changes"]]
    assert rows[:2] == [("app", "added", "helpdesk-dev", "high"), ("audience", "changed", "multi-tenant", "high")]
    assert ("permission", "added", "Mail.Read", "medium") in rows
    assert ("permission", "added", "openid", "low") in rows
    assert ("redirectUri", "added", "https://helpdesk-dev.example.com/callback", "medium") in rows
    assert ("secret", "added", "slot 'secret'", "low") in rows
    assert app["changes"][0]["why"] == "a new registration that other tenants can sign in to"


def test_app_removed_lists_what_goes(repo: GitRepo, diff) -> None:
    text = repo.read("stacks/Pulumi.prod.yaml")
    repo.write("stacks/Pulumi.prod.yaml", text[: text.index("    jira-mail-out:")])
    doc = diff("--format", "json").json()
    (app,) = doc["stacks"][0]["apps"]
    assert (app["app"], app["status"], app["risk"]) == ("jira-mail-out", "removed", "medium")
    assert [(c["kind"], c["action"], c["subject"]) for c in app["changes"]] == [
        ("app", "removed", "jira-mail-out"),
        *[("permission", "removed", v) for v in ("email", "offline_access", "openid", "profile", "SMTP.Send")],
    ]


def test_renamed_key_is_reported_as_a_replacement(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.prod.yaml", "    jira-mail-out:", "    jira-outbound:")
    doc = diff("--format", "json").json()
    (app,) = doc["stacks"][0]["apps"]
    assert (app["app"], app["status"], app["renamedFrom"]) == ("jira-outbound", "renamed", "jira-mail-out")
    assert app["changes"] == [
        {
            "kind": "app",
            "action": "renamed",
            "subject": "jira-mail-out → jira-outbound",
            "risk": "medium",
            "why": "replaces the registration: new client id and secret, users consent again",
            "availability": "high",
            "outage": "app jira-mail-out is deleted: its client id and secrets stop working",
        }
    ]


def test_rename_is_found_by_permissions_when_the_display_name_changes_too(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "    jira-mail-in:\n      displayName: Jira mail handler (dev)",
        "    jira:\n      displayName: Jira (dev)",
    )
    doc = diff("--format", "json").json()
    (app,) = doc["stacks"][0]["apps"]
    assert (app["app"], app["renamedFrom"]) == ("jira", "jira-mail-in")
    assert [(c["kind"], c["subject"]) for c in app["changes"]] == [
        ("app", "jira-mail-in → jira"),
        ("displayName", "Jira mail handler (dev) → Jira (dev)"),
    ]


def test_audience_widened_to_personal_accounts_is_high_risk(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "audience: single-tenant", "audience: multi-tenant-and-personal")
    refused = diff()  # IMAP and SMTP on a wide audience must be acknowledged (the wide-audience-write rule)
    assert refused.code == 2 and "(rule wide-audience-write)" in refused.err
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      allowWideAudience: true",
    )
    doc = diff("--format", "json").json()
    change, ack = app_changes(doc, "dev", "jira-mail-in")
    assert (ack["kind"], ack["subject"], ack["risk"]) == ("allowWideAudience", "no → yes", "medium")
    assert change == {
        "kind": "audience",
        "action": "changed",
        "subject": "single-tenant → multi-tenant-and-personal",
        "risk": "high",
        "why": "other tenants and personal accounts can now sign in",
        "before": "single-tenant",
        "after": "multi-tenant-and-personal",
        "availability": "low",
    }
    assert diff("--fail-on", "high").code == 3


def test_audience_narrowed_is_low_risk(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.saas.yaml", "audience: multi-tenant", "audience: single-tenant")
    doc = diff("--format", "json").json()
    (change,) = app_changes(doc, "saas", "helpdesk")
    assert (change["subject"], change["risk"], change["why"]) == (
        "multi-tenant → single-tenant",
        "low",
        "fewer accounts can sign in",
    )
    assert (change["availability"], change["outage"]) == ("high", "accounts of other tenants can no longer sign in")
    (app,) = doc["stacks"][0]["apps"]
    assert app["downstream"] == [
        f"authorize endpoint: https://login.microsoftonline.com/{SAAS_TENANT}/oauth2/v2.0/authorize",
        f"token endpoint: https://login.microsoftonline.com/{SAAS_TENANT}/oauth2/v2.0/token",
    ]
    assert diff("--fail-on", "high").code == 0
    assert diff("--fail-on", "availability:high").code == 3


def test_redirect_uri_changed(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.saas.yaml", "https://eu.helpdesk.example/oauth2/callback", "https://eu2.helpdesk.example/cb"
    )
    doc = diff("--format", "json").json()
    changes = app_changes(doc, "saas", "helpdesk")
    assert [(c["action"], c["subject"], c["risk"], c["availability"]) for c in changes] == [
        ("added", "https://eu2.helpdesk.example/cb", "high", "low"),
        ("removed", "https://eu.helpdesk.example/oauth2/callback", "low", "high"),
    ]
    assert [c["why"] for c in changes if c["action"] == "added"] == [
        "authorization codes can be sent to this address, and the app's secret redeems them"
    ]
    assert diff("--fail-on", "high").code == 3


def test_an_internationalised_redirect_host_is_shown_with_its_punycode(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.saas.yaml", "https://eu.helpdesk.example/oauth2/callback", "https://eu.h\u0435lpdesk.example/cb"
    )
    doc = diff("--format", "json").json()
    assert [c["subject"] for c in app_changes(doc, "saas", "helpdesk") if c["action"] == "added"] == [
        "https://eu.h\u0435lpdesk.example/cb (host eu.xn--hlpdesk-7gg.example)"
    ]


def test_secret_rotated_and_a_second_slot_added(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "expires: 2027-11-15", "expires: 2027-10-31")
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "secret: {description: jira-prod-in, expires: 2027-10-31}",
        "secrets:\n        - {name: secret, description: jira-prod-in, expires: 2027-10-31}\n"
        "        - {description: jira-prod-in-2, expires: 2028-01-31}",
    )
    doc = diff("--format", "json").json()
    (rotated,) = app_changes(doc, "dev", "jira-mail-in")
    assert rotated == {
        "kind": "secret",
        "action": "rotated",
        "subject": "slot 'secret'",
        "risk": "low",
        "why": "a new secret value is issued and the old one deleted",
        "before": "expires 2027-11-15",
        "after": "expires 2027-10-31",
        "availability": "high",
        "outage": "the mail handler may still use it",
    }
    (added,) = app_changes(doc, "prod", "jira-mail-in")
    assert (added["action"], added["subject"], added["after"], added["why"], added["availability"]) == (
        "added",
        "slot 'secret-2028-01-31'",
        "jira-prod-in-2, expires 2028-01-31",
        "rotation: slot 'secret-2028-01-31' added, slot 'secret' kept until retire",
        "low",
    )
    (prod,) = [a for s in doc["stacks"] if s["stack"] == "prod" for a in s["apps"]]
    assert prod["downstream"] == [
        "switch the client secret to clientSecretSlots.jira-mail-in.secret-2028-01-31, "
        "then `mailoauth secrets retire --stack prod --app jira-mail-in`"
    ]
    out = diff().out
    assert (
        "      ~ secret            slot 'secret'  (expires 2027-11-15 → expires 2027-10-31)  [security low: a new "
        "secret value is issued and the old one deleted] [availability high: the mail handler may still use it]\n"
    ) in out
    assert (
        "      → mail handler: switch the client secret to clientSecretSlots.jira-mail-in.secret-2028-01-31, "
        "then `mailoauth secrets retire --stack prod --app jira-mail-in`\n"
    ) in out


def test_removing_a_valid_slot_is_a_high_availability_risk_an_expired_one_is_not(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "secret: {description: jira-prod-in, expires: 2027-10-31}",
        "secrets:\n        - {name: old, description: jira-prod-in, expires: 2026-11-01}\n"
        "        - {name: secret, description: jira-prod-in, expires: 2027-10-31}",
    )
    repo.commit("two slots, one expired")
    repo.edit("stacks/Pulumi.prod.yaml", "        - {name: old, description: jira-prod-in, expires: 2026-11-01}\n", "")
    (expired,) = app_changes(diff("--base", "HEAD", "--format", "json").json(), "prod", "jira-mail-in")
    assert (expired["action"], expired["subject"], expired["availability"]) == ("removed", "slot 'old'", "low")
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "        - {name: secret, description: jira-prod-in, expires: 2027-10-31}",
        "        - {name: secret-2028-06-30, description: jira-prod-in, expires: 2028-06-30}",
    )
    removed = next(
        c
        for c in app_changes(diff("--base", "HEAD", "--format", "json").json(), "prod", "jira-mail-in")
        if c["subject"] == "slot 'secret'"
    )
    assert (removed["action"], removed["availability"], removed["outage"]) == (
        "removed",
        "high",
        "the mail handler may still use it",
    )


def test_admin_consent_switched_on_is_high_risk(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      adminConsent: true",
    )
    doc = diff("--format", "json").json()
    (change,) = app_changes(doc, "dev", "jira-mail-in")
    assert (change["kind"], change["subject"], change["risk"]) == ("adminConsent", "no → yes", "high")
    assert change["why"] == "grants the delegated permissions for every user in the tenant, without asking them"


def test_tenant_change_is_a_stack_level_high_risk(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "11111111-2222-3333-4444-555555555555", "11111111-2222-3333-4444-666666666666")
    doc = diff("--format", "json").json()
    (stack,) = doc["stacks"]
    assert (stack["stack"], stack["apps"], stack["risk"]) == ("dev", [], "high")
    assert stack["changes"][0]["subject"] == (
        "11111111-2222-3333-4444-555555555555 → 11111111-2222-3333-4444-666666666666"
    )


def test_stack_added_and_removed(repo: GitRepo, diff) -> None:
    (repo.path / "stacks" / "Pulumi.prod.yaml").rename(repo.path / "stacks" / "Pulumi.production.yaml")
    doc = diff("--format", "json").json()
    assert [(s["stack"], s["status"], s["risk"], [a["status"] for a in s["apps"]]) for s in doc["stacks"]] == [
        ("production", "added", "high", ["added", "added"]),  # riskiest first: admin consent on new apps
        ("prod", "removed", "medium", ["removed", "removed"]),
    ]


def test_head_revision_and_stack_filter(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap]")
    repo.edit("stacks/Pulumi.saas.yaml", "      scopes: [Mail.Send]\n", "")
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit("drop send from dev and saas")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap]", "useCases: [mail-handler-imap, send-smtp]"
    )  # not committed
    doc = diff("--head", "feature", "--stack", "dev", "prod", "--format", "json").json()
    assert doc["head"]["ref"] == "feature"
    assert [s["stack"] for s in doc["stacks"]] == ["dev"]
    assert doc["unchanged"] == ["prod"]
    assert diff("--stack", "dev", "--exit-code").code == 0  # the working tree is back to main's dev


def test_unknown_stack_is_a_usage_error(diff) -> None:
    result = diff("--stack", "prd")
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: no stack 'prd' in base main or working tree; did you mean 'prod'?\n"


def test_unknown_revision_exits_2_with_a_hint(diff, repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["-C", str(repo.path), "diff", "--base", "no-such-branch"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "error: unknown revision 'no-such-branch' (base); check the name with `git rev-parse --verify "
        "no-such-branch`; a shallow clone needs it fetched first (actions/checkout with fetch-depth: 0)\n"
    )
    assert diff("--head", "main~5").code == 2


def test_not_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    for _ in range(5):  # git exits at once; its error must win over the broken pipe, every time
        code = cli.main(["-C", str(tmp_path), "diff", "--base", "main"])
        assert code == 2
        assert capsys.readouterr().err == (
            f"error: cannot read revision 'main' in {tmp_path}: fatal: not a git repository (or any of the parent "
            "directories): .git (base)\n"
        )


def test_invalid_yaml_at_the_base_names_the_revision(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.git("checkout", "--quiet", "-b", "broken")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap, send-smtp"
    )
    repo.commit("broken yaml")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp", "useCases: [mail-handler-imap, send-smtp]"
    )  # fixed in the PR
    code = cli.main(["-C", str(repo.path), "diff", "--base", "broken", "--format", "markdown"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        "error: stacks/Pulumi.dev.yaml (base broken):15: (file): malformed YAML: did not find expected ',' or ']'; "
        "check indentation, quoting and ':' after each key\n"
    )


def test_problems_at_both_revisions_are_reported_together(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.git("checkout", "--quiet", "-b", "broken")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap, send-smtp"
    )
    repo.commit("broken yaml")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp", "useCases: [mail-handler-imap, send-smpt]"
    )
    code = cli.main(["-C", str(repo.path), "diff", "--base", "broken", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        "error: stacks/Pulumi.dev.yaml (base broken):15: (file): malformed YAML: did not find expected ',' or ']'; "
        "check indentation, quoting and ':' after each key",
        "error: stacks/Pulumi.dev.yaml (working tree):12: config.mailoauth:apps.jira-mail-in.useCases[1]: "
        "Email This Issue has no use case 'send-smpt'; did you mean 'send-smtp'?",
    ]
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [p["file"] for p in doc["problems"]] == [
        "stacks/Pulumi.dev.yaml (base broken)",
        "stacks/Pulumi.dev.yaml (working tree)",
    ]


def test_base_is_validated_as_of_its_commit_date(repo: GitRepo, diff) -> None:
    """A secret that expired after the base was committed is what a rotation fixes, not invalid input."""
    repo.edit("stacks/Pulumi.dev.yaml", "expires: 2027-11-15", "expires: 2026-11-20")
    repo.commit("short-lived secret", date="2026-11-10T09:00:00+00:00")
    assert diff("--exit-code").code == 0  # an unchanged file is not validated again (validate does that)
    repo.edit("stacks/Pulumi.dev.yaml", "audience: single-tenant", "audience: single-tenant  # reviewed")
    result = diff("--format", "json")
    assert result.code == 0  # an untouched slot that has expired since is a finding of validate, not of this change
    assert result.json()["changed"] is False
    repo.edit("stacks/Pulumi.dev.yaml", "expires: 2026-11-20", "expires: 2026-11-25")
    edited = diff("--format", "json")
    assert edited.code == 2  # a slot the change edits must expire after today (2026-11-27)
    assert edited.err == (
        "error: stacks/Pulumi.dev.yaml (working tree): config.mailoauth:apps.jira-mail-in.secrets: slot 'secret' is "
        "added or edited by this change but expires 2026-11-25, not after 2026-11-27; "
        "pick a later expiry, or leave the slot as it was and run `mailoauth secrets rotate --stack dev --app "
        "jira-mail-in`\n"
    )
    repo.edit("stacks/Pulumi.dev.yaml", "expires: 2026-11-25", "expires: 2027-05-31")
    (change,) = app_changes(diff("--format", "json").json(), "dev", "jira-mail-in")
    assert (change["action"], change["before"], change["after"]) == (
        "rotated",
        "expires 2026-11-20",
        "expires 2027-05-31",
    )


def test_encrypted_config_never_reaches_the_report(repo: GitRepo, diff) -> None:
    """Pulumi-encrypted values may sit in a stack file; they are not desired state and never printed."""
    ciphertext = "v1:Zm9vYmFyYmF6cXV4:c2VjcmV0LWNpcGhlcnRleHQtdmFsdWU="
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "  azuread:environment: global\n",
        f"  azuread:environment: global\n  azuread:clientSecret:\n    secure: {ciphertext}\n",
    )
    repo.commit("provider secret")
    repo.edit("stacks/Pulumi.dev.yaml", ciphertext, "v1:bmV3:bmV3LWNpcGhlcnRleHQ=")
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    outputs = [diff("--format", fmt) for fmt in ("text", "markdown", "json")]
    assert all(r.code == 0 for r in outputs)
    for r in outputs:
        assert "Mail.Send" in r.out
        assert ciphertext not in r.out + r.err and "bmV3" not in r.out + r.err
        assert "clientSecret" not in r.out


def test_markdown_leads_with_summary_and_high_risk(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    repo.edit(
        "stacks/Pulumi.prod.yaml",
        "expires: 2027-10-31}\n      adminConsent: true\n      mailboxes: [support@example.com]\n    jira-mail-out",
        "expires: 2027-12-31}\n      adminConsent: true\n      mailboxes: [support@example.com]\n    jira-mail-out",
    )
    md = diff("--format", "markdown").out
    lines = md.splitlines()
    assert lines[0] == (
        "**mailoauth diff**: 2 apps changed in 2 of 3 stacks (main → working tree): 2 changes; "
        "security 1 high-risk, 1 low; availability 1 high-risk, 1 low."
    )
    security = md.index("### :red_circle: High security risk: what the registration may now do")
    availability = md.index("### :warning: High availability risk: what may stop working")
    assert security < availability < md.index("<details open><summary>stack <code>dev</code>")
    assert (
        "| + | permission | `Mail.Send` | Microsoft Graph, e383f46e-2787-4529-855e-0e479a3ffac0, user consent, send, "
        "via scopes | :red_circle: **high**: sends mail as the signed-in user | :white_circle: low |"
    ) in lines
    assert "| `dev` | `jira-mail-in` | + permission `Mail.Send` | sends mail as the signed-in user |" in lines
    assert "| `prod` | `jira-mail-in` | ~ secret `slot 'secret'` | the mail handler may still use it |" in lines
    assert (
        "<details open><summary>stack <code>prod</code> (changed): 1 app changed, security low, availability high" in md
    )
    assert md.count("</details>") == 2


def test_markdown_escapes_user_text(repo: GitRepo, diff) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "displayName: Jira mail handler (dev)", "displayName: 'Jira <b>dev</b> | mail'")
    lines = diff("--format", "markdown").out.splitlines()
    assert "#### ~ `jira-mail-in`: Jira &lt;b&gt;dev&lt;/b&gt; \\| mail (changed)" in lines  # inert outside code
    assert (
        "| ~ | display name | `Jira mail handler (dev) → Jira <b>dev</b> \\| mail` |  | "
        ":white_circle: low: shown on the consent screen | :white_circle: low |"
    ) in lines  # a code span shows its text as typed


def test_markdown_stays_within_a_comment_limit(repo: GitRepo, diff) -> None:
    from mailoauth.base.tree import GitTree, WorkTree
    from mailoauth.review import diffrender
    from mailoauth.review.diff import compare
    from mailoauth.review.revisions import load_sides

    repo.edit(
        "scopes/sets/general.yaml",
        "[offline_access, openid, email, profile]",
        "[offline_access, openid, email, profile, Mail.Send]",
    )
    with GitTree(repo.path, "main") as base:
        report = compare(*load_sides(base, WorkTree(repo.path), None), date(2026, 11, 27))
    full = diffrender.render_markdown(report)
    short = diffrender.render_markdown(report, limit=1500)
    assert len(full) > 1500 >= len(short)
    assert short.splitlines()[0] == full.splitlines()[0]
    assert "### :red_circle: High security risk: what the registration may now do" in short
    assert "<details" not in short
    assert "… (cut to fit a PR comment)" in short or "### Stacks" in short


def test_diff_path_imports_neither_pulumi_nor_msgraph(repo: GitRepo) -> None:
    """`python -X importtime` lists every module the real entry point imports, for each format."""
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-X", "importtime", "-m", "mailoauth", "-C", str(repo.path), "diff", "--base", "main"]
    for fmt in ("text", "markdown", "json"):
        result = subprocess.run(
            [*command, "--format", fmt, "--fail-on", "high"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 3 and "Mail.Send" in result.stdout, result.stderr
        imported = {
            line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
        }
        assert "mailoauth.review.diff" in imported and "yaml" in imported
        heavy = ("pulumi", "pulumi_azuread", "msgraph", "azure", "kiota_abstractions", "grpc")
        assert sorted(m for m in imported if m.split(".")[0] in heavy) == []


SETS_LEFT = (
    "ews-send, general, graph-read, graph-read-only, graph-read-shared, graph-send, graph-send-shared, imap, pop"
)


def test_scope_set_removed_breaks_unchanged_stacks_at_the_head(repo: GitRepo, diff) -> None:
    (repo.path / "scopes" / "sets" / "smtp.yaml").unlink()
    result = diff()
    assert result.code == 2
    assert result.err.splitlines() == [  # the product profiles that name the set break every stack that uses them
        "error: products/email-this-issue.yaml (working tree):14: useCases.send-smtp.scopeSets[0]: "
        f"unknown scope set 'smtp'; known: {SETS_LEFT}",
        "error: products/odoo.yaml (working tree):13: useCases.outgoing-smtp.scopeSets[0]: "
        f"unknown scope set 'smtp'; known: {SETS_LEFT}",
        "error: products/osticket.yaml (working tree):17: useCases.send-smtp.scopeSets[0]: "
        f"unknown scope set 'smtp'; known: {SETS_LEFT}",
        "error: products/zammad.yaml (working tree):9: useCases.channel-imap-smtp.scopeSets[1]: "
        f"unknown scope set 'smtp'; known: {SETS_LEFT}",
    ]


def test_catalogue_entry_change_shows_as_a_changed_permission(repo: GitRepo, diff) -> None:
    repo.edit(
        "scopes/catalogue.yaml",
        "IMAP.AccessAsUser.All: {id: 652390e4-393a-48de-9484-05f9b1212954, adminConsent: false",
        "IMAP.AccessAsUser.All: {id: 652390e4-393a-48de-9484-05f9b1212954, adminConsent: true",
    )
    doc = diff("--format", "json").json()
    assert [s["stack"] for s in doc["stacks"]] == ["dev", "prod"]
    (change,) = app_changes(doc, "dev", "jira-mail-in")
    assert (change["action"], change["subject"], change["risk"], change["before"], change["after"]) == (
        "changed",
        "IMAP.AccessAsUser.All",
        "low",
        "IMAP.AccessAsUser.All, write, admin consent required: no",
        "IMAP.AccessAsUser.All, write, admin consent required: yes",
    )
    assert change["permission"]["adminConsentRequired"] is True


def test_same_file_that_did_not_fit_the_base_catalogue(repo: GitRepo, diff) -> None:
    """The base named a scope set its own scopes/ lacked: that was invalid at the base, and is named so."""
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopeSets: [imap, smtp, mail-min]",
    )
    repo.commit("uses a set that is not there yet")
    repo.write("scopes/sets/mail-min.yaml", "description: Read only.\nscopes: [Mail.ReadBasic]\n")
    result = diff()
    assert result.code == 2
    assert result.err == (
        "error: stacks/Pulumi.dev.yaml (base main):13: config.mailoauth:apps.jira-mail-in.scopeSets[2]: "
        "unknown scope set 'mail-min'; sets: ews-send, general, graph-read, graph-read-only, graph-read-shared, "
        "graph-send, graph-send-shared, imap, pop, smtp\n"
    )


def test_same_malformed_file_is_reported_once_after_a_scopes_change(repo: GitRepo, diff) -> None:
    repo.write(
        "stacks/Pulumi.dev.yaml",
        "config:\n  azuread:tenantId: 11111111-2222-3333-4444-555555555555\n  mailoauth:apps: []\n",
    )
    repo.commit("broken dev")
    repo.edit("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")
    result = diff()
    assert result.code == 2
    assert result.err == (
        "error: stacks/Pulumi.dev.yaml (working tree):3: config.mailoauth:apps: expected a mapping of app keys to "
        "app settings; see stacks/Pulumi.dev.yaml for an example\n"
    )


def test_public_client_flows_client_id_and_import(repo: GitRepo, diff) -> None:
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      allowPublicClientFlows: true\n"
        "      clientId: 0a1b2c3d-0000-4000-8000-00000000abcd\n"
        "      import: {application: /applications/5e6f7a8b-0000-4000-8000-00000000abcd}",
    )
    doc = diff("--format", "json").json()
    assert [(c["kind"], c["subject"], c["risk"]) for c in app_changes(doc, "dev", "jira-mail-in")] == [
        ("allowPublicClientFlows", "no → yes", "medium"),
        ("import", "/applications/5e6f7a8b-0000-4000-8000-00000000abcd", "medium"),
        ("clientId", "0a1b2c3d-0000-4000-8000-00000000abcd", "low"),
    ]


def test_a_scope_set_change_keeps_each_apps_omitted_scopes(repo: GitRepo, diff) -> None:
    """Two apps with the same sets, one leaving out `email`: the set change adds Mail.Read to both, nothing else."""
    second = (
        "    jira-mail-in-2:\n"
        "      displayName: Jira mail handler (dev, second)\n"
        "      redirectUris: [https://jira-dev2.example.com/plugins/servlet/oauth2/callback]\n"
        "      scopeSets: [imap, smtp]\n"
        "      omitScopes: [email]\n"
        "      secret: {description: jira-dev-2, expires: 2027-11-15}\n"
    )
    repo.write("stacks/Pulumi.dev.yaml", repo.read("stacks/Pulumi.dev.yaml") + second)
    repo.commit("a second app that omits email")
    repo.edit("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")
    doc = diff("--format", "json").json()
    for app in ("jira-mail-in", "jira-mail-in-2"):
        assert [(c["action"], c["subject"]) for c in app_changes(doc, "dev", app)] == [("added", "Mail.Read")], app
