"""Fleets: the deploy workflow's job-list step run for real on a generated repository of 1,000 stacks,
the reasons `diff --format affected` gives, sign-in targets per tenant, and the nightly summary."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailoauth import cli
from mailoauth.review import fleet
from tests import fleetgen
from tests.gitrepo import GitRepo
from tests.runner import runner_env
from tests.test_workflows import workflow

STACKS, APPS = 1000, 2
NO_COMMIT = "0" * 40


@pytest.fixture(scope="module")
def fleet_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return fleetgen.build(tmp_path_factory.mktemp("fleet") / "repo", STACKS, APPS)


@pytest.fixture
def big(fleet_repo: GitRepo) -> Iterator[GitRepo]:
    """The 1,000-stack repository; each test changes its working tree, which is reset afterwards."""
    yield fleet_repo
    fleet_repo.git("checkout", "--", ".")
    fleet_repo.git("clean", "-fdq")


def plan_step(repo: GitRepo, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """deploy.yml's job-list step, run as a runner would; its outputs decoded."""
    (step,) = [s for s in workflow("deploy.yml")["jobs"]["plan"]["steps"] if s.get("id") == "jobs"]
    runner = runner_env(tmp_path / "runner")
    given = {"EVENT": "push", "BEFORE": repo.git("rev-parse", "main"), "ONLY": "", "ALL": "false", **env}
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=repo.path, env={**runner, **given}, capture_output=True, text=True
    )
    output = Path(runner["GITHUB_OUTPUT"])
    lines = output.read_text().splitlines() if output.exists() else []
    outputs = {k: json.loads(v) for k, v in (line.split("=", 1) for line in lines)}
    outputs["summary"] = Path(runner["GITHUB_STEP_SUMMARY"]).read_text() if done.returncode == 0 else ""
    return done, outputs


def test_one_stack_changed_gives_one_job(big: GitRepo, tmp_path: Path) -> None:
    big.edit("stacks/Pulumi.s417.yaml", "jira-417-0.example.com", "jira-417-0.example.org")
    done, out = plan_step(big, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out["count"], out["chunks"], out["removed"]) == (1, [{"name": "stacks 1-1 of 1", "stacks": ["s417"]}], [])
    assert "| `s417` | its stack file |" in out["summary"]


def test_a_scope_set_change_gives_the_stacks_it_reaches_split_under_the_limit(big: GitRepo, tmp_path: Path) -> None:
    big.edit("scopes/sets/imap.yaml", "scopes: [IMAP.AccessAsUser.All]", "scopes: [IMAP.AccessAsUser.All, Mail.Read]")
    done, out = plan_step(big, tmp_path)
    assert done.returncode == 0, done.stderr
    reached = fleetgen.stacks_using("imap", STACKS, APPS)
    assert out["count"] == len(reached) == 667
    assert [c["name"] for c in out["chunks"]] == [
        "stacks 1-256 of 667",
        "stacks 257-512 of 667",
        "stacks 513-667 of 667",
    ]
    assert [n for c in out["chunks"] for n in c["stacks"]] == reached
    assert f"| `{reached[0]}` | scope-set imap |" in out["summary"]


def test_a_removed_stack_is_reported_and_not_deployed(big: GitRepo, tmp_path: Path) -> None:
    (big.path / "stacks" / "Pulumi.s005.yaml").unlink()
    done, out = plan_step(big, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out["count"], out["chunks"]) == (0, [])
    assert out["removed"] == [
        {
            "stack": "s005",
            "status": "removed",
            "risk": "medium",
            "reasons": [{"kind": "stack", "file": "stacks/Pulumi.s005.yaml"}],
        }
    ]
    assert "**`s005` was removed from stacks/ and is not destroyed.**" in out["summary"]
    assert workflow("deploy.yml")["jobs"]["deploy"]["if"] == "needs.plan.outputs.count != '0'"


def test_the_first_push_deploys_every_stack_in_chunks(big: GitRepo, tmp_path: Path) -> None:
    done, out = plan_step(big, tmp_path, BEFORE=NO_COMMIT)
    assert done.returncode == 0, done.stderr
    assert out["count"] == 1000
    assert [len(c["stacks"]) for c in out["chunks"]] == [256, 256, 256, 232]


