"""`mailoauth adopt --stack NAME --client-id ID`: bring an app registration made in the portal under a stack.

Reads the registration, its service principal, owners, consent grants and secrets' metadata
(Application.Read.All and DelegatedPermissionGrant.Read.All are enough), writes its entry with the
ids `pulumi up` imports into the stack file (round trip, comments kept; validated first; atomic), and
optionally a `pulumi import --file` document. Exit 2 when the registration holds anything the stack
file cannot express: the message names each thing and how to proceed, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from mailoauth import cli
from mailoauth.base.problems import CommandError, InvalidInput
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.clouds import clouds
from mailoauth.desired.model import GUID_PATTERN, Stack
from mailoauth.edit.transaction import Transaction
from mailoauth.graph import options
from mailoauth.project import files, loader
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.project.guard import project_guard
from mailoauth.tenant import adoption


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "adopt",
        ["mailoauth adopt --stack prod --client-id 8187d502-dd33-44f3-bd21-2793b0c2258a --import-file import.json"],
        {cli.EXIT_OK: "the app was written into the stack file", cli.EXIT_INVALID: cli.EXITS[cli.EXIT_INVALID]},
    )
    cli.add_stack(p)
    p.add_argument("--client-id", required=True, metavar="GUID", help="the registration's Application (client) ID")
    p.add_argument("--key", metavar="KEY", help="app key under mailoauth:apps (default: from the display name)")
    p.add_argument("--import-file", type=Path, metavar="PATH", help="also write a `pulumi import --file` document")
    p.add_argument(
        "--allow-wide-audience",
        action="store_true",
        help="acknowledge write or send scopes on a multi-tenant or personal-account app (allowWideAudience)",
    )
    options.add_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(GUID_PATTERN, args.client_id):
        raise cli.UsageError(f"--client-id: '{args.client_id}' is not a GUID; copy the Application (client) ID")
    root = cli.project_root(args)
    tree = WorkTree(root)
    cat = catalogue.load(tree)
    today = utc_today()
    stack = _stack(tree, args.stack, cat)
    _not_adopted(stack, args.client_id.lower(), args.key)
    (adoptedit,) = cli.edit_modules("edit.adoptedit")  # before signing in: fail early on a light install
    live, resources, deployer = options.run(_read(args, stack, cat))
    key = args.key or adoption.default_key(live.registration.display_name)
    _not_adopted(stack, args.client_id.lower(), key)
    request = adoption.Request(key, stack.name, today, deployer, args.allow_wide_audience, stack.deployers)
    adopted = adoption.adopt(live, cat, resources, request)
    with Transaction(root, stack.file) as tx:
        stack = _stack(tree, args.stack, cat)  # again, under the lock: another run may have changed the file
        _not_adopted(stack, args.client_id.lower(), key)
        try:
            text, after, exact = adoptedit.added_text(
                tx.read(),
                stack,
                adopted,
                comment(adopted, request),
                cat,
                today,
                project_guard(tree, cat.products),
            )
        except InvalidInput as exc:
            print(
                f"{stack.file}: the entry for {key} would not be valid, so the file was not changed:", file=sys.stderr
            )
            if any(p.rule == "wide-audience-write" for p in exc.errors):
                print("(to accept the wide audience, adopt again with --allow-wide-audience)", file=sys.stderr)
            raise
        tx.replace(text)
    if args.import_file:
        args.import_file.write_text(json.dumps(adopted.import_file(), indent=2) + "\n", encoding="utf-8")
    for warning in after.app_warnings(key):
        print(str(warning), file=sys.stderr)
    if not exact:
        print(
            f"warning: {stack.file}: ruamel.yaml could not reproduce this file's layout exactly; "
            "review the diff for reformatted lines outside the new app",
            file=sys.stderr,
        )
    print(report(adopted, stack, args.import_file), end="")
    return cli.EXIT_OK


def _stack(tree: WorkTree, name: str, cat: Catalogue) -> Stack:
    """The stack to adopt into, validated; a file whose `mailoauth:apps` is still empty gets its first app here."""
    try:
        return loader.load_stack(tree, name, ProjectContext(cat))
    except InvalidInput as exc:
        _, doc = files.read_stack(tree, name)
        config = doc.get("config") if isinstance(doc, dict) else None
        empty = isinstance(config, dict) and config.get("mailoauth:apps") in (None, {})
        if not empty or any(p.path[:2] != files.APPS for p in exc.errors):
            raise
        assert isinstance(config, dict)  # what `empty` found
        cloud = clouds()[config.get("azuread:environment") or "global"]
        return Stack(name, files.stack_file(name), str(config["azuread:tenantId"]).lower(), cloud)


def _not_adopted(stack: Stack, client_id: str, key: str | None) -> None:
    for app in stack.apps.values():
        if app.client_id == client_id:
            raise cli.UsageError(f"{stack.file}: client id {client_id} is already app {app.key}; nothing was written")
    if key in stack.apps:
        raise cli.UsageError(
            f"{stack.file}: config.mailoauth:apps already has an app '{key}'; choose another with --key; "
            "nothing was written"
        )


async def _read(args: argparse.Namespace, stack: Stack, cat: Catalogue) -> tuple[adoption.LiveApp, dict, str | None]:
    """The registration with everything adoption looks at, the resource APIs, and who signed in."""
    from mailoauth.graph.directory import find_apps

    client_id = args.client_id.lower()
    resource_ids = sorted({s.resource_app_id.lower() for s in cat.scopes.values()})
    async with options.session(args, stack) as graph:
        found, resources = await find_apps(graph, {"app": (client_id, "")}, resource_ids)
        app = found["app"]
        if app.registration is None:
            raise CommandError(
                f"no app registration with client id {client_id} in tenant {stack.tenant_id}: copy the "
                "Application (client) ID from the app's Overview page (not its Object ID); nothing was written"
            )
        live = await _details(graph, app)
        return live, resources, graph.principal.object_id.lower() or None


async def _details(graph: Any, app: Any) -> adoption.LiveApp:
    """One batch: the settings the program does not manage, the owners, the service principal's settings."""
    from mailoauth.graph.batch import Step, run_batch

    reg = app.registration
    application = graph.client.applications.by_application_id(reg.object_id)
    steps = [
        Step.get(application, dict, "settings", select=adoption.SETTINGS_SELECT),
        Step.get(application.owners, dict, "owners", select=["id"]),
    ]
    if app.service_principal_id:
        sp = graph.client.service_principals.by_service_principal_id(app.service_principal_id)
        steps += [
            Step.get(sp, dict, "sp", select=adoption.SP_SELECT),
            Step.get(sp.owners, dict, "sp-owners", select=["id"]),
        ]
    results = {}
    for result in await run_batch(graph, steps):
        if result.error:
            raise result.error
        results[result.step.tag] = result
    return adoption.LiveApp(
        reg,
        results["settings"].value or {},
        _ids(results["owners"].items),
        results["sp"].value if "sp" in results else None,
        _ids(results["sp-owners"].items) if "sp-owners" in results else (),
        tuple(app.grants),
    )


