"""`mailoauth preflight --stack NAME`: can this tenant host the stack's apps? Checks with a fix each.

Exit 0 when nothing fails (warnings allowed), 1 when a check fails. One batched round of Graph
reads: subscribed SKUs, each mailbox and its licences, registrations with the same display names,
and for a user sign-in the authorization policy and the user's directory roles.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mailoauth import cli
from mailoauth.base.style import colour_on
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import Stack
from mailoauth.graph import options
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.tenant import preflight


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "preflight",
        ["mailoauth preflight --stack prod"],
        {cli.EXIT_OK: "no check failed", cli.EXIT_FINDING: "a check failed", cli.EXIT_INVALID: cli.EXITS[2]},
    )
    cli.add_stack(p)
    cli.add_format(p)
    options.add_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    stack = loader.load_stack(tree, args.stack, ProjectContext(catalogue.load(tree)))
    facts = options.run(_facts(args, stack))
    doc = preflight.preflight_document(stack, preflight.checks(stack, facts, utc_today()))
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    else:
        markdown = args.format == "markdown"
        print(preflight.render_markdown(doc) if markdown else preflight.render_text(doc, colour_on(sys.stdout)), end="")
    return cli.EXIT_OK if doc["ok"] else cli.EXIT_FINDING


async def _facts(args: argparse.Namespace, stack: Stack) -> preflight.TenantFacts:
    from mailoauth.graph.batch import ADVANCED_QUERY, Step, run_batch
    from mailoauth.graph.directory import application_steps, registration

    upns = list(dict.fromkeys(upn for app in stack.apps.values() for upn in app.mailboxes))
    by_name = {key: app.display_name for key, app in stack.apps.items() if not app.client_id}
    async with options.session(args, stack) as graph:
        users = graph.client.users
        steps = [
            Step.get(
                graph.client.subscribed_skus, dict, "skus", select=["skuPartNumber", "capabilityStatus", "servicePlans"]
            )
        ]
        for upn in upns:
            steps.append(
                Step.get(
                    users.by_user_id(upn), dict, ("user", upn), select=["id", "userPrincipalName", "accountEnabled"]
                )
            )
            steps.append(
                Step.get(
                    users.by_user_id(upn).license_details,
                    dict,
                    ("licences", upn),
                    select=["skuPartNumber", "servicePlans"],
                )
            )
        steps += application_steps(graph, "displayName", by_name.values(), "names")
        if graph.principal.kind == "user":
            steps.append(
                Step.get(
                    graph.client.policies.authorization_policy, dict, "policy", select=["defaultUserRolePermissions"]
                )
            )
            steps.append(
                Step.get(
                    graph.client.me.transitive_member_of.graph_directory_role,
                    dict,
                    "roles",
                    headers=ADVANCED_QUERY,  # an OData cast: Graph answers 400 without the header and $count
                    count=True,
                    select=["roleTemplateId", "displayName"],
                )
            )
        answers = await run_batch(graph, steps)
        principal = graph.principal
    results = {r.step.tag: r for r in answers if r.step.tag != "names"}
    names = [r for r in answers if r.step.tag == "names"]
    facts = preflight.TenantFacts(principal, _items(results["skus"]))
    for upn in upns:
        user = results[("user", upn)]
        facts.mailboxes[upn] = preflight.Mailbox(
            None if user.status == 404 else (user.error or user.value), _items(results[("licences", upn)])
        )
    name_error = next((r.error for r in names if r.error), None)
    registrations = [registration(a) for r in names for a in r.items]
    for key, name in by_name.items():
        facts.namesakes[key] = name_error or [r for r in registrations if r.display_name.casefold() == name.casefold()]
    if principal.kind == "user":
        facts.authorization_policy = results["policy"].error or results["policy"].value
        facts.directory_roles = _items(results["roles"])
    return facts


def _items(result: Any) -> Any:
    return result.error or result.items
