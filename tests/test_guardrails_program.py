"""The Pulumi program runs the guardrails before it registers anything (real __main__.py, Pulumi mocks)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.guardrails_support import CALLBACK, TODAY, app, make_project, stack_doc, write_yaml
from tests.pulumi_harness import run_program, stack_config


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)


def test_a_mandatory_rule_stops_the_program_before_any_resource() -> None:
    run = run_program(
        stack_config(stack_doc({"jira-test": app(redirectUris=["http://jira-test.example.com/cb"])})), "test"
    )
    assert run.resources == [] and run.calls == []  # not even the tenant lookup
    assert (
        "error: stacks/Pulumi.test.yaml: config.mailoauth:apps.jira-test.redirectUris[0]: redirect URI "
        "'http://jira-test.example.com/cb' must use https (http only for localhost or 127.0.0.1); use the instance's "
        "https callback URL (rule redirect-https)"
    ) in str(run.error)


def test_the_program_compares_callbacks_with_the_other_stack_files() -> None:
    dev_callback = "https://jira-dev.example.com/plugins/servlet/oauth2/callback"
    run = run_program(stack_config(stack_doc({"jira-test": app(redirectUris=[dev_callback])})), "staging")
    assert run.resources == []
    assert f"redirect URI '{dev_callback}' is also registered by stack dev" in str(run.error)


def test_an_advisory_is_logged_and_the_program_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run = run_program(stack_config(stack_doc({"jira-test": app(scopeSets=["ews-send"], allowEws=True)})), "test")
    assert run.error is None
    assert [r.name for r in run.of_type("azuread:index/application:Application")] == ["jira-test"]
    warnings = [r.getMessage() for r in caplog.records if "(rule ews-retirement)" in r.getMessage()]
    assert warnings == [
        "warning: stacks/Pulumi.test.yaml: config.mailoauth:apps.jira-test.scopeSets: EWS.AccessAsUser.All (EWS): "
        "Exchange Online has blocked EWS since 2026-10-01 unless the tenant allow-lists the app, and shuts it down "
        "on 2027-04-01; send MIME through Graph sendMail instead (scopeSets: [graph-send], Mail.Send alone) "
        "(rule ews-retirement)"
    ]


def test_the_program_reads_the_projects_policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path)
    write_yaml(project / "policy/rules.yaml", {"rules": {"redirect-https": {"level": "advisory"}}})
    monkeypatch.chdir(project)  # the program finds its project from the working directory, as under pulumi up
    uris = [CALLBACK, "http://jira-test.example.com/cb"]
    run = run_program(stack_config(stack_doc({"jira-test": app(redirectUris=uris)})), "test")
    assert run.error is None
    (application,) = run.of_type("azuread:index/application:Application")
    assert application.inputs["web"]["redirectUris"] == uris
