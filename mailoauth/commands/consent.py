"""`mailoauth consent list|revoke`: who has consented to a stack's apps, and taking consent back.

`list` only reads (Application.Read.All, DelegatedPermissionGrant.Read.All, User.ReadBasic.All) and
exits 1 when a grant holds scopes the stack does not declare. `revoke` deletes delegated grants
(DelegatedPermissionGrant.ReadWrite.All; `--sign-out` also User.RevokeSessions.All) after showing
them and asking. Its exit statuses: 0 done, or nothing to revoke; 1 declined at the prompt, or the
user stays covered by tenant-wide consent; 2 invalid input, a refusal, or a Graph error (then every
grant's outcome has been printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from mailoauth import cli
from mailoauth.base import style
from mailoauth.base.problems import CommandError
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.model import Stack
from mailoauth.graph import options
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from mailoauth.tenant import consent, drift

if TYPE_CHECKING:
    from mailoauth.graph.auth import Principal
    from mailoauth.graph.grants import Removal
    from mailoauth.graph.session import GraphSession

LABELS = {
    "removed": "removed",
    "gone": "already gone",
    "failed": "NOT removed",
    "unconfirmed": "NOT confirmed",
    "not attempted": "NOT attempted",
}


def register(sub: argparse._SubParsersAction) -> None:
    actions = cli.command_group(sub, "consent", "mailoauth consent list --stack prod")

    ls = cli.command(
        actions,
        "list",
        ["mailoauth consent list --stack prod", "mailoauth consent list --stack prod --app jira-mail-in --format md"],
        {
            cli.EXIT_OK: "no consent drift",
            cli.EXIT_FINDING: "consent drift",
            cli.EXIT_INVALID: "bad input or Graph error",
        },
        "delegated grants of each app: admin consent, user consents, consent drift",
    )
    cli.add_stack(ls)
    cli.add_app(ls, help="only this app key (default: every app of the stack)")
    cli.add_format(ls)
    options.add_options(ls)
    ls.set_defaults(handler=run_list)

    rv = cli.command(
        actions,
        "revoke",
        [
            "mailoauth consent revoke --stack prod --app jira-mail-in --user alice@example.com --sign-out",
            "mailoauth consent revoke --stack prod --app jira-mail-in --all --yes",
        ],
        {
            cli.EXIT_OK: "removed, or nothing to remove",
            cli.EXIT_FINDING: "tenant-wide consent still covers the user, or the answer was no",
            cli.EXIT_INVALID: "unknown user, refused, or Graph failed (what was removed is listed)",
        },
        "delete an app's delegated grants: one user's (--user) or all (--all)",
    )
    cli.add_stack(rv)
    cli.add_app(rv)
    who = rv.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="UPN", help="the user whose own consent to remove (UPN or object id)")
    who.add_argument("--all", action="store_true", help="every grant of the app: tenant-wide and every user's")
    rv.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    rv.add_argument(
        "--sign-out", action="store_true", help="with --user: also revoke the user's sign-in sessions (every app)"
    )
    rv.add_argument(
        "--include-declared",
        action="store_true",
        help="with --all: also remove tenant-wide consent the stack grants (adminConsent: true)",
    )
    options.add_options(rv)
    rv.set_defaults(handler=run_revoke)


def _stack(args: argparse.Namespace) -> tuple[Stack, Catalogue]:
    """The stack, even with an expired secret slot: consent must be revocable in any state."""
    tree = WorkTree(cli.project_root(args))
    cat = catalogue.load(tree)
    return loader.load_stack(tree, args.stack, ProjectContext(cat, check_expiry=False)), cat


async def _inventory(
    graph: GraphSession, stack: Stack, cat: Catalogue, keys: list[str], user: str | None = None
) -> tuple[list[consent.AppConsent], str | None, dict[str, str]]:
    """The apps' grants as the stack sees them, the asked-for user's object id, and UPNs by object id."""
    from mailoauth.graph.grants import read_consent

    wanted = {key: (stack.apps[key].client_id, stack.apps[key].display_name) for key in keys}
    found = await read_consent(graph, wanted, sorted({s.resource_app_id for s in cat.scopes.values()}), user)
    names = drift.Names(cat, found.resources)
    apps = [consent.app_consent(stack.apps[k], found.found[k], names, found.upns) for k in keys]
    return apps, found.user_id, found.upns


def run_list(args: argparse.Namespace) -> int:
    stack, cat = _stack(args)
    keys = [cli.pick_app(stack, args.app).key] if args.app else list(stack.apps)
    doc = consent.list_document(stack, options.run(_list(args, stack, cat, keys)))
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        print(consent.render_markdown(doc) if args.format == "markdown" else consent.render_text(doc), end="")
    return cli.EXIT_FINDING if doc["drift"] else cli.EXIT_OK


async def _list(args: argparse.Namespace, stack: Stack, cat: Catalogue, keys: list[str]) -> list[consent.AppConsent]:
    async with options.session(args, stack) as graph:
        apps, _, _ = await _inventory(graph, stack, cat, keys)
    return apps


def run_revoke(args: argparse.Namespace) -> int:
    if args.sign_out and args.all:
        raise cli.UsageError(
            "--sign-out goes with --user: it signs a user out of every app, which is not what revoking one app's "
            "consent for everyone needs (removing the grants already stops its refresh tokens)"
        )
    if args.include_declared and not args.all:
        raise cli.UsageError("--include-declared goes with --all: --user never removes tenant-wide consent")
    if not args.yes and not (sys.stdin and sys.stdin.isatty()):
        raise cli.UsageError(
            "consent revoke asks for confirmation, but standard input is not a terminal; pass --yes to revoke "
            "without asking; nothing was revoked"
        )
    stack, cat = _stack(args)
    return options.run(_revoke(args, stack, cat, cli.pick_app(stack, args.app, "; nothing was revoked").key))


async def _revoke(args: argparse.Namespace, stack: Stack, cat: Catalogue, key: str) -> int:
    from mailoauth.graph import grants

    async with options.session(args, stack) as graph:
        _check_rights(graph.principal, args.sign_out)
        [app], user_id, upns = await _inventory(graph, stack, cat, [key], args.user)
        remove, upn = _select(args, stack, app, user_id, upns)
        covered = consent.still_covered(app, upn) if upn else None
        if not remove and not args.sign_out:
            _nothing(app, upn, covered)
            return cli.EXIT_FINDING if covered else cli.EXIT_OK
        _show_plan(app, remove, upn if args.sign_out else None)
        if not args.yes and not _confirm(len(remove), upn if args.sign_out else None):
            print("cancelled: nothing was revoked")
            return cli.EXIT_FINDING
        by_id = {g.grant.id: g for g in remove}
        outcomes = await grants.delete_grants(
            graph, list(by_id), lambda n, o: print(_progress(n, len(remove), by_id[o.grant_id], o))
        )
        signed_out = await _sign_out(graph, user_id, upn) if args.sign_out else True
    return _finish(stack, key, outcomes, by_id, signed_out, covered)


def _select(
    args: argparse.Namespace, stack: Stack, app: consent.AppConsent, user_id: str | None, upns: dict[str, str]
) -> tuple[list[consent.ConsentGrant], str | None]:
    """The grants to remove and, with --user, the user's UPN; refusals and unknown apps or users raise."""
    if app.status in ("missing", "ambiguous"):
        raise CommandError(f"{app.label()}: {consent.STATUS_TEXT[app.status]}; nothing was revoked")
    if args.user and user_id is None:
        raise cli.UsageError(
            f"--user: no user '{args.user}' in tenant {stack.tenant_id}; `mailoauth consent list --stack "
            f"{stack.name} --app {app.key}` shows who has consented; nothing was revoked"
        )
    try:
        remove = consent.to_revoke(app, user_id, args.include_declared, stack.file)
    except consent.RevokeRefused as exc:
        raise cli.UsageError(str(exc)) from None
    return remove, (upns.get(user_id) or args.user) if user_id else None


