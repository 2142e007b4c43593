"""`mailoauth diff --base REF [--head REF]`: what a change does to every stack's permissions, for review.

Both sides are read through git (the head defaults to the working tree); what changed is validated
with the same code as `validate` (mailoauth/review/revisions.py says what is read and built). A git
revision is validated as of its commit date, so a secret that has expired since the base was
committed does not make the base invalid; the working tree as of today.
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from mailoauth import cli
from mailoauth.base.problems import did_you_mean
from mailoauth.base.tree import GitTree, RevisionError, Tree, WorkTree
from mailoauth.project import stackfile
from mailoauth.review import diff, diffrender, revisions

FAIL_ON = ("high", "medium", "low")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="compare the desired state of every stack between two git revisions")
    p.add_argument("--base", required=True, metavar="REF", help="git revision to compare from (branch, tag, commit)")
    p.add_argument("--head", metavar="REF", help="git revision to compare to (default: the working tree)")
    p.add_argument("--stack", nargs="+", action="extend", metavar="NAME", help="only these stacks (default: all)")
    cli.add_format(p, ("text", "markdown", "json"))
    p.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes (as git diff does)")
    p.add_argument("--fail-on", choices=FAIL_ON, help="exit 3 when a change of this risk or higher is present")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = cli.project_root(args)
    with ExitStack() as trees:
        base = trees.enter_context(_git_tree(root, args.base, "base"))
        head: Tree = trees.enter_context(_git_tree(root, args.head, "head")) if args.head else WorkTree(root)
        names = _chosen_stacks(args.stack, base, head)
        report = diff.compare(*revisions.load_sides(base, head, names))
    print(_render(report, args.format), end="")
    if args.fail_on and report.has_risk(args.fail_on):
        return cli.EXIT_POLICY
    return cli.EXIT_FINDING if args.exit_code and report.changed else cli.EXIT_OK


def _git_tree(root: Path, rev: str, side: str) -> GitTree:
    try:
        return GitTree(root, rev, side)
    except RevisionError as exc:
        raise cli.UsageError(f"{exc} ({side})" + (f"; {exc.hint}" if exc.hint else "")) from None


def _chosen_stacks(wanted: list[str] | None, base: Tree, head: Tree) -> list[str] | None:
    """The stacks to compare; a name found at neither revision is a usage error."""
    if not wanted:
        return None
    known = set(stackfile.stack_names(base)) | set(stackfile.stack_names(head))
    for name in wanted:
        stackfile.stack_file(name)  # a name that is not a stack name is refused as such
        if name not in known:
            hint = did_you_mean(name, known) or f"stacks: {', '.join(sorted(known)) or 'none'}"
            raise cli.UsageError(f"no stack '{name}' in {base.label} or {head.label}; {hint}")
    return list(dict.fromkeys(wanted))


def _render(report: diff.Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_json(), ensure_ascii=False, separators=(",", ":")) + "\n"  # for machines: one line
    return diffrender.render_markdown(report) if fmt == "markdown" else diffrender.render_text(report)
