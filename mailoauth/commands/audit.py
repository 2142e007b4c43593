"""`mailoauth audit --stack NAME`: drift between a stack and its tenant, and expiring secrets.

Exit 0 when the tenant matches the stack, 1 on any finding. Reads only: Application.Read.All and
DelegatedPermissionGrant.Read.All are enough.
"""

from __future__ import annotations

import argparse
import json

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.graph import options
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.tenant import drift


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "audit",
        ["mailoauth audit --stack prod", "mailoauth audit --stack prod --within 60d --format md"],
        {cli.EXIT_OK: "no drift", cli.EXIT_FINDING: "drift found", cli.EXIT_INVALID: cli.EXITS[cli.EXIT_INVALID]},
    )
    cli.add_stack(p)
    p.add_argument(
        "--within",
        type=cli.window,
        default="30d",
        metavar="SPAN",
        help="report secrets that expire within this span: 30d, 6w, 3m, or a number of days (default 30d)",
    )
    cli.add_format(p)
    options.add_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    cat = catalogue.load(tree)
    # an expired slot is a finding here, not a reason to refuse the stack
    stack = loader.load_stack(tree, args.stack, ProjectContext(cat, check_expiry=False))
    doc = options.run(_audit(args, stack, cat))
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print(drift.render_markdown(doc) if args.format == "markdown" else drift.render_text(doc), end="")
    return cli.EXIT_FINDING if doc["drift"] else cli.EXIT_OK


async def _audit(args: argparse.Namespace, stack, cat) -> dict[str, object]:
    from mailoauth.graph.directory import find_apps

    wanted = {key: (app.client_id, app.display_name) for key, app in stack.apps.items()}
    resource_ids = {s.resource_app_id for s in cat.scopes.values()}
    async with options.session(args, stack) as graph:
        found, resources = await find_apps(graph, wanted, sorted(resource_ids))
    names = drift.Names(cat, resources)
    today = utc_today()
    return drift.audit_document(stack, found, names, today, (args.within.after(today) - today).days)
