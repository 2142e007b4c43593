"""`mailoauth validate [--stack NAME ... | --all]`: every stack, every rule, one report (text or JSON).

The report lists each problem, then one line per stack and one per rule with its level and what it
found, so a reviewer sees which guardrails ran and passed. Exit status 2 when any error (a core check
or a mandatory rule) is found, 0 otherwise (advisories are warnings).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mailoauth import cli
from mailoauth.base.problems import Problem
from mailoauth.base.style import colour_on, count, paint
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.guardrails import rules
from mailoauth.project import files, loader
from mailoauth.project.context import ProjectContext
from mailoauth.project.guard import load_policy

CORE = "(core checks)"


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "validate",
        ["mailoauth validate --all", "mailoauth validate --stack dev prod --format md"],
        {cli.EXIT_OK: "every stack is valid (warnings allowed)", cli.EXIT_INVALID: "an error in a stack, or bad input"},
    )
    group = p.add_mutually_exclusive_group(required=True)
    cli.add_stack(group, required=False, many=True)
    group.add_argument("--all", action="store_true", help="every stack under stacks/")
    cli.add_format(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    policy = load_policy(tree)
    names = files.stack_names(tree) if args.all else list(dict.fromkeys(args.stack))
    context = ProjectContext(catalogue.load(tree), guard=rules.Guard(policy))
    stacks, problems = loader.check_stacks(tree, context, names)
    problems += [w for s in stacks.values() for w in s.warnings]
    report = build_report(names, problems, policy)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        markdown = args.format == "markdown"
        print(render_markdown(report, problems) if markdown else render_text(report, problems, colour_on(sys.stdout)))
    return cli.EXIT_OK if report["ok"] else cli.EXIT_INVALID


def _counts(problems: list[Problem]) -> dict[str, int]:
    return {
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }


def build_report(names: list[str], problems: list[Problem], policy: rules.Policy) -> dict[str, Any]:
    """The JSON report: per stack, per rule (core checks as one row), and every problem."""
    by_file: dict[str, list[Problem]] = {}
    by_rule: dict[str | None, list[Problem]] = {}
    for p in problems:  # grouped once: a fleet has thousands of stacks and problems
        by_file.setdefault(p.file, []).append(p)
        by_rule.setdefault(p.rule, []).append(p)
    stacks = {}
    for name in names:
        file = files.stack_file(name)
        counts = _counts(by_file.get(file, []))
        stacks[name] = {"file": file, "ok": counts["errors"] == 0, **counts}
    rule_rows = [
        {
            "id": rule.id,
            "level": policy.level(rule),
            "rationale": rule.rationale,
            "params": policy.params(rule),
            **_counts(by_rule.get(rule.id, [])),
        }
        for rule in rules.RULES
    ]
    core = _counts([p for p in problems if p.rule not in rules.RULE_IDS])
    rule_rows.append({"id": CORE, "level": "mandatory", "rationale": "file syntax, keys, Entra limits", **core})
    return {
        "ok": not any(p.severity == "error" for p in problems),
        "stacks": stacks,
        "rules": rule_rows,
        "problems": [p.as_json() for p in problems],
    }


def summary(report: dict[str, Any], problems: list[Problem]) -> str:
    total = _counts(problems)
    valid = sum(s["ok"] for s in report["stacks"].values())
    return (
        f"{count(len(report['stacks']), 'stack')}: {valid} valid; {count(total['errors'], 'error')}, "
        f"{count(total['warnings'], 'warning')}"
    )


def render_text(report: dict[str, Any], problems: list[Problem], colour: bool = False) -> str:
    lines = [*(paint(str(p), "high" if p.severity == "error" else "", colour) for p in problems)]
    lines += [""] if problems else []
    lines.append(f"{'stack':<16} {'result':<7} {'errors':>6} {'warnings':>8}  file")
    for name, s in report["stacks"].items():
        result = paint(f"{'ok' if s['ok'] else 'FAILED':<7}", "ok" if s["ok"] else "failed", colour)
        lines.append(f"{name:<16} {result} {s['errors']:>6} {s['warnings']:>8}  {s['file']}")
    lines += ["", f"{'rule':<28} {'level':<9} {'errors':>6} {'warnings':>8}  rationale"]
    for r in report["rules"]:
        lines.append(f"{r['id']:<28} {r['level']:<9} {r['errors']:>6} {r['warnings']:>8}  {r['rationale']}")
    lines += ["", summary(report, problems)]
    return "\n".join(lines)


def render_markdown(report: dict[str, Any], problems: list[Problem]) -> str:
    """A pull-request comment or job summary: the summary line, the problems, a row per stack and per rule."""
    out = [f"**mailoauth validate**: {summary(report, problems)}", ""]
    out += [f"- **{p.severity}** {_cell(str(p).split(': ', 1)[1])}" for p in problems]
    out += [""] if problems else []
    out += ["| stack | result | errors | warnings | file |", "|---|---|---|---|---|"]
    out += [
        f"| `{name}` | {'ok' if s['ok'] else '**FAILED**'} | {s['errors']} | {s['warnings']} | `{s['file']}` |"
        for name, s in report["stacks"].items()
    ]
    out += ["", "| rule | level | errors | warnings | rationale |", "|---|---|---|---|---|"]
    out += [
        f"| `{r['id']}` | {r['level']} | {r['errors']} | {r['warnings']} | {_cell(r['rationale'])} |"
        for r in report["rules"]
    ]
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