def _ids(objects: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(o["id"]).lower() for o in objects)


def comment(adopted: adoption.Adoption, request: adoption.Request) -> list[str]:
    """The lines above the written entry: where it came from and how to keep or rotate its secrets."""
    target = f"--stack {request.stack} --app {request.key}"
    lines = [
        f"Adopted by `mailoauth adopt` on {request.today.isoformat()} from the app registration made in the portal.",
        "Its secrets are recorded by keyId: their values cannot be read and Pulumi cannot import them, so",
        "pulumi up neither creates nor deletes them. Keep using them until they expire, or rotate with",
        f"  mailoauth secrets rotate {target}",
        "(a new slot pulumi up creates), switch the mail product to it, then run",
        f"  mailoauth secrets retire {target}",
        "and delete the old secret in the portal (Certificates & secrets).",
    ]
    if adoption.PORTAL_DEFAULT in adopted.entry.get("scopes", ()):
        lines.append(f"{adoption.PORTAL_DEFAULT} is the portal's default: drop it from scopes: if the mail product")
        lines.append("does not read the signed-in user's profile.")
    return lines


def report(adopted: adoption.Adoption, stack: Stack, import_file: Path | None) -> str:
    """What was written, what the first pulumi up still changes, and what to do next."""
    reg, entry, ids = adopted.registration, adopted.entry, adopted.imports
    sets = ", ".join(entry.get("scopeSets", [])) or "none"
    lines = [
        f"{stack.file}: adopted '{reg.display_name}' (client id {reg.client_id}) as app {adopted.key}",
        f"  scope sets   {sets} ({adoption.ALWAYS_SET} is implicit)",
        f"  scopes       {', '.join(entry.get('scopes', [])) or 'none'}",
        f"  consent      {'tenant-wide admin consent' if entry.get('adminConsent') else 'left to each user'}",
        f"  owners       {', '.join(entry.get('owners', [])) or 'none'}",
        f"  import       {ids['application']}",
    ]
    lines += [f"               service principal {ids['servicePrincipal']}"] if ids.get("servicePrincipal") else []
    lines += [f"               consent grant {g['resource']} {g['id']}" for g in ids.get("consentGrants", ())]
    lines += [f"  note         {n}" for n in adopted.notes]
    if adopted.changes:
        lines += ["", "the first pulumi up will also (the project's rules, not the tenant):"]
        lines += [f"  - {c}" for c in adopted.changes]
    lines += ["", f"next: review the diff, then `pulumi preview --stack {stack.name}`: it should import the resources"]
    lines += ["      above and change nothing else" + (" but the changes listed" if adopted.changes else "")]
    if import_file:
        lines.append(
            f"  or: pulumi import --stack {stack.name} --file {import_file} --generate-code=false --protect=false"
        )
    return "\n".join(lines) + "\n"
