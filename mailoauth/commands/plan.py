"""`mailoauth plan --stack NAME`: what `pulumi up` would create, offline, without Pulumi."""

from __future__ import annotations

import argparse
import json
import sys

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.review import plan


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "plan",
        ["mailoauth plan --stack dev", "mailoauth plan --stack stacks/Pulumi.prod.yaml --format md"],
        {cli.EXIT_OK: "the stack is valid; the plan was printed", cli.EXIT_INVALID: cli.EXITS[cli.EXIT_INVALID]},
    )
    cli.add_stack(p)
    cli.add_format(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    stack = loader.load_stack(tree, args.stack, ProjectContext(catalogue.load(tree)))
    doc = plan.plan_document(stack)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        for w in stack.warnings:
            print(str(w), file=sys.stderr)
        print(plan.render_markdown(doc) if args.format == "markdown" else plan.render_text(doc), end="")
    return cli.EXIT_OK
