"""`mailoauth scopes sync` against the fake cloud: differences reported, --write edits only the values."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from tests.fakes.cloud import FakeCloud
from tests.fakes.project import mail_app, write_project
from tests.fakes.tenant import GRAPH_SCOPES
from tests.projectcopy import ROOT

NEW_SMTP_ID = "11112222-3333-4444-8555-666677778888"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", {"mail": mail_app("Mail", ["imap"])})


def sync(run_cli, cloud: FakeCloud, project: Path, *extra: str):
    return run_cli("-C", project, "scopes", "sync", "--stack", "test", "--graph-url", cloud.graph_url, *extra)


def scope(sp: dict, value: str) -> dict:
    return next(s for s in sp["oauth2PermissionScopes"] if s["value"] == value)


def test_catalogue_matches_the_published_ids(live_env: FakeCloud, project: Path, run_cli) -> None:
    result = sync(run_cli, live_env, project)
    assert (result.code, result.out) == (0, "scopes/catalogue.yaml matches the tenant\n")
    assert len(live_env.graph.http_requests) == 1


def test_differences_are_reported_and_written_in_place(live_env: FakeCloud, project: Path, run_cli) -> None:
    tenant = live_env.tenant
    scope(tenant.graph_sp, "SMTP.Send")["id"] = NEW_SMTP_ID
    scope(tenant.graph_sp, "Mail.Read.Shared")["type"] = "Admin"
    tenant.exchange_sp["oauth2PermissionScopes"].clear()
    before = (project / "scopes/catalogue.yaml").read_text()

    report = sync(run_cli, live_env, project, "--format", "json")
    assert report.code == 1
    assert [(d["field"], d["scope"], d["catalogue"], d["tenant"]) for d in json.loads(report.out)["differences"]] == [
        ("id", "SMTP.Send", GRAPH_SCOPES["SMTP.Send"], NEW_SMTP_ID),
        ("adminConsent", "Mail.Read.Shared", "false", "true"),
        ("missing", "EWS.AccessAsUser.All", "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5", ""),
    ]
    assert (project / "scopes/catalogue.yaml").read_text() == before  # nothing written without --write

    written = sync(run_cli, live_env, project, "--write")
    assert written.code == 1  # the missing EWS scope cannot be fixed by an edit
    assert "updated scopes/catalogue.yaml" in written.out
    after = (project / "scopes/catalogue.yaml").read_text()
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    old_smtp = f"{GRAPH_SCOPES['SMTP.Send']}, adminConsent: false"
    assert changed == [
        f"-       SMTP.Send:             {{id: {old_smtp}, access: send, protocol: smtp, audience: outlook, "
        "source: graph-devx}",
        f"+       SMTP.Send:             {{id: {NEW_SMTP_ID}, adminConsent: false, access: send, protocol: smtp, "
        "audience: outlook, source: graph-devx}",
        f"-       Mail.Read.Shared:      {{id: {GRAPH_SCOPES['Mail.Read.Shared']}, adminConsent: false, access: read, "
        "protocol: graph, audience: graph, source: graph-devx}",
        f"+       Mail.Read.Shared:      {{id: {GRAPH_SCOPES['Mail.Read.Shared']}, adminConsent: true, access: read, "
        "protocol: graph, audience: graph, source: graph-devx}",
    ]
    again = sync(run_cli, live_env, project, "--format", "json")
    assert [d["field"] for d in json.loads(again.out)["differences"]] == ["missing"]
    assert (ROOT / "scopes/catalogue.yaml").read_text() == before  # the repository's own copy is untouched


def test_without_a_stack_the_signed_in_tenant_is_read(live_env: FakeCloud, project: Path, run_cli) -> None:
    live_env.tenant.service_principals.remove(live_env.tenant.exchange_sp)
    result = run_cli("-C", project, "scopes", "sync", "--graph-url", live_env.graph_url)
    assert result.code == 1
    assert "resource  -      Office 365 Exchange Online  00000002-0000-0ff1-ce00-000000000000  -" in result.out
