"""`mailoauth verify`: sign a mailbox user in to a deployed app and prove IMAP, SMTP and Graph with its tokens.

The client secret comes from the stack outputs (`--outputs -` or a file) or MAILOAUTH_CLIENT_SECRET,
never from the command line. Exit 0 when every step passed, 1 when one failed (each failure comes
with its explanation), 2 for invalid input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mailoauth import cli
from mailoauth.base.problems import InvalidInput, Problem
from mailoauth.base.style import colour_on
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import App, Stack
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext

if TYPE_CHECKING:
    from mailoauth.verify.credentials import AppCredentials


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "verify",
        [
            "pulumi stack output -s prod --show-secrets --json | mailoauth verify --stack prod --app jira-mail-in "
            "--outputs -",
            "mailoauth verify --stack prod --app jira-mail-in --outputs outputs.json --protocol smtp --format md",
        ],
        {cli.EXIT_OK: "every step passed", cli.EXIT_FINDING: "a step failed (with its explanation)", 2: cli.EXITS[2]},
    )
    cli.add_stack(p)
    cli.add_app(p)
    p.add_argument(
        "--outputs",
        metavar="FILE",
        help="`pulumi stack output --show-secrets --json` as a file, or - for stdin "
        "(default: MAILOAUTH_CLIENT_ID and MAILOAUTH_CLIENT_SECRET)",
    )
    p.add_argument(
        "--slot", metavar="NAME", help="verify this secret slot (clientSecretSlots.<app>.<slot>) instead of the newest"
    )
    p.add_argument(
        "--mailbox",
        metavar="UPN",
        help="mailbox to log in to (default: the app's first `mailboxes` entry, else the signed-in user)",
    )
    p.add_argument(
        "--protocol",
        choices=("imap", "smtp", "graph", "all"),
        default="all",
        help="what to prove (default: all the app has)",
    )
    p.add_argument("--send-test-to", metavar="ADDR", help="also send one test message (SMTP, and Graph for Mail.Send)")
    p.add_argument("--keep-token", metavar="FILE", type=Path, help="write the refresh token to FILE (mode 0600)")
    p.add_argument(
        "--flow",
        choices=("auto", "browser", "device-code"),
        default="auto",
        help="user sign-in: browser needs a http://127.0.0.1 or http://localhost redirect URI, device-code needs "
        "allowPublicClientFlows (default auto: browser when possible)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the sign-in URL without opening a browser")
    p.add_argument(
        "--timeout", type=float, default=300.0, metavar="SECONDS", help="seconds to wait for the sign-in (default 300)"
    )
    p.add_argument("--imap", metavar="HOST:PORT", type=_host_port, help="IMAP server (default: the stack's cloud)")
    p.add_argument("--smtp", metavar="HOST:PORT", type=_host_port, help="SMTP server (default: the stack's cloud)")
    p.add_argument("--graph-url", metavar="URL", help="Microsoft Graph base URL (default: the stack's cloud)")
    cli.add_format(p)
    p.set_defaults(handler=run)


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got '{text}'")
    return host, int(port)


def load_app(args: argparse.Namespace) -> tuple[Stack, App]:
    """The validated stack (expired secrets allowed: verify explains them) and the app it names."""
    tree = WorkTree(cli.project_root(args))
    stack = loader.load_stack(tree, args.stack, ProjectContext(catalogue.load(tree), check_expiry=False))
    return stack, cli.pick_app(stack, args.app)


def protocols(choice: str, app: App, file: str) -> tuple[str, ...]:
    from mailoauth.verify.run import PROTOCOLS

    has = [p for p in PROTOCOLS if p in app.protocols]
    if choice == "all":
        if not has:
            raise cli.UsageError(f"{file}: app {app.key} has no IMAP, SMTP or Graph scope set to verify")
        return tuple(has)
    if choice not in has:
        raise cli.UsageError(
            f"{file}: app {app.key} has no {choice} scope (it has: {', '.join(has) or 'none'}); add a {choice} scope "
            f"set to `scopeSets` under `mailoauth:apps.{app.key}`"
        )
    return (choice,)


def run(args: argparse.Namespace) -> int:
    from mailoauth.graph.target import resolve
    from mailoauth.verify import credentials
    from mailoauth.verify.run import Endpoints, Job, Options, verify

    stack, app = load_app(args)
    chosen = protocols(args.protocol, app, stack.file)
    if args.outputs:
        label, doc = credentials.read_outputs(args.outputs, sys.stdin)
        creds = credentials.from_outputs(doc, label, app, args.slot)
    elif args.slot:
        raise cli.UsageError("--slot reads clientSecretSlots from the stack outputs: give --outputs too")
    else:
        creds = credentials.from_environment(os.environ, app)
    requests, note = deployed_scope_requests(creds, app, stack)
    cloud = stack.cloud
    target = resolve(stack.tenant_id, cloud, graph_url=args.graph_url)
    mail = {p: (ep.host, ep.port) if ep.host and ep.port else None for p, ep in cloud.mail.items()}
    endpoints = Endpoints(target.authority, target, args.imap or mail.get("imap"), args.smtp or mail.get("smtp"))
    options = Options(
        protocols=chosen,
        mailbox=args.mailbox,
        send_to=args.send_test_to,
        keep_token=args.keep_token,
        flow=args.flow,
        timeout=args.timeout,
        open_browser=None if args.no_browser else _open_browser,
        say=lambda text: print(text, file=sys.stderr, flush=True),
    )
    report = verify(Job(stack, app, creds, requests, endpoints, options))
    if note:
        report.notes.append(note)
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(
            report.render_markdown() if args.format == "markdown" else report.render_text(colour_on(sys.stdout)), end=""
        )
    return cli.EXIT_OK if report.ok else cli.EXIT_FINDING


def deployed_scope_requests(creds: AppCredentials, app: App, stack: Stack) -> tuple[dict[str, str], str | None]:
    """The scope strings the stack outputs (what the downstream app uses), noting when the file now says otherwise."""
    from mailoauth.desired.endpoints import scope_requests

    planned = scope_requests(app, stack.cloud)
    deployed = creds.deployed or {}
    tenant = str(deployed.get("tenantId") or stack.tenant_id).lower()
    if tenant != stack.tenant_id:
        raise InvalidInput(
            [
                Problem(
                    creds.source,
                    ("apps", app.key, "tenantId"),
                    f"these outputs are for tenant {tenant}, but stack {stack.name} is for tenant {stack.tenant_id}",
                    hint=f"use `pulumi stack output -s {stack.name} --show-secrets --json`",
                )
            ]
        )
    requests = deployed.get("scopeRequests")
    if not isinstance(requests, dict) or not requests or requests == planned:
        return planned, None
    return requests, (
        f"the deployed scopeRequests differ from {stack.file}; verifying what is deployed (run `pulumi up` to "
        "apply the file)"
    )


def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