def test_an_unreadable_previous_commit_fails_the_step_and_deploys_nothing(big: GitRepo, tmp_path: Path) -> None:
    done, out = plan_step(big, tmp_path, BEFORE="1" * 40)
    assert done.returncode == 2
    assert f"unknown revision '{'1' * 40}' (base)" in done.stderr
    assert "chunks" not in out


def test_a_manual_run_deploys_the_stack_asked_for_or_all(big: GitRepo, tmp_path: Path) -> None:
    done, out = plan_step(big, tmp_path / "one", EVENT="workflow_dispatch", ONLY="s042")
    assert (done.returncode, out["chunks"]) == (0, [{"name": "stacks 1-1 of 1", "stacks": ["s042"]}])
    done, out = plan_step(big, tmp_path / "all", EVENT="workflow_dispatch", ALL="true")
    assert (done.returncode, out["count"]) == (0, 1000)
    done, out = plan_step(big, tmp_path / "none", EVENT="workflow_dispatch")
    assert done.returncode == 1
    assert "::error::name a stack, or tick 'all' to deploy every stack" in done.stdout


def test_a_manual_run_for_an_unknown_stack_stops(big: GitRepo, tmp_path: Path) -> None:
    done, _ = plan_step(big, tmp_path, EVENT="workflow_dispatch", ONLY="prod")
    assert done.returncode == 2
    assert done.stderr == "error: no stack file for prod in stacks/; 1000 stacks there\n"


# --- reasons, on the example project -------------------------------------------------------------


