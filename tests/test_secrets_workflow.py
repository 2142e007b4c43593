"""The scheduled expiry workflow's own shell steps, run against a project copy: report, then rotate or retire."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.projectcopy import ROOT
from tests.runner import runner_env
from tests.test_cli import project  # noqa: F401 (fixture)
from tests.test_secrets_report import LAB
from tests.test_secrets_rotate import OPS

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "secret-expiry.yml").read_text())
STEPS = {step.get("name"): step for step in WORKFLOW["jobs"]["rotate"]["steps"]}


@pytest.fixture
def runner(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:  # noqa: F811
    """A runner's environment: RUNNER_TEMP, GITHUB_OUTPUT, and `mailoauth` on PATH (as `pip install` puts it)."""
    (project / "stacks" / "Pulumi.ops.yaml").write_text(OPS)
    (project / "stacks" / "Pulumi.lab.yaml").write_text(LAB)
    return {
        **runner_env(tmp_path_factory.mktemp("runner")),
        "BRANCH": WORKFLOW["env"]["BRANCH"],
        "WITHIN": "60d",
        "PROJECT": str(project),
    }


def run_step(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = STEPS[name]["run"]
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=env["PROJECT"], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_workflow_installs_the_light_package_and_opens_a_pull_request() -> None:
    assert WORKFLOW[True]["schedule"]  # PyYAML reads the `on:` key as True
    assert STEPS["Install mailoauth (light install, no Pulumi or Graph)"]["run"] == "pip install '.[edit]'"
    pr = STEPS["Open the rotation pull request"]
    assert pr["uses"].startswith("peter-evans/create-pull-request@")
    assert pr["with"]["add-paths"] == "stacks/*.yaml"


def test_report_then_rotate_edits_each_due_app(runner: dict[str, str]) -> None:
    report = run_step("Report expiring secrets", runner)
    assert report.returncode == 0, report.stderr
    temp = Path(runner["RUNNER_TEMP"])
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "due=true\n"
    body = (temp / "body.md").read_text()
    assert "| 2026-11-01 | -26 | expired | lab | trial | secret | rotate |" in body
    assert "`mailoauth secrets retire --stack STACK --app APP`" in body
    assert "| expires | days left |" in Path(runner["GITHUB_STEP_SUMMARY"]).read_text()

    rotate = run_step("Rotate or retire each due slot", runner)
    assert rotate.returncode == 0, rotate.stderr
    stacks = Path(runner["PROJECT"]) / "stacks"
    assert "      secrets:\n        - {name: secret-2027-11-27, description: trial, expires: 2027-11-27}\n" in (
        (stacks / "Pulumi.lab.yaml").read_text()
    )
    ops = (stacks / "Pulumi.ops.yaml").read_text()
    assert "        - {name: secret-2027-11-27, description: desk-in, expires: 2027-11-27}\n" in ops
    assert "name: first" not in ops  # desk-graph's old slot retired; 'second' is good until June
    assert "        - {name: second, description: desk-graph, expires: 2027-06-10}\n" in ops


def test_nothing_due_opens_nothing(runner: dict[str, str]) -> None:
    (Path(runner["PROJECT"]) / "stacks" / "Pulumi.lab.yaml").unlink()
    report = run_step("Report expiring secrets", {**runner, "WITHIN": "7d"})
    assert report.returncode == 0, report.stderr
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "due=false\n"


def test_an_invalid_stack_fails_the_job(runner: dict[str, str]) -> None:
    (Path(runner["PROJECT"]) / "stacks" / "Pulumi.lab.yaml").write_text("config: [")
    report = run_step("Report expiring secrets", runner)
    assert report.returncode == 2
    assert "error: stacks/Pulumi.lab.yaml:" in report.stderr
