"""Ownership does not follow whoever runs pulumi up when the stack lists its deployers (#12 point 4)."""

from __future__ import annotations

from typing import Any

import pytest

from mailoauth.project import assembly
from mailoauth.review import plan
from tests.provider_rules import APPLICATION, SERVICE_PRINCIPAL
from tests.pulumi_harness import Tenant, run_program, stack_config
from tests.test_validation import CATALOGUE, TODAY, ProjectContext, app_of, mutate, problems

CI = "c1c1c1c1-0000-4000-8000-000000000001"
ADMIN = "adadadad-0000-4000-8000-000000000002"
LAPTOP = "1a1a1a1a-0000-4000-8000-000000000003"
EXTRA = "e0e0e0e0-0000-4000-8000-000000000004"


def deployers(*ids: str) -> Any:
    def change(doc: dict[str, Any]) -> None:
        doc["config"]["mailoauth:deployers"] = list(ids)
        app_of(doc)["owners"] = [EXTRA]
        app_of(doc)["redirectUris"] = ["https://mail.owners.example/oauth/callback"]

    return change


def owners_after(change: Any, running: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, list[str]], list[str]]:
    warned: list[str] = []
    monkeypatch.setattr("pulumi.log.warn", lambda message, *args, **kwargs: warned.append(message))
    run = run_program(stack_config(mutate(change)), "dev", tenant=Tenant(deployer=running))
    assert run.error is None
    owners = {r.typ: list(r.inputs["owners"]) for r in run.resources if r.typ in (APPLICATION, SERVICE_PRINCIPAL)}
    return owners, warned


def test_listed_deployers_own_every_app_whoever_runs_pulumi_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from_ci, warned = owners_after(deployers(CI, ADMIN), CI, monkeypatch)
    assert from_ci == {APPLICATION: [CI, ADMIN, EXTRA], SERVICE_PRINCIPAL: [CI, ADMIN, EXTRA]}
    assert warned == []
    from_laptop, warned = owners_after(deployers(CI, ADMIN), LAPTOP, monkeypatch)
    assert from_laptop == from_ci  # a run from a laptop after CI leaves CI an owner: no flip
    assert warned == [
        "stacks/Pulumi.dev.yaml: config.mailoauth:deployers: the signed-in principal "
        f"{LAPTOP} is not listed, so it is not made an owner; with Application.ReadWrite.OwnedBy it could not "
        "update these apps afterwards"
    ]


def test_without_deployers_the_running_principal_is_added(monkeypatch: pytest.MonkeyPatch) -> None:
    def unlisted(doc: dict[str, Any]) -> None:
        deployers()(doc)
        del doc["config"]["mailoauth:deployers"]

    owners, _ = owners_after(unlisted, LAPTOP, monkeypatch)
    assert owners[APPLICATION] == [LAPTOP, EXTRA]


def test_plan_says_who_owns_the_apps() -> None:
    listed = assembly.build_stack(
        "dev", mutate(deployers(CI.upper())), "stacks/Pulumi.dev.yaml", ProjectContext(CATALOGUE, TODAY)
    )
    doc = plan.plan_document(listed)
    assert doc["apps"]["jira"]["owners"] == [CI, EXTRA]
    assert f"    owners         {CI}, {EXTRA}\n" in plan.render_text(doc)
    unset = plan.plan_document(
        assembly.build_stack("dev", mutate(lambda d: None), "x", ProjectContext(CATALOGUE, TODAY))
    )
    assert unset["apps"]["jira"]["owners"] == ["{deployer}"]
    assert (
        "    owners         whoever runs pulumi up (replacing the previous deployer; list them in "
        "mailoauth:deployers)\n"
    ) in plan.render_text(unset)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            deployers(CI, "ci-service-principal"),
            "error: stacks/Pulumi.dev.yaml: config.mailoauth:deployers[1]: must be a GUID "
            "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), an object id (got 'ci-service-principal')",
        ),
        (
            deployers(),
            "error: stacks/Pulumi.dev.yaml: config.mailoauth:deployers: no deployer listed: nobody would own the apps; "
            "list the object ids of CI's service principal and the admins who run pulumi up, or remove the "
            "key",
        ),
        (
            lambda doc: app_of(doc).update(owners=["alice@example.com"]),
            "error: stacks/Pulumi.dev.yaml: config.mailoauth:apps.jira.owners[0]: must be a GUID "
            "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), an object id (got 'alice@example.com')",
        ),
    ],
)
def test_deployer_and_owner_mistakes_are_named(change: Any, message: str) -> None:
    assert message in problems(mutate(change))
