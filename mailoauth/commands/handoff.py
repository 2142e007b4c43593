"""`mailoauth handoff --stack S --app A`: the product's OAuth2 form, field by field, and what goes in each.

Without `--outputs` the client id and secret are placeholders that name the command filling them. The
secret is read only from the outputs (`--outputs -` or a file, never the command line) and shown only
with `--show-secret`.
"""

from __future__ import annotations

import argparse
import sys

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.review import handoff


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "handoff",
        [
            "mailoauth handoff --stack prod --app jira-mail-in",
            "pulumi stack output -s prod --show-secrets --json | mailoauth handoff --stack prod --app jira-mail-in "
            "--outputs - --show-secret --format md",
        ],
        {cli.EXIT_OK: "the form was printed", cli.EXIT_INVALID: cli.EXITS[cli.EXIT_INVALID]},
    )
    cli.add_stack(p)
    cli.add_app(p)
    p.add_argument(
        "--outputs",
        metavar="FILE",
        help="`pulumi stack output --json` (with --show-secrets for the secret) as a file, or - for stdin",
    )
    p.add_argument("--show-secret", action="store_true", help="fill in the client secret from --outputs")
    cli.add_format(p, tuple(handoff.RENDERERS))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    cat = catalogue.load(tree)
    stack = loader.load_stack(tree, args.stack, ProjectContext(cat, check_expiry=False))
    app = cli.pick_app(stack, args.app)
    outputs = _outputs(args.outputs) if args.outputs else None
    product = cat.products.get(app.product) if app.product else None
    doc = handoff.document(stack, app, product, outputs, args.show_secret)
    print(handoff.RENDERERS[args.format](doc), end="")
    return cli.EXIT_OK


def _outputs(path: str) -> handoff.Outputs:
    from mailoauth.verify.credentials import read_outputs

    label, doc = read_outputs(path, sys.stdin)
    return handoff.Outputs(label, doc)
