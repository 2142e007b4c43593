"""`mailoauth validate [--stack NAME ... | --all]`: every problem of the chosen stacks in one report."""

from __future__ import annotations

import argparse

from mailoauth import catalogue, cli, stackfile
from mailoauth.tree import WorkTree


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check stack files and scope sets without showing the plan")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--stack", action="append", help="stack name (repeatable)")
    group.add_argument("--all", action="store_true", help="every stack under stacks/")
    cli.add_format(p, ("text", "json"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    stacks = stackfile.load_stacks(tree, catalogue.load(tree), None if args.all else args.stack)
    warnings = [w for s in stacks.values() for w in s.warnings]
    if args.format == "json":
        cli.report_problems(warnings, "json")
    else:
        cli.report_problems(warnings)
        print(
            f"{len(stacks)} stack(s) valid: {', '.join(stacks)}" + (f"; {len(warnings)} warning(s)" if warnings else "")
        )
    return cli.EXIT_OK