def _check_rights(principal: Principal, sign_out: bool) -> None:
    """An application's token lists its permissions: refuse before reading or deleting anything."""
    from mailoauth.graph.errors import grant_hint
    from mailoauth.graph.grants import lacking

    if principal.kind != "application":
        return  # a user's rights come from directory roles too; Graph's answer names what is missing
    missing = lacking(principal.roles, sign_out)
    if missing:
        raise CommandError(
            f"consent revoke needs the Microsoft Graph permission {' and '.join(missing)}, which application "
            f"{principal.app_id} lacks; {grant_hint(' and '.join(missing), 'application')}; nothing was revoked"
        )


def _nothing(app: consent.AppConsent, upn: str | None, covered: str | None) -> None:
    if upn:
        print(
            f"nothing to revoke: {upn} has no consent of their own to {app.label()}; they never consented, "
            "or their consent was already revoked"
        )
    else:
        print(f"nothing to revoke: {app.label()} has no delegated grants")
    if covered:
        print(f"warning: {covered}", file=sys.stderr)


def _show_plan(app: consent.AppConsent, remove: list[consent.ConsentGrant], sign_out: str | None) -> None:
    from mailoauth.base.tables import text_table

    print(app.label())
    if remove:
        print(f"to remove: {style.count(len(remove), 'delegated grant')}")
        rows = [consent.grant_row(g.as_json())[:4] for g in remove]
        print("\n".join(text_table(consent.HEADERS[:4], rows, indent="  ")))
    if sign_out:
        print(f"to sign {sign_out} out: every refresh token and session of theirs stops working, in every app")


