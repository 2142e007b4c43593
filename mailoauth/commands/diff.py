"""`mailoauth diff --base REF [--head REF]`: what a change does to every stack's permissions, for review.

Both sides are read through git (the head defaults to the working tree); what changed is validated
with the same code as `validate` (mailoauth/review/revisions.py says what is read and built). A git
revision is validated as of its commit date, so a secret that has expired since the base was
committed does not make the base invalid; the working tree as of today.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

from mailoauth import cli
from mailoauth.base import style
from mailoauth.base.problems import InvalidInput, did_you_mean
from mailoauth.base.tree import GitTree, RevisionError, Tree, WorkTree
from mailoauth.project import files
from mailoauth.project.context import utc_today
from mailoauth.review import affected, diff, diffrender, revisions

LEVELS = ("high", "medium", "low")


def fail_on(text: str) -> tuple[str, str]:
    """argparse type for --fail-on: LEVEL (security, as before) or AXIS:LEVEL, e.g. availability:high."""
    axis, _, level = text.rpartition(":")
    axis = axis or "security"
    if axis not in diff.AXES or level not in LEVELS:
        raise argparse.ArgumentTypeError(
            f"'{text}': give a level ({', '.join(LEVELS)}) or an axis and a level "
            "(security:high, availability:medium, ...)"
        )
    return axis, level


def register(sub: argparse._SubParsersAction) -> None:
    p = cli.command(
        sub,
        "diff",
        [
            "mailoauth diff --base main",
            "mailoauth diff --base origin/main --format md --fail-on high --fail-on availability:high",
        ],
        {
            cli.EXIT_OK: "the report was printed",
            cli.EXIT_FINDING: "--exit-code and something changed",
            cli.EXIT_INVALID: "invalid input at either revision, an unknown revision or stack",
            cli.EXIT_POLICY: "--fail-on and a change at that risk or higher",
        },
    )
    p.add_argument("--base", required=True, metavar="REF", help="git revision to compare from (branch, tag, commit)")
    p.add_argument("--head", metavar="REF", help="git revision to compare to (default: the working tree)")
    cli.add_stack(p, required=False, many=True, help="only these stacks (default: all)")
    cli.add_format(p, ("text", "markdown", "json", "affected"))
    p.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes (as git diff does)")
    p.add_argument(
        "--fail-on",
        type=fail_on,
        action="append",
        metavar="[AXIS:]LEVEL",
        help="exit 3 when a change of this risk or higher is present; LEVEL high|medium|low is the security axis, "
        "availability:LEVEL what may stop working; repeat for both",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    root = cli.project_root(args)
    with ExitStack() as trees:
        base = trees.enter_context(_git_tree(root, args.base, "base"))
        head: Tree = trees.enter_context(_git_tree(root, args.head, "head")) if args.head else WorkTree(root)
        names = _chosen_stacks(args.stack, base, head)
        old, new, chosen = revisions.load_sides(base, head, names)
        today = head.commit_date if isinstance(head, GitTree) else utc_today()
        problems = diff.expired_new_slots(old, new, today)
        if problems:
            raise InvalidInput(problems)
        report = diff.compare(old, new, chosen, today)
        if args.format == "affected":  # reads both revisions again: inside, while they are open
            print(_one_line(affected.affected_document(report, (old, new), (base, head))))
    if args.format != "affected":
        print(_render(report, args.format), end="")
    if any(report.has_risk(level, axis) for axis, level in args.fail_on or ()):
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
    known = set(files.stack_names(base)) | set(files.stack_names(head))
    for name in wanted:
        files.stack_file(name)  # a name that is not a stack name is refused as such
        if name not in known:
            hint = did_you_mean(name, known) or f"stacks: {', '.join(sorted(known)) or 'none'}"
            raise cli.UsageError(f"no stack '{name}' in {base.label} or {head.label}; {hint}")
    return list(dict.fromkeys(wanted))


def _render(report: diff.Report, fmt: str) -> str:
    if fmt == "json":
        return _one_line(report.as_json()) + "\n"
    if fmt == "markdown":
        return diffrender.render_markdown(report)
    return diffrender.render_text(report, style.colour_on(sys.stdout))


def _one_line(doc: dict) -> str:
    """JSON for machines (a workflow output takes one line)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
