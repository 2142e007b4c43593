"""`mailoauth explain TEXT`: what an AADSTS code or mail server reply means, and the fix in this project's terms.

For errors Entra shows only in the browser (AADSTS50020 after sign-in, for example), and for replies
a downstream app logged. With --stack and --app the fix names the app key and stack file.
"""

from __future__ import annotations

import argparse
import json

from mailoauth import cli
from mailoauth.commands.verify import load_app


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "explain",
        [
            "mailoauth explain AADSTS7000215",
            "mailoauth explain 50011 --stack prod",
            'mailoauth explain "535 5.7.139 Authentication unsuccessful" --format md',
        ],
        {cli.EXIT_OK: "explained", cli.EXIT_FINDING: "no explanation known", cli.EXIT_INVALID: cli.EXITS[2]},
    )
    p.add_argument(
        "reply", nargs="+", metavar="CODE_OR_REPLY", help="a code (AADSTS50011, aadsts50011, 50011) or a reply text"
    )
    cli.add_stack(p, required=False, help="name the fix in this stack's terms")
    cli.add_app(p)
    cli.add_format(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mailoauth.verify.explain import explain, explanations

    context: dict[str, str | None] = {}
    if args.app and not args.stack:
        raise cli.UsageError("--app needs --stack (the app key is looked up in that stack)")
    if args.stack:
        stack, app = load_app(args)
        context = {"key": app.key, "stack": stack.name, "file": stack.file, "mailbox": (app.mailboxes or (None,))[0]}
    text = " ".join(args.reply)
    found = explain(text, context)
    if args.format == "json":
        print(json.dumps({"reply": text, "explanation": found.as_json() if found else None}, indent=2))
    elif found is None:
        print(f"no explanation for '{text}'; known codes: {', '.join(explanations())}")
    elif args.format == "markdown":
        print(
            f"**{found.code}**\n\n- **means:** {found.meaning}\n- **fix:** {found.fix}\n- **source:** {found.reference}"
        )
    else:
        print(f"{found.code}\n  means:  {found.meaning}\n  fix:    {found.fix}\n  source: {found.reference}")
    return cli.EXIT_OK if found else cli.EXIT_FINDING
