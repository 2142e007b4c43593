"""The README documents every input and output the code has, and CI runs the README's test command."""

from __future__ import annotations

import re
from datetime import date

from mailoauth.desired.model import APP_FIELDS, CONFIG_KEYS, GRANT_IMPORT_FIELDS, IMPORT_FIELDS, SECRET_FIELDS, Key
from mailoauth.project.context import ProjectContext
from tests.projectcopy import ROOT

README = (ROOT / "README.md").read_text()


def type_label(key: Key) -> str:
    labels = {
        "string": "string",
        "bool": "boolean",
        "date": "date",
        "strings": "list of strings",
        "object": "mapping",
        "objects": "list of mappings",
        "map": "mapping of app key to app",
    }
    if key.kind == "enum":
        return "one of " + ", ".join(f"`{c}`" for c in key.choices)
    return labels[key.kind] + (" (GUID)" if key.pattern and "{12}" in key.pattern else "")


def default_label(key: Key) -> str:
    if key.default is None:
        return ""
    return f"`{str(key.default).lower() if isinstance(key.default, bool) else key.default}`"


def row(name: str, key: Key) -> str:
    return f"| `{name}` | {type_label(key)} | {'yes' if key.required else 'no'} | {default_label(key)} | {key.doc} |"


def config_table() -> str:
    rows = ["| key | type | required | default | meaning |", "|---|---|---|---|---|"]
    rows += [row(k.name, k) for k in CONFIG_KEYS]
    rows += [row(f"mailoauth:apps.<key>.{k.name}", k) for k in APP_FIELDS]
    rows += [
        row(k.name, k).replace(f"| `{k.name}` |", f"| `secret.{k.name}` / `secrets[].{k.name}` |", 1)
        for k in SECRET_FIELDS
    ]
    rows += [row(f"import.{k.name}", k) for k in IMPORT_FIELDS]
    rows += [row(f"import.consentGrants[].{k.name}", k) for k in GRANT_IMPORT_FIELDS]
    return "\n".join(rows)


def test_config_table_is_generated_from_the_model() -> None:
    block = README.split("<!-- config-table:start")[1].split("-->", 1)[1].split("<!-- config-table:end -->")[0]
    assert block.strip() == config_table(), "regenerate the README table:\n" + config_table()


def test_every_output_is_documented() -> None:
    from mailoauth.deploy.program import app_output
    from mailoauth.project.assembly import build_stack
    from tests.test_validation import CATALOGUE, base

    stack = build_stack("dev", base(), "f", ProjectContext(CATALOGUE, date(2026, 11, 27)))
    documented = set(re.findall(r"^\| `apps\.<key>\.(\w+)`", README, flags=re.M))
    assert documented == set(app_output(stack, stack.apps["jira"], "cid"))
    assert "| `clientSecrets.<key>` |" in README


def test_ci_runs_the_readme_test_command() -> None:
    command = re.search(r"Run the whole test suite.*?```sh\n(.+?)\n```", README, flags=re.S).group(1)
    ci = (ROOT / ".ci" / "run").read_text()
    for step in command.split(" && "):
        step = step.replace("pip install -e", "pip install --quiet -e")
        assert step in ci, f"{step!r} missing from .ci/run"


def test_the_first_command_installs_only_what_plan_needs() -> None:
    """The light install (PyYAML) for an offline plan; every extra named with the step that needs it."""
    import tomllib

    first = README.split("```sh\n", 1)[1].split("\n```", 1)[0]
    assert first == "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && mailoauth plan --stack dev"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == ["PyYAML>=6.0"]
    table = README.split("| step | extra | install |", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"\| `([a-z]+)`(?:, `([a-z]+)`)? \|", table))
    assert {extra for pair in named for extra in pair if extra} == set(project["optional-dependencies"])
    assert ".[deploy]" in (ROOT / "requirements.txt").read_text()  # what `pulumi install` installs for pulumi up


def test_every_guardrail_is_in_the_readme_and_the_guide() -> None:
    from mailoauth.guardrails.rules import RULES

    guide = (ROOT / "docs" / "guardrails.md").read_text()
    for rule in RULES:
        assert f"| `{rule.id}` | {rule.level}" in README, rule.id
        assert f"| `{rule.id}` | {rule.level}" in guide, rule.id
