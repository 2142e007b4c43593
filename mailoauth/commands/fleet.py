"""`mailoauth fleet jobs|signin|summary`: running many stacks from GitHub Actions.

- `jobs`: the stacks a workflow runs, in chunks under GitHub's matrix limit: those a change
  reaches (`diff --format affected`), named ones, or all of them.
- `signin`: the tenant a stack deploys into (its stack file) and the deployer's client id for it.
- `summary`: the nightly per-stack `audit` and `secrets report` outputs merged into one report.
Each reads files only: no Pulumi, no Microsoft Graph.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mailoauth import cli
from mailoauth.base.problems import did_you_mean
from mailoauth.base.style import count
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.project import files, loader
from mailoauth.project.context import ProjectContext
from mailoauth.review import fleet


def register(sub: argparse._SubParsersAction) -> None:
    actions = cli.command_group(sub, "fleet", "mailoauth fleet jobs --all")
    bad = {cli.EXIT_INVALID: "bad input: an unknown stack, an unreadable or misshapen file"}

    jobs = cli.command(
        actions,
        "jobs",
        [
            "mailoauth diff --base HEAD~1 --format affected > affected.json",
            'mailoauth fleet jobs --affected affected.json --format github >> "$GITHUB_OUTPUT"',
            "mailoauth fleet jobs --all",
        ],
        {cli.EXIT_OK: "the job list was printed", **bad},
        "split the stacks to run into chunks under GitHub's matrix limit",
    )
    which = jobs.add_mutually_exclusive_group(required=True)
    which.add_argument("--affected", metavar="FILE", help="`mailoauth diff --format affected` output ('-': stdin)")
    cli.add_stack(which, required=False, many=True, help="these stacks")
    which.add_argument("--all", action="store_true", help="every stack in stacks/")
    jobs.add_argument("--chunk-size", type=int, metavar="N", help="stacks per chunk (default: GitHub's matrix limit)")
    jobs.add_argument("--summary", type=Path, metavar="FILE", help="append a Markdown list of the stacks and reasons")
    cli.add_format(jobs, ("text", "json", "github"))
    jobs.set_defaults(handler=run_jobs)

    signin = cli.command(
        actions,
        "signin",
        ['mailoauth fleet signin --stack prod --client-id "$ENVIRONMENT_CLIENT_ID" --format github'],
        {cli.EXIT_OK: "the sign-in target was printed", cli.EXIT_INVALID: "an invalid stack, or no client id known"},
        "the tenant and deployer client id a stack signs in with",
    )
    cli.add_stack(signin)
    signin.add_argument(
        "--client-id",
        metavar="ID",
        help="the client id the stack's GitHub environment holds (used when deployers.yaml has no entry)",
    )
    cli.add_format(signin, ("text", "json", "github"))
    signin.set_defaults(handler=run_signin)

    summary = cli.command(
        actions,
        "summary",
        ["mailoauth fleet summary --reports reports --jobs jobs.json --json fleet-report.json > fleet-report.md"],
        {cli.EXIT_OK: "every stack is clean", cli.EXIT_FINDING: "a stack needs a person", **bad},
        "merge per-stack audit and secrets reports; exit 1 if any needs a person",
    )
    summary.add_argument("--reports", required=True, type=Path, metavar="DIR", help="one folder per stack")
    summary.add_argument("--jobs", required=True, metavar="FILE", help="the `fleet jobs --format json` the run used")
    summary.add_argument("--json", type=Path, metavar="FILE", help="also write the JSON document here")
    summary.set_defaults(handler=run_summary)


def run_jobs(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    known = files.stack_names(tree)
    affected: dict[str, Any] = {"stacks": [], "removed": []}
    if args.all:
        names = known
    elif args.stack:
        names = list(dict.fromkeys(args.stack))
    else:
        affected = _affected(_read_json(args.affected, "--affected", AFFECTED), args.affected)
        names = [e["stack"] for e in affected["stacks"]]
    _check_known(names, known)
    removed = affected["removed"]
    try:
        chunks = fleet.job_list(names, args.chunk_size)
    except ValueError as exc:
        raise cli.UsageError(str(exc)) from None
    doc = {"count": len(names), "chunks": chunks, "stacks": names, "removed": removed}
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as out:
            out.write(fleet.render_jobs(names, chunks, affected))
    if args.format == "json":
        print(json.dumps(doc, separators=(",", ":")))
    elif args.format == "github":  # lines for $GITHUB_OUTPUT: each value on one line
        for key in ("count", "chunks", "removed"):
            print(f"{key}={json.dumps(doc[key], separators=(',', ':'))}")
    else:
        print(fleet.render_jobs_text(chunks, removed), end="")
    return cli.EXIT_OK


AFFECTED = "`mailoauth diff --format affected`"
JOBS = "`mailoauth fleet jobs --format json`"


def _read_json(source: str, option: str, made_by: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        raise cli.UsageError(f"{option} {source}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise cli.UsageError(f"{option} {source}: not JSON ({exc}); give it the output of {made_by}") from None


def _affected(doc: Any, source: str) -> dict[str, Any]:
    """A `diff --format affected` document, checked for shape."""
    entries = doc.get("stacks") if isinstance(doc, dict) else None
    removed = doc.get("removed") if isinstance(doc, dict) else None
    if not (isinstance(entries, list) and isinstance(removed, list)) or not all(
        _entry_shaped(e) for e in [*entries, *removed]
    ):
        raise cli.UsageError(
            f"--affected {source}: not a {AFFECTED} document (needs 'stacks' and 'removed' lists of entries "
            "with a 'stack' name and a list of 'reasons')"
        )
    return doc


def _entry_shaped(entry: Any) -> bool:
    reasons = entry.get("reasons", []) if isinstance(entry, dict) else None
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("stack"), str)
        and isinstance(reasons, list)
        and all(isinstance(r, dict) for r in reasons)
    )


def _check_known(names: list[str], known: list[str]) -> None:
    """A stack to run that has no file here is an error, never a silently skipped job."""
    here = set(known)
    missing = [n for n in names if n not in here]
    if missing:
        hint = did_you_mean(missing[0], known) or f"{count(len(known), 'stack')} there"
        raise cli.UsageError(f"no stack file for {', '.join(missing)} in stacks/; {hint}")


def run_signin(args: argparse.Namespace) -> int:
    tree = WorkTree(cli.project_root(args))
    # An expired secret does not stop the sign-in: the nightly audit of that stack matters most then.
    stack = loader.load_stack(tree, args.stack, ProjectContext(catalogue.load(tree), check_expiry=False))
    deployers = fleet.load_deployers(tree)
    given = (args.client_id or "").strip().lower() or None
    if given and not fleet.GUID.match(given):
        raise cli.UsageError(
            f"--client-id: {given!r} is not a GUID; set the environment's AZURE_CLIENT_ID to the deployer's client id"
        )
    pinned = files.raw_config(files.read_stack(tree, stack.name)[1]).get("azuread:clientId")
    if pinned is not None and not fleet.GUID.match(str(pinned)):
        raise cli.UsageError(
            f"{stack.file}: config.azuread:clientId: {pinned!r} is not a GUID (the deployer's client id)"
        )
    client = fleet.deployer_client_id(stack.tenant_id, deployers, given, str(pinned).lower() if pinned else None)
    if client is None:
        raise cli.UsageError(
            f"{stack.file}: no deployer client id for tenant {stack.tenant_id}: add it under 'tenants:' in "
            f"{fleet.DEPLOYERS_FILE}, or set the variable AZURE_CLIENT_ID in the GitHub environment '{stack.name}'"
        )
    target = {
        "stack": stack.name,
        "tenant-id": stack.tenant_id,
        "client-id": client,
        "cloud": stack.cloud.name,
        "azure-environment": stack.cloud.azure_login,
    }
    if args.format == "json":
        print(json.dumps(target))
    elif args.format == "github":
        print("".join(f"{k}={v}\n" for k, v in target.items()), end="")
    else:
        print(f"stack {stack.name}: tenant {stack.tenant_id} ({stack.cloud.name}), deployer client id {client}")
    return cli.EXIT_OK


def run_summary(args: argparse.Namespace) -> int:
    jobs = _read_json(args.jobs, "--jobs", JOBS)
    names = jobs.get("stacks") if isinstance(jobs, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise cli.UsageError(f"--jobs {args.jobs}: not a {JOBS} document (needs a 'stacks' list of names)")
    doc = fleet.merge_reports(args.reports, names)
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(fleet.render_markdown(doc), end="")
    return cli.EXIT_FINDING if doc["needsAttention"] else cli.EXIT_OK
