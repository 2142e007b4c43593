"""`mailoauth secrets rotate|retire|report`: overlapping secret rotation as reviewed edits, and expiry reports.

`rotate` and `retire` rewrite one stack file (ruamel.yaml, from the `edit` extra, imported only
here); `report` reads every stack, including those whose secrets have already expired.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date

from mailoauth import cli
from mailoauth.base.problems import InvalidInput, did_you_mean
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import App, Stack
from mailoauth.edit.transaction import Transaction
from mailoauth.project import stackfile
from mailoauth.project.stackfile import ProjectContext
from mailoauth.review import secretslots


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secrets", help="rotate client secrets without downtime; report expiring ones")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    rotate = actions.add_parser("rotate", help="add a new secret slot to an app (dropping expired and the oldest)")
    _target(rotate)
    rotate.add_argument(
        "--lifetime",
        type=cli.span,
        default=secretslots.Duration(12, "m"),
        help="how long the new secret lives, from today: 90d, 6m, 12m (default), 1y; at most 24m",
    )
    rotate.add_argument("--description", help="portal description of the new secret (default: the newest slot's)")
    rotate.set_defaults(handler=run_rotate)

    retire = actions.add_parser("retire", help="remove every secret slot of an app but the newest")
    _target(retire)
    retire.set_defaults(handler=run_retire)

    report = actions.add_parser("report", help="every secret of every stack with its expiry; exit 1 if any is due")
    report.add_argument(
        "--within",
        type=cli.window,
        default=secretslots.Duration(30, "d"),
        help="report secrets expiring within this span as due (default 30d)",
    )
    cli.add_format(report)
    report.set_defaults(handler=run_report)


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--app", required=True, help="app key under mailoauth:apps")


def run_rotate(args: argparse.Namespace) -> int:
    if args.description is not None and not args.description.strip():
        raise cli.UsageError(
            "--description: give the text shown in the portal, or leave the option out to reuse the newest slot's"
        )

    def change(app: App, today: date) -> secretslots.Rotation:
        expires = secretslots.new_expiry(args.lifetime, today)
        return secretslots.rotate(app, expires, today, args.description)

    rotation = _edit(args, change)
    if rotation and rotation.add:
        print(
            "next: open a pull request; after pulumi up, switch the downstream app to "
            f"clientSecretSlots.{rotation.app}.{rotation.add.name} (pulumi stack output clientSecretSlots "
            f"--show-secrets), then run `mailoauth secrets retire --stack {args.stack} --app {rotation.app}`"
        )
    return cli.EXIT_OK


def run_retire(args: argparse.Namespace) -> int:
    _edit(args, lambda app, _today: secretslots.retire(app))
    return cli.EXIT_OK


def _edit(args: argparse.Namespace, change: Callable[[App, date], secretslots.Rotation]) -> secretslots.Rotation | None:
    """Under the file's edit lock: compute the change on the validated stack, apply it to the file's text,
    check it, write it atomically."""
    root = cli.project_root(args)
    file = stackfile.stack_file(args.stack)
    (secretedit,) = cli.edit_modules("edit.secretedit")
    with Transaction(root, file) as tx:
        tree = WorkTree(root)
        cat = catalogue.load(tree)
        today = stackfile.utc_today()
        stack = stackfile.load_stack(tree, args.stack, ProjectContext(cat, today, check_expiry=False))
        app = _app(stack, args.app)
        try:
            rotation = change(app, today)
        except secretslots.RotationError as exc:
            raise cli.UsageError(f"{stack.file}: {exc}; the file was not changed") from None
        if not rotation.drop and rotation.add is None:
            print(f"{stack.file}: app {app.key} has one secret slot; nothing to change")
            return None
        try:
            guard = stackfile.project_guard(tree, cat.products)
            text, exact = secretedit.edited_text(tx.read(), stack, rotation, cat, today, guard)
        except secretslots.RotationError as exc:
            raise cli.UsageError(f"{stack.file}: {exc}; the file was not changed") from None
        except InvalidInput:
            print(f"{stack.file}: the edited file would not be valid, so it was not changed:", file=sys.stderr)
            raise
        tx.replace(text)
    if not exact:
        print(
            f"warning: {stack.file}: ruamel.yaml could not reproduce this file's layout exactly; "
            "review the diff for reformatted lines outside the secret slots",
            file=sys.stderr,
        )
    print(f"{stack.file}:")
    for line in secretslots.describe(rotation, app.secrets):
        print(f"  {line}")
    return rotation


def _app(stack: Stack, key: str) -> App:
    if key in stack.apps:
        return stack.apps[key]
    hint = did_you_mean(key, stack.apps) or f"apps: {', '.join(stack.apps)}"
    raise cli.UsageError(f"{stack.file}: config.mailoauth:apps: no app '{key}'; {hint}; the file was not changed")


def run_report(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    today = stackfile.utc_today()
    stacks = stackfile.load_stacks(tree, ProjectContext(catalogue.load(tree), today, check_expiry=False))
    window_end = args.within.after(today)
    rows = secretslots.report_rows(stacks, today, window_end)
    doc = secretslots.report_document(rows, today, args.within, window_end)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print(secretslots.render_markdown(doc) if args.format == "markdown" else secretslots.render_text(doc), end="")
    return cli.EXIT_FINDING if doc["due"] else cli.EXIT_OK