def _confirm(count: int, sign_out: str | None) -> bool:
    what = [f"remove {style.count(count, 'grant')}"] if count else []
    what += [f"sign {sign_out} out"] if sign_out else []
    print(f"{' and '.join(what).capitalize()}? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _progress(n: int, total: int, grant: consent.ConsentGrant, outcome: Removal) -> str:
    line = f"[{n}/{total}] {LABELS[outcome.status]}: {_describe(grant)}"
    return line + (f": {outcome.error}" if outcome.error and not outcome.absent else "")


def _describe(grant: consent.ConsentGrant) -> str:
    return f"grant {grant.grant.id} ({grant.who}, {grant.resource})"


async def _sign_out(graph: GraphSession, user_id: str | None, upn: str | None) -> bool:
    from mailoauth.graph.errors import GraphError
    from mailoauth.graph.grants import sign_out

    try:
        await sign_out(graph, user_id or "")
    except GraphError as exc:
        print(f"error: {upn} was NOT signed out: {exc}", file=sys.stderr)
        return False
    print(f"signed {upn} out: their refresh tokens and sign-in sessions are revoked in every app")
    return True


def _finish(
    stack: Stack,
    key: str,
    outcomes: list[Removal],
    by_id: dict[str, consent.ConsentGrant],
    signed_out: bool,
    covered: str | None,
) -> int:
    """The summary: what was removed, what was not (never one for the other), and the exit status."""
    removed = [o for o in outcomes if o.status == "removed"]
    left = [o for o in outcomes if not o.absent]
    if removed:
        print(f"removed {style.count(len(removed), 'grant')}; {consent.TOKENS_NOTICE}")
    if left:
        print(f"error: {len(left)} of {style.count(len(outcomes), 'grant')} NOT removed:", file=sys.stderr)
        for o in left:
            print(f"  {_describe(by_id[o.grant_id])}: {o.error}", file=sys.stderr)
        print(
            f"  removed: {', '.join(o.grant_id for o in removed) or 'none'}; run the command again to retry, or "
            f"`mailoauth consent list --stack {stack.name} --app {key}` to see what remains",
            file=sys.stderr,
        )
    if covered:
        print(f"warning: {covered}", file=sys.stderr)
    if left or not signed_out:
        return cli.EXIT_INVALID
    return cli.EXIT_FINDING if covered else cli.EXIT_OK
