"""`mailoauth explain TEXT`: what an AADSTS code or mail server reply means, and the fix in this project's terms.

For errors Entra shows only in the browser (AADSTS50020 after sign-in, for example), and for replies
a downstream app logged. With --stack and --app the fix names the app key and stack file.
"""

from __future__ import annotations

import argparse
import json

from mailoauth import cli
from mailoauth.commands.verify import add_target, load_app


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="explain an AADSTS code or a mail server reply")
    p.add_argument("reply", nargs="+", help="the code (AADSTS50011) or the reply text (535 5.7.139 ...)")
    add_target(p, required=False)
    cli.add_format(p, ("text", "json"))
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mailoauth.verify.explain import explain, explanations

    context: dict[str, str | None] = {}
    if args.stack or args.app:
        if not (args.stack and args.app):
            raise cli.UsageError("--stack and --app go together")
        stack, app = load_app(args)
        context = {"key": app.key, "stack": stack.name, "file": stack.file, "mailbox": (app.mailboxes or (None,))[0]}
    text = " ".join(args.reply)
    found = explain(text, context)
    if args.format == "json":
        print(json.dumps({"reply": text, "explanation": found.as_json() if found else None}, indent=2))
    elif found is None:
        print(f"no explanation for '{text}'; known codes: {', '.join(explanations())}")
    else:
        print(f"{found.code}\n  means:  {found.meaning}\n  fix:    {found.fix}\n  source: {found.reference}")
    return cli.EXIT_OK if found else cli.EXIT_FINDING
