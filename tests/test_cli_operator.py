"""The command line as an operator meets it: one registry, one way to name a stack, an app and a format,
help that shows an example and the exit statuses, colour only on a terminal, and shell completion."""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailoauth import cli
from tests.gitrepo import GitRepo
from tests.projectcopy import copy_project
from tests.pulumi_harness import ROOT
from tests.test_cli import loaded_modules

RED = "\033[1;31m"


def mailoauth(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    run_env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mailoauth", *args], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=60
    )


# -- the lazy registry ------------------------------------------------------------------------------------


def test_only_the_command_that_runs_is_imported() -> None:
    commands = sorted(m for m in loaded_modules("plan", "--stack", "dev") if m.startswith("mailoauth.commands."))
    assert commands == ["mailoauth.commands.plan"]
    assert [m for m in loaded_modules("schema") if m.startswith("mailoauth.commands.")] == ["mailoauth.commands.schema"]


def test_the_registry_lists_every_command_module_with_its_summary() -> None:
    modules = sorted(p.stem for p in (ROOT / "mailoauth" / "commands").glob("*.py") if p.stem != "__init__")
    assert sorted(cli.COMMANDS) == modules
    top = mailoauth("--help").stdout
    for name, summary in cli.COMMANDS.items():
        assert f"    {name}" in top and summary.split()[0] in top


def parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and action parser of the full command line."""
    found, todo = [], [("mailoauth", cli.build_parser(every=True))]
    while todo:
        name, parser = todo.pop()
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in subs:
            todo += [(f"{name} {n}", p) for n, p in action.choices.items()]
        found.append((name, parser))
    return found


def test_every_command_and_action_has_an_example_and_its_exit_statuses() -> None:
    for name, parser in parsers():
        text = parser.format_help()
        assert "examples:\n  " in text and "mailoauth " in text.split("examples:")[1], name
        assert "exit status:\n  " in text, name


def test_options_share_one_spelling_and_placeholder() -> None:
    """--stack NAME, --app KEY, --format with md, spans SPAN, URLs URL, sub-commands ACTION."""
    metavars: dict[str, set[str]] = {}
    for _name, parser in parsers():
        for action in parser._actions:
            for option in action.option_strings:
                metavars.setdefault(option, set()).add(str(action.metavar))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction) and parser.prog != "mailoauth":
                assert action.metavar == "ACTION", parser.prog
    assert metavars["--stack"] == {"NAME"}
    assert metavars["--app"] == {"KEY"}
    assert metavars["--graph-url"] == {"URL"}
    assert metavars["--within"] == {"SPAN"}
    assert all(m.startswith("text|") for m in metavars["--format"])


# -- --stack, --app, --format ----------------------------------------------------------------------------


def test_a_stack_file_path_names_its_stack() -> None:
    by_name, by_path = mailoauth("plan", "--stack", "dev"), mailoauth("plan", "--stack", "stacks/Pulumi.dev.yaml")
    assert by_path.returncode == 0 and by_path.stdout == by_name.stdout
    assert mailoauth("plan", "--stack", "./stacks/Pulumi.dev.yml").stdout == by_name.stdout


@pytest.mark.parametrize("bad", ["dev/../prod", "stacks/Pulumi.dev.txt", ""])
def test_a_malformed_stack_name_is_a_usage_error(bad: str) -> None:
    result = mailoauth("plan", "--stack", bad)
    assert result.returncode == 2
    assert f"argument --stack: '{bad}' is not a stack name or stack file (stacks/Pulumi.NAME.yaml)" in result.stderr


def test_validate_takes_several_stacks_as_diff_does() -> None:
    result = mailoauth("validate", "--stack", "dev", "stacks/Pulumi.prod.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("2 stacks: 2 valid; 0 errors, 2 warnings")  # SMTP AUTH, dev and prod


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["plan", "--stack", "dev"], "**stack dev: 1 app registration, 1 service principal, 1 client secret, 0 admin"),
        (["validate", "--all"], "**mailoauth validate**: 3 stacks: 3 valid; 0 errors, 2 warnings"),
        (["explain", "AADSTS50011"], "**AADSTS50011**"),
        (["secrets", "report"], "**4 secrets in 3 stacks: 0 expired, 0 expiring by 2026-12-27"),
    ],
)
def test_md_is_markdown_wherever_a_report_is_printed(args: list[str], first: str) -> None:
    short, long = mailoauth(*args, "--format", "md"), mailoauth(*args, "--format", "markdown")
    assert short.stdout == long.stdout
    assert short.stdout.startswith(first), short.stdout


def test_the_markdown_plan_lists_the_mail_hosts() -> None:
    text = mailoauth("plan", "--stack", "dev", "--format", "md").stdout
    assert "- imap connection: outlook.office365.com:993 (tls), scope " in text
    assert "- smtp connection: smtp.office365.com:587 (starttls), scope " in text


def test_counts_read_as_english() -> None:
    plan = mailoauth("plan", "--stack", "dev").stdout
    assert plan.startswith(
        "stack dev: 1 app registration, 1 service principal, 1 client secret, 0 admin consent grants"
    )
    assert "(s)" not in plan + mailoauth("validate", "--all").stdout + mailoauth("secrets", "report").stdout


@pytest.fixture
def expired_dev(tmp_path: Path) -> Path:
    """A copy of the project whose dev secret expired on 2026-11-01 (today is 2026-11-27)."""
    project = copy_project(tmp_path / "project")
    dev = project / "stacks" / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("expires: 2027-11-15", "expires: 2026-11-01"))
    return project


def test_an_expired_slot_warns_with_the_rotate_fix_and_blocks_nothing(expired_dev: Path) -> None:
    project = expired_dev
    plan = mailoauth("-C", str(project), "plan", "--stack", "dev")
    assert plan.returncode == 0
    assert (
        "warning: stacks/Pulumi.dev.yaml:16: config.mailoauth:apps.jira-mail-in.secret.expires: secret slot expired on "
        "2026-11-01 (today is 2026-11-27); nothing can sign in with it; run `mailoauth secrets rotate --stack dev "
        "--app jira-mail-in` (it drops expired slots and adds a new one), then switch the mail handler to the new "
        "slot\n"
    ) in plan.stderr
    validate = mailoauth("-C", str(project), "validate", "--all")
    assert validate.returncode == 0 and validate.stdout.rstrip().endswith("3 stacks: 3 valid; 0 errors, 3 warnings")


# -- explain -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["AADSTS7000215", "aadsts7000215", "7000215"])
def test_explain_finds_a_code_in_any_case_and_without_its_prefix(code: str) -> None:
    result = mailoauth("explain", code)
    assert result.returncode == 0
    assert result.stdout.startswith("AADSTS7000215\n  means:  The client secret is wrong")


# -- colour ---------------------------------------------------------------------------------------------------


def in_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run `mailoauth ARGS` with stdout and stderr on a pseudo-terminal; its exit status and what it printed."""
    primary, secondary = pty.openpty()
    run_env = {**os.environ, "MAILOAUTH_TODAY": "2026-11-27", "PYTHONPATH": str(ROOT), "TERM": "xterm", **env}
    if "NO_COLOR" not in env:
        run_env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "mailoauth", *args], cwd=cwd, env=run_env, stdout=secondary, stderr=secondary
    )
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([primary], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(primary, 65536)
        except OSError:  # the terminal closed: the process has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    return process.wait(timeout=30), b"".join(chunks).decode()


@pytest.fixture
def risky_change(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "project")
    repo.commit("examples")
    repo.edit(
        "stacks/Pulumi.dev.yaml",
        "useCases: [mail-handler-imap, send-smtp]",
        "useCases: [mail-handler-imap, send-smtp]\n      scopes: [Mail.Send]",
    )
    return repo


def test_high_risk_rows_are_red_on_a_terminal_only(risky_change: GitRepo) -> None:
    args = ["diff", "--base", "main"]
    code, shown = in_terminal(args, risky_change.path, {})
    assert code == 0
    assert f"      {RED}+ permission        Mail.Send" in shown
    assert "\033[" not in in_terminal(args, risky_change.path, {"NO_COLOR": "1"})[1]
    piped = subprocess.run(
        [sys.executable, "-m", "mailoauth", *args],
        cwd=risky_change.path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "+ permission        Mail.Send" in piped.stdout and "\033[" not in piped.stdout


def test_expired_secrets_and_failed_stacks_are_red_on_a_terminal(expired_dev: Path) -> None:
    project = expired_dev
    code, shown = in_terminal(["secrets", "report"], project, {})
    assert code == 1 and f"{RED}expired\033[0m" in shown
    (project / "stacks" / "Pulumi.bad.yaml").write_text("config: {}\n")
    code, shown = in_terminal(["validate", "--all"], project, {})
    assert code == 2 and f"{RED}FAILED " in shown


# -- shell completion ------------------------------------------------------------------------------------------


def complete(script: str, *words: str) -> list[str]:
    """What bash offers after `words` (the last one being completed), through the generated script itself."""
    line = " ".join(words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n"
        "_shtab_mailoauth; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return sorted(result.stdout.split())


def test_the_generated_bash_completion_completes_commands_actions_and_options(tmp_path: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    result = mailoauth("completion", "bash")
    assert result.returncode == 0, result.stderr
    script = tmp_path / "mailoauth.bash"
    script.write_text(result.stdout)
    assert complete(str(script), "mailoauth", "se") == ["secrets"]
    assert complete(str(script), "mailoauth", "secrets", "r") == ["report", "retire", "rotate"]
    assert complete(str(script), "mailoauth", "diff", "--fa") == ["--fail-on"]
    assert "completion" in complete(str(script), "mailoauth", "")


def test_a_status_column_is_painted_only_when_asked() -> None:
    from mailoauth.base.tables import text_table

    rows = [("pass", "licence", "ok"), ("warn", "ews", "retiring"), ("fail", "mailbox", "missing")]
    plain = text_table(("status", "check", "detail"), rows)
    painted = text_table(("status", "check", "detail"), rows, colour=True)
    assert plain[1:] == ["pass    licence  ok", "warn    ews      retiring", "fail    mailbox  missing"]
    assert painted[0] == plain[0] == "STATUS  CHECK    DETAIL"
    assert painted[1:] == [
        "\033[32mpass  \033[0m  licence  ok",
        "\033[33mwarn  \033[0m  ews      retiring",
        f"{RED}fail  \033[0m  mailbox  missing",
    ]
