"""`mailoauth validate [--stack NAME ... | --all]`: every stack, every rule, one report (text or JSON).

The report lists each problem, then one line per stack and one per rule with its level and what it
found, so a reviewer sees which guardrails ran and passed. Exit status 2 when any error (a core check
or a mandatory rule) is found, 0 otherwise (advisories are warnings).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mailoauth import cli
from mailoauth.base.problems import Problem
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.guardrails import rules
from mailoauth.project import stackfile

CORE = "(core checks)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check stack files against the core checks and the guardrails")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--stack", action="append", help="stack name (repeatable)")
    group.add_argument("--all", action="store_true", help="every stack under stacks/")
    cli.add_format(p, ("text", "json"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    policy = stackfile.load_policy(tree)
    names = stackfile.stack_names(tree) if args.all else list(dict.fromkeys(args.stack))
    context = stackfile.ProjectContext(catalogue.load(tree), guard=rules.Guard(policy))
    stacks, problems = stackfile.check_stacks(tree, context, names)
    problems += [w for s in stacks.values() for w in s.warnings]
    report = build_report(names, problems, policy)
    print(json.dumps(report, indent=2) if args.format == "json" else render_text(report, problems))
    return cli.EXIT_OK if report["ok"] else cli.EXIT_INVALID


def _counts(problems: list[Problem]) -> dict[str, int]:
    return {
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }


def build_report(names: list[str], problems: list[Problem], policy: rules.Policy) -> dict[str, Any]:
    """The JSON report: per stack, per rule (core checks as one row), and every problem."""
    stacks = {}
    for name in names:
        file = stackfile.stack_file(name)
        counts = _counts([p for p in problems if p.file == file])
        stacks[name] = {"file": file, "ok": counts["errors"] == 0, **counts}
    rule_rows = [
        {
            "id": rule.id,
            "level": policy.level(rule),
            "rationale": rule.rationale,
            "params": policy.params(rule),
            **_counts([p for p in problems if p.rule == rule.id]),
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


def render_text(report: dict[str, Any], problems: list[Problem]) -> str:
    lines = [*(str(p) for p in problems), *([""] if problems else [])]
    lines.append(f"{'stack':<16} {'result':<7} {'errors':>6} {'warnings':>8}  file")
    for name, s in report["stacks"].items():
        lines.append(f"{name:<16} {'ok' if s['ok'] else 'FAILED':<7} {s['errors']:>6} {s['warnings']:>8}  {s['file']}")
    lines += ["", f"{'rule':<28} {'level':<9} {'errors':>6} {'warnings':>8}  rationale"]
    for r in report["rules"]:
        lines.append(f"{r['id']:<28} {r['level']:<9} {r['errors']:>6} {r['warnings']:>8}  {r['rationale']}")
    total = _counts(problems)
    valid = sum(s["ok"] for s in report["stacks"].values())
    lines += [
        "",
        f"{len(report['stacks'])} stack(s): {valid} valid; {total['errors']} error(s), {total['warnings']} warning(s)",
    ]
    return "\n".join(lines)
