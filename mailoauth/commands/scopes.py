"""`mailoauth scopes sync [--write]`: check scopes/catalogue.yaml against the tenant's Microsoft APIs.

Reads the delegated permissions (oauth2PermissionScopes) that Microsoft Graph and Office 365 Exchange
Online publish in the stack's tenant (Application.Read.All). Exit 0 when the catalogue matches (or
--write fixed every difference), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.catalogue import CATALOGUE_FILE
from mailoauth.edit.transaction import Transaction
from mailoauth.graph import options
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.tenant import scopesync


def register(sub: argparse._SubParsersAction) -> None:
    actions = cli.command_group(sub, "scopes", "mailoauth scopes sync --stack prod")
    sync = cli.command(
        actions,
        "sync",
        ["mailoauth scopes sync", "mailoauth scopes sync --stack prod --write"],
        {
            cli.EXIT_OK: "the catalogue matches the tenant (or was corrected)",
            cli.EXIT_FINDING: "differences remain",
            cli.EXIT_INVALID: cli.EXITS[cli.EXIT_INVALID],
        },
        "compare catalogue permission ids with the tenant (--write corrects them)",
    )
    cli.add_stack(sync, required=False, help="read the tenant and cloud of this stack (default: the signed-in tenant)")
    sync.add_argument("--write", action="store_true", help=f"correct ids and consent flags in {CATALOGUE_FILE}")
    cli.add_format(sync)
    options.add_options(sync)
    sync.set_defaults(handler=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    root = cli.project_root(args)
    tree = WorkTree(root)
    if args.write:
        cli.edit_modules("edit.rtyaml")  # before any request: fail fast without ruamel.yaml (the `edit` extra)
    cat = catalogue.load(tree)
    stack = loader.load_stack(tree, args.stack, ProjectContext(cat)) if args.stack else None
    resources = options.run(_resources(args, stack, cat))
    found = scopesync.differences(cat, resources)
    written = bool(args.write and any(d.fixable for d in found))
    if written:
        with Transaction(root, CATALOGUE_FILE) as tx:
            text = scopesync.rewrite(tx.read(), found)
            catalogue.load(
                _Overlay(tree, text)
            )  # the corrected catalogue must still load (InvalidInput names the line)
            tx.replace(text)
    doc = scopesync.sync_document(found, written)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        render = scopesync.render_markdown if args.format == "markdown" else scopesync.render_text
        print(render(doc), end="")
    remaining = [d for d in found if not (written and d.fixable)]
    return cli.EXIT_FINDING if remaining else cli.EXIT_OK


async def _resources(args, stack, cat) -> dict:
    from mailoauth.graph.directory import resource_apis

    async with options.session(args, stack) as graph:
        return await resource_apis(graph, sorted({s.resource_app_id.lower() for s in cat.scopes.values()}))


class _Overlay:
    """The working tree with the catalogue replaced, to validate an edit before it is written."""

    def __init__(self, base: WorkTree, text: str):
        self.base, self.text, self.label = base, text, base.label

    def read_text(self, path: str) -> str | None:
        return self.text if path == CATALOGUE_FILE else self.base.read_text(path)

    def list_dir(self, path: str) -> list[str]:
        return self.base.list_dir(path)