def affected(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = cli.main(["-C", str(repo.path), "diff", "--base", "main", "--format", "affected"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else err


def reasons(doc: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {s["stack"]: s["reasons"] for s in doc["stacks"]}


def test_reasons_name_the_stack_file_and_the_catalogue_entry(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "jira-dev.example.com", "jira-dev2.example.com")
    repo.edit(
        "scopes/catalogue.yaml",
        "SMTP.Send:             {id: 258f6531-6087-4cc4-bb90-092c5fb3ed3f, adminConsent: false,",
        "SMTP.Send:             {id: 258f6531-6087-4cc4-bb90-092c5fb3ed3f, adminConsent: true,",
    )
    repo.edit("scopes/catalogue.yaml", "source: graph-devx}", "source: graph-devx (checked again)}")  # a note only
    code, doc = affected(repo, capsys)
    assert code == 0, doc
    smtp = {"kind": "catalogue", "file": "scopes/catalogue.yaml", "name": "SMTP.Send"}
    assert reasons(doc) == {
        "dev": [{"kind": "stack", "file": "stacks/Pulumi.dev.yaml"}, smtp],
        "prod": [smtp],
    }
    assert doc["summary"] == "2 of 3 stacks to deploy."
    assert [(e["stack"], e["status"], e["risk"]) for e in doc["stacks"]] == [
        ("dev", "changed", "high"),  # a new redirect URI on an app with a secret; docs/fleet.md shows this document
        ("prod", "changed", "low"),
    ]


def test_a_product_profile_change_names_the_product(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """A use case of Email This Issue gains a scope set: the stacks whose apps use the product are listed."""
    repo.edit(
        "products/email-this-issue.yaml",
        "description: The mail handler reads and marks the mailbox over IMAP.\n    scopeSets: [imap]",
        "description: The mail handler reads and marks the mailbox over IMAP.\n    scopeSets: [imap, graph-read-only]",
    )
    code, doc = affected(repo, capsys)
    assert code == 0, doc
    product = [{"kind": "product", "file": "products/email-this-issue.yaml", "name": "email-this-issue"}]
    assert reasons(doc) == {"dev": product, "prod": product}  # saas names no product


def test_a_policy_change_reaches_every_stack(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.edit("policy/rules.yaml", "maxMonths: 24}", "maxMonths: 23}")
    code, doc = affected(repo, capsys)
    assert code == 0, doc
    policy = [{"kind": "policy", "file": "policy/rules.yaml"}]
    assert reasons(doc) == {"dev": policy, "prod": policy, "saas": policy}
    assert [s["status"] for s in doc["stacks"]] == ["unchanged"] * 3


def test_an_invalid_policy_is_an_error_not_nothing_to_deploy(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.edit("policy/rules.yaml", "maxMonths: 24}", "maxMonths: many}")
    code, err = affected(repo, capsys)
    assert code == 2
    assert err.startswith("error: policy/rules.yaml:")
    assert "maxMonths" in err


def test_a_comment_or_reordering_deploys_nothing(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.edit("stacks/Pulumi.dev.yaml", "config:", "# reviewed\nconfig:")
    code, doc = affected(repo, capsys)
    assert (code, doc["stacks"], doc["summary"]) == (0, [], "0 of 3 stacks to deploy.")


# --- the job list --------------------------------------------------------------------------------


def test_job_list_stays_under_the_matrix_limit() -> None:
    assert fleet.matrix_limit() == 256
    names = [f"s{i}" for i in range(256 * 256)]
    chunks = fleet.job_list(names)
    assert (len(chunks), {len(c["stacks"]) for c in chunks}) == (256, {256})
    with pytest.raises(ValueError, match=r"^65537 stacks need more than 256 chunks of 256; .* at most 65536 stacks"):
        fleet.job_list([*names, "one-more"])
    with pytest.raises(ValueError, match=r"^a chunk holds 1 to 256 stacks \(one GitHub matrix\); got 300$"):
        fleet.job_list(names, 300)
    assert [c["stacks"] for c in fleet.job_list(["a", "b", "c"], 2)] == [["a", "b"], ["c"]]


def run(repo: GitRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["-C", str(repo.path), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_jobs_for_a_person(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(repo, capsys, "fleet", "jobs", "--all", "--chunk-size", "2")
    assert (code, out) == (0, "3 stacks in 2 chunks\n  stacks 1-2 of 3: dev, prod\n  stacks 3-3 of 3: saas\n")


def test_jobs_refuses_what_is_not_an_affected_list(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("affected.json", '{"stacks": "dev"}')
    code, _, err = run(repo, capsys, "fleet", "jobs", "--affected", str(repo.path / "affected.json"))
    assert code == 2
    assert "not a `mailoauth diff --format affected` document" in err


# --- sign-in per tenant --------------------------------------------------------------------------

DEV_TENANT = "11111111-2222-3333-4444-555555555555"
DEPLOYER = "0b0e3f2a-1c5d-4e6f-8a9b-0c1d2e3f4a5b"
ENV_CLIENT = "6a3c3b4e-0000-4000-8000-000000000001"


def test_signin_takes_the_tenant_from_the_stack_file(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    args = ("fleet", "signin", "--stack", "dev", "--client-id", ENV_CLIENT)
    code, out, _ = run(repo, capsys, *args, "--format", "github")
    assert code == 0
    assert out == (
        f"stack=dev\ntenant-id={DEV_TENANT}\nclient-id={ENV_CLIENT}\ncloud=global\nazure-environment=azurecloud\n"
    )
    code, out, _ = run(repo, capsys, *args)
    assert (code, out) == (0, f"stack dev: tenant {DEV_TENANT} (global), deployer client id {ENV_CLIENT}\n")


@pytest.mark.parametrize(
    ("environment", "azure_login"),
    [("usgovernmentl4", "azureusgovernment"), ("usgovernmentl5", "azureusgovernment"), ("china", "azurechinacloud")],
)
def test_signin_names_the_azure_login_environment_of_the_stacks_cloud(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], environment: str, azure_login: str
) -> None:
    """A GCC High, DoD or 21Vianet tenant is not reachable through the global cloud's sign-in."""
    repo.edit("stacks/Pulumi.dev.yaml", "azuread:environment: global", f"azuread:environment: {environment}")
    code, out, _ = run(repo, capsys, "fleet", "signin", "--stack", "dev", "--client-id", ENV_CLIENT, "--format", "json")
    assert code == 0
    assert (json.loads(out)["cloud"], json.loads(out)["azure-environment"]) == (environment, azure_login)


def test_deployers_file_maps_tenants_to_client_ids(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("deployers.yaml", f"tenants:\n  {DEV_TENANT}: {DEPLOYER.upper()}\ndefault: {ENV_CLIENT}\n")
    code, out, _ = run(repo, capsys, "fleet", "signin", "--stack", "dev", "--client-id", ENV_CLIENT, "--format", "json")
    assert (code, json.loads(out)["client-id"]) == (0, DEPLOYER)
    code, out, _ = run(repo, capsys, "fleet", "signin", "--stack", "saas", "--format", "json")
    assert (code, json.loads(out)["client-id"]) == (0, ENV_CLIENT)  # no entry for saas's tenant: the default


def test_signin_without_a_deployer_stops(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(repo, capsys, "fleet", "signin", "--stack", "dev", "--client-id", "")
    assert (code, out) == (2, "")
    assert err == (
        f"error: stacks/Pulumi.dev.yaml: no deployer client id for tenant {DEV_TENANT}: add it under 'tenants:' "
        "in deployers.yaml, or set the variable AZURE_CLIENT_ID in the GitHub environment 'dev'\n"
    )


def test_a_bad_deployers_file_names_line_and_key(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("deployers.yaml", f"tenants:\n  {DEV_TENANT}: not-a-guid\n")
    code, out, err = run(repo, capsys, "fleet", "signin", "--stack", "dev")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: deployers.yaml:2: tenants.{DEV_TENANT}: expected the deployer app's client id")
    assert "not-a-guid" in err


# --- the nightly summary -------------------------------------------------------------------------


def write_check(folder: Path, check: str, status: int | None, doc: Any = None, err: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if status is not None:
        (folder / f"{check}.exit").write_text(f"{status}\n")
    if doc is not None:
        (folder / f"{check}.json").write_text(json.dumps(doc))
    (folder / f"{check}.err").write_text(err)


CLEAN_AUDIT = {"stack": "a", "drift": False, "apps": {"app-0": {"findings": []}}}
NO_SECRETS_DUE = {"due": 0, "secrets": [{"app": "app-0", "slot": "secret", "status": "ok", "expires": "2027-09-01"}]}
DRIFT = {"kind": "permission", "message": "User.Read is granted but not declared", "fix": "run pulumi up"}
EXPIRING = {
    "app": "app-1",
    "slot": "secret",
    "expires": "2026-12-10",
    "daysLeft": 13,
    "status": "expiring",
    "action": "rotate",
}


def not_run(check: str) -> str:
    return f"no result: the {check} step did not finish (cancelled, timed out or never run)"


def test_summary_lists_drift_due_secrets_and_failed_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    write_check(reports / "clean", "audit", 0, CLEAN_AUDIT)
    write_check(reports / "clean", "secrets", 0, NO_SECRETS_DUE)
    write_check(reports / "drifted", "audit", 1, {"drift": True, "apps": {"app-0": {"findings": [DRIFT]}}})
    write_check(reports / "drifted", "secrets", 1, {"due": 1, "secrets": [EXPIRING]})
    write_check(
        reports / "broken", "audit", 2, err="warning: x\nerror: AADSTS7000215: Invalid client secret provided\n"
    )
    write_check(reports / "broken", "secrets", 0, NO_SECRETS_DUE)
    write_check(reports / "cancelled", "secrets", 0, NO_SECRETS_DUE)  # the audit step never finished
    write_check(reports / "garbled", "audit", 0)  # exit 0 without JSON
    write_check(reports / "garbled", "secrets", 0, NO_SECRETS_DUE)
    (tmp_path / "jobs.json").write_text(
        json.dumps({"stacks": ["broken", "cancelled", "clean", "drifted", "garbled", "lost"]})
    )
    code = cli.main(
        [
            "fleet",
            "summary",
            "--reports",
            str(reports),
            "--jobs",
            str(tmp_path / "jobs.json"),
            "--json",
            str(tmp_path / "out.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert out == (
        "## mailoauth fleet report\n\n"
        "**5 of 6 stacks need a person**: 1 drifted, 1 with secrets due, 4 could not be checked.\n\n"
        "| stack | drift | secrets due | errors |\n|---|---|---|---|\n"
        "| `broken` | - | - | audit: exit 2: error: AADSTS7000215: Invalid client secret provided |\n"
        f"| `cancelled` | - | - | audit: {not_run('audit')} |\n"
        "| `garbled` | - | - | audit: exit 0 but its JSON output cannot be read (FileNotFoundError) |\n"
        f"| `lost` | - | - | audit: {not_run('audit')}<br>secrets: {not_run('secrets')} |\n"
        "| `drifted` | app-0: User.Read is granted but not declared | app-1/secret: expiring 2026-12-10 | - |\n"
    )
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["counts"] == {"drift": 1, "secretsDue": 1, "errors": 4}
    assert doc["results"][-1] == {"stack": "clean", "status": "ok", "drift": [], "secrets": [], "errors": []}
    assert doc["results"][-2]["secrets"] == [
        {k: EXPIRING[k] for k in ("app", "slot", "expires", "daysLeft", "status", "action")}
    ]


def test_summary_of_a_clean_fleet_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        write_check(tmp_path / "r" / name, "audit", 0, CLEAN_AUDIT)
        write_check(tmp_path / "r" / name, "secrets", 0, NO_SECRETS_DUE)
    (tmp_path / "jobs.json").write_text(json.dumps({"stacks": ["a", "b"]}))
    code = cli.main(["fleet", "summary", "--reports", str(tmp_path / "r"), "--jobs", str(tmp_path / "jobs.json")])
    assert (code, capsys.readouterr().out) == (
        0,
        "## mailoauth fleet report\n\nAll 2 stacks clean: no drift, no secret due, no error.\n",
    )


def test_nightly_steps_record_a_check_that_cannot_sign_in_as_an_error(repo: GitRepo, tmp_path: Path) -> None:
    """The nightly job's own steps, for real: with no Azure credentials, the audit is an error in the summary."""
    job = workflow("fleet-report-stacks.yml")["jobs"]["check"]
    steps = {s.get("name"): s["run"] for s in job["steps"] if "run" in s}
    env = {
        **runner_env(tmp_path / "runner"),
        "STACK": "dev",
        "OUT": "reports/dev",
        "AZURE_CONFIG_DIR": str(tmp_path / "az"),
    }
    for name in ("Secrets report", "Audit"):
        done = subprocess.run(["bash", "-e", "-c", steps[name]], cwd=repo.path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    doc = fleet.merge_reports(repo.path / "reports", ["dev"])
    no_credentials = "no Azure credentials: the azure-cli credential is not available here (see docs/live-checks.md)"
    assert doc["results"][0]["errors"] == [{"check": "audit", "message": f"exit 2: error: {no_credentials}"}]
    assert doc["results"][0]["secrets"] == []


def test_secrets_report_for_one_stack(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """What each nightly job runs: the report of its own stack only."""
    code, out, _ = run(repo, capsys, "secrets", "report", "--stack", "prod", "--format", "json")
    assert code == 0
    assert {(s["stack"], s["app"]) for s in json.loads(out)["secrets"]} == {
        ("prod", "jira-mail-in"),
        ("prod", "jira-mail-out"),
    }
    code, out, err = run(repo, capsys, "secrets", "report", "--stack", "prd")
    assert (code, out) == (2, "")
    assert "no stack 'prd' (working tree); did you mean 'prod'?" in err


def fresh_step(clone: Path, tmp_path: Path, commit: str, stack: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """deploy-stacks.yml's staleness check, run in a clone checked out at `commit`."""
    (step,) = [s for s in workflow("deploy-stacks.yml")["jobs"]["up"]["steps"] if s.get("id") == "fresh"]
    runner = runner_env(tmp_path / f"runner-{stack}-{commit[:7]}")
    (clone / "venv").mkdir(exist_ok=True)
    if not (clone / "venv" / "bin").exists():
        (clone / "venv" / "bin").symlink_to(Path(runner["PATH"].split(":")[0]))
    env = {**runner, "GITHUB_SHA": commit, "STACK": stack}
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=clone, env=env, capture_output=True, text=True)
    return done, Path(runner["GITHUB_OUTPUT"]).read_text() if done.returncode == 0 else ""


def test_an_older_run_skips_a_stack_that_main_has_changed_since(repo: GitRepo, tmp_path: Path) -> None:
    older = repo.git("rev-parse", "main")
    repo.edit("stacks/Pulumi.dev.yaml", "jira-dev.example.com", "jira-dev2.example.com")
    newer = repo.commit("dev: new callback")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo.path), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", older], check=True)
    done, out = fresh_step(clone, tmp_path, older, "dev")
    assert (done.returncode, out) == (0, "stale=true\n"), done.stderr
    assert f"::notice::dev changed again on main ({newer}); the deploy of that commit applies it" in done.stdout
    done, out = fresh_step(clone, tmp_path, older, "prod")  # prod did not change: the older run deploys it
    assert (done.returncode, out) == (0, "stale=false\n"), done.stderr
    done, out = fresh_step(clone, tmp_path, newer, "dev")  # the newest commit is never stale
    assert (done.returncode, out) == (0, "stale=false\n"), done.stderr


def test_nightly_workflow_is_wired_as_documented() -> None:
    nightly = workflow("fleet-report.yml")
    assert nightly[True]["schedule"] == [{"cron": "41 4 * * *"}]
    check = nightly["jobs"]["check"]
    assert (check["uses"], check["strategy"]["max-parallel"]) == ("./.github/workflows/fleet-report-stacks.yml", 1)
    assert check["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.plan.outputs.chunks) }}"}
    summary = nightly["jobs"]["summary"]
    assert summary["if"] == "always() && needs.plan.result == 'success'"
    assert summary["permissions"] == {"contents": "read", "issues": "write"}
    per_stack = workflow("fleet-report-stacks.yml")["jobs"]["check"]
    assert (per_stack["environment"], per_stack["permissions"]["id-token"]) == ("fleet-audit", "write")
    assert per_stack["strategy"]["matrix"]["stack"] == "${{ fromJSON(inputs.stacks) }}"
    (upload,) = [s for s in per_stack["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert (upload["if"], upload["with"]["name"]) == ("always()", "fleet-check-${{ matrix.stack }}")


def test_nightly_merge_step_flags_attention(tmp_path: Path) -> None:
    """fleet-report.yml's merge step, run as a runner would on downloaded reports."""
    (step,) = [s for s in workflow("fleet-report.yml")["jobs"]["summary"]["steps"] if s.get("id") == "summary"]
    work = tmp_path / "work"
    write_check(work / "reports" / "a", "audit", 0, CLEAN_AUDIT)
    write_check(work / "reports" / "a", "secrets", 1, {"due": 1, "secrets": [EXPIRING]})
    (work / "jobs.json").write_text(json.dumps({"stacks": ["a"]}))
    runner = runner_env(tmp_path / "runner")
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=runner, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(runner["GITHUB_OUTPUT"]).read_text() == "attention=true\n"
    summary = Path(runner["GITHUB_STEP_SUMMARY"]).read_text()
    assert "| `a` | - | app-1/secret: expiring 2026-12-10 | - |" in summary
    assert json.loads((work / "fleet-report.json").read_text())["needsAttention"] == 1


def test_a_client_id_pinned_in_the_stack_file_wins(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """The azuread provider reads azuread:clientId from the stack's config before ARM_CLIENT_ID: signin says so."""
    repo.write("deployers.yaml", f"tenants:\n  {DEV_TENANT}: {DEPLOYER}\n")
    repo.edit(
        "stacks/Pulumi.dev.yaml", "  azuread:environment", f"  azuread:clientId: {ENV_CLIENT}\n  azuread:environment"
    )
    code, out, _ = run(repo, capsys, "fleet", "signin", "--stack", "dev", "--format", "json")
    assert (code, json.loads(out)["client-id"]) == (0, ENV_CLIENT)
    repo.edit("stacks/Pulumi.dev.yaml", f"azuread:clientId: {ENV_CLIENT}", "azuread:clientId: deployer")
    code, _, err = run(repo, capsys, "fleet", "signin", "--stack", "dev")
    assert (code, err) == (
        2,
        "error: stacks/Pulumi.dev.yaml: config.azuread:clientId: 'deployer' is not a GUID (the deployer's client id)\n",
    )


def test_summary_refuses_a_jobs_file_it_cannot_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def summary(jobs: Path) -> tuple[int, str]:
        code = cli.main(["fleet", "summary", "--reports", str(tmp_path), "--jobs", str(jobs)])
        return code, capsys.readouterr().err

    assert summary(tmp_path / "none.json") == (
        2,
        f"error: --jobs {tmp_path / 'none.json'}: cannot be read (No such file or directory)\n",
    )
    (tmp_path / "jobs.json").write_text("count=3\n")
    code, err = summary(tmp_path / "jobs.json")
    assert code == 2
    assert err.endswith("; give it the output of `mailoauth fleet jobs --format json`\n")
    (tmp_path / "jobs.json").write_text('{"count": 3}')
    assert summary(tmp_path / "jobs.json") == (
        2,
        f"error: --jobs {tmp_path / 'jobs.json'}: not a `mailoauth fleet jobs --format json` document "
        "(needs a 'stacks' list of names)\n",
    )


def test_signin_works_for_a_stack_whose_secret_has_expired(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """The nightly audit of such a stack is the one that matters: its sign-in must not fail."""
    repo.edit("stacks/Pulumi.dev.yaml", "expires: 2027-11-15", "expires: 2026-11-01")
    code, out, _ = run(repo, capsys, "fleet", "signin", "--stack", "dev", "--client-id", ENV_CLIENT, "--format", "json")
    assert (code, json.loads(out)["tenant-id"]) == (0, DEV_TENANT)
