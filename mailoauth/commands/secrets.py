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
from mailoauth.base import style
from mailoauth.base.problems import InvalidInput
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import App
from mailoauth.edit.transaction import Transaction
from mailoauth.project import files, loader
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.project.guard import project_guard
from mailoauth.review import secretslots


def register(sub: argparse._SubParsersAction) -> None:
    actions = cli.command_group(sub, "secrets", "mailoauth secrets report --within 0d")

    edited = {cli.EXIT_OK: "the stack file was edited (or nothing to change)", cli.EXIT_INVALID: EDIT_REFUSED}
    rotate = cli.command(
        actions,
        "rotate",
        [
            "mailoauth secrets rotate --stack prod --app jira-mail-in",
            "pulumi stack output -s prod --show-secrets --json | mailoauth secrets rotate --stack prod "
            "--app jira-mail-in --outputs -",
        ],
        edited,
        "add a secret slot to an app next to the one in use (expired slots are dropped)",
    )
    _target(rotate)
    rotate.add_argument(
        "--lifetime",
        type=cli.span,
        default=secretslots.Duration(12, "m"),
        metavar="SPAN",
        help="how long the new secret lives, from today: 90d, 6m, 12m (default), 1y; at most 24m",
    )
    rotate.add_argument(
        "--description", metavar="TEXT", help="portal description of the new secret (default: the newest slot's)"
    )
    rotate.add_argument(
        "--drop-oldest",
        action="store_true",
        help="when two valid slots are there, remove the older one in this rotation (default: refuse, "
        "since the mail handler may still use it; `secrets retire` first is the safe order)",
    )
    _outputs(rotate)
    rotate.set_defaults(handler=run_rotate)

    retire = cli.command(
        actions,
        "retire",
        ["mailoauth secrets retire --stack prod --app jira-mail-in"],
        edited,
        "remove every secret slot of an app but the newest, once the mail handler uses it",
    )
    _target(retire)
    _outputs(retire)
    retire.set_defaults(handler=run_retire)

    report = cli.command(
        actions,
        "report",
        ["mailoauth secrets report", "mailoauth secrets report --within 0d   # anything expired now?"],
        {cli.EXIT_OK: "nothing is due", cli.EXIT_FINDING: "a slot is due", cli.EXIT_INVALID: "an invalid stack"},
        "every secret of every stack with its expiry; exit 1 if any is due",
    )
    report.add_argument(
        "--within",
        type=cli.window,
        default=secretslots.Duration(30, "d"),
        metavar="SPAN",
        help="report secrets expiring within this span as due: 30d, 6w, 3m, a number of days, 0d for expired now "
        "(default 30d)",
    )
    cli.add_stack(report, required=False, many=True, help="only these stacks (default: all)")
    cli.add_format(report)
    report.set_defaults(handler=run_report)


EDIT_REFUSED = "bad input, or an edit refused for a reason it names; the file was not changed"


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outputs",
        metavar="FILE",
        help="`pulumi stack output --show-secrets --json` as a file, or - for stdin: name the slot the "
        "downstream app was given (clientSecrets.<app>) and refuse to remove it while it is valid",
    )


def _target(parser: argparse.ArgumentParser) -> None:
    cli.add_stack(parser)
    cli.add_app(parser)


def run_rotate(args: argparse.Namespace) -> int:
    if args.description is not None and not args.description.strip():
        raise cli.UsageError(
            "--description: give the text shown in the portal, or leave the option out to reuse the newest slot's"
        )

    def change(app: App, today: date) -> secretslots.Rotation:
        expires = secretslots.new_expiry(args.lifetime, today)
        rotation = secretslots.rotate(app, expires, today, args.description, args.drop_oldest)
        return _keeping(_slot_in_use(args, app.key), app, today, rotation)

    rotation = _edit(args, change)
    if rotation and rotation.add:
        print(
            "next: open a pull request; after pulumi up, switch the downstream app to "
            f"clientSecretSlots.{rotation.app}.{rotation.add.name} (pulumi stack output clientSecretSlots "
            f"--show-secrets), then run `mailoauth secrets retire --stack {args.stack} --app {rotation.app}`"
        )
    return cli.EXIT_OK


def _slot_in_use(args: argparse.Namespace, key: str) -> str | None:
    """With --outputs: the slot whose value the downstream app was given (clientSecrets.<app>), said aloud."""
    if not args.outputs:
        return None
    from mailoauth.verify.credentials import read_outputs, slot_in_use

    _label, doc = read_outputs(args.outputs, sys.stdin)
    found = slot_in_use(doc, key)
    if found:
        print(f"the downstream app was given slot '{found}' (clientSecrets.{key} in the outputs)")
    return found


def _keeping(in_use: str | None, app: App, today: date, rotation: secretslots.Rotation) -> secretslots.Rotation:
    """`rotation`, unless it removes the valid slot the downstream app was given."""
    dropped = {app.secrets[i].name for i in rotation.drop}
    if in_use in dropped and any(s.expires > today for s in app.secrets if s.name == in_use):
        raise secretslots.RotationError(
            f"app {app.key}: slot '{in_use}' is the one the downstream app was given (clientSecrets.{app.key} "
            "in the outputs) and has not expired; switch the downstream app to the newer slot first"
        )
    return rotation


def run_retire(args: argparse.Namespace) -> int:
    _edit(args, lambda app, today: _keeping(_slot_in_use(args, app.key), app, today, secretslots.retire(app)))
    return cli.EXIT_OK


def _edit(args: argparse.Namespace, change: Callable[[App, date], secretslots.Rotation]) -> secretslots.Rotation | None:
    """Under the file's edit lock: compute the change on the validated stack, apply it to the file's text,
    check it, write it atomically."""
    root = cli.project_root(args)
    file = files.stack_file(args.stack)
    (secretedit,) = cli.edit_modules("edit.secretedit")
    with Transaction(root, file) as tx:
        tree = WorkTree(root)
        cat = catalogue.load(tree)
        today = utc_today()
        stack = loader.load_stack(tree, args.stack, ProjectContext(cat, today, check_expiry=False))
        app = cli.pick_app(stack, args.app, "; the file was not changed")
        try:
            rotation = change(app, today)
        except secretslots.RotationError as exc:
            raise cli.UsageError(f"{stack.file}: {exc}; the file was not changed") from None
        if not rotation.drop and rotation.add is None:
            print(f"{stack.file}: app {app.key} has one secret slot; nothing to change")
            return None
        try:
            guard = project_guard(tree, cat.products)
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


def run_report(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    today = utc_today()
    names = list(dict.fromkeys(args.stack)) if args.stack else None
    context = ProjectContext(catalogue.load(tree), today, check_expiry=False)
    stacks = loader.load_stacks(tree, context, names, warnings=False)  # the report is about secrets only
    window_end = args.within.after(today)
    rows = secretslots.report_rows(stacks, today, window_end)
    doc = secretslots.report_document(rows, today, args.within, window_end)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        text = secretslots.render_markdown(doc) if args.format == "markdown" else None
        print(text or secretslots.render_text(doc, style.colour_on(sys.stdout)), end="")
    return cli.EXIT_FINDING if doc["due"] else cli.EXIT_OK
