"""Which stacks a change between two revisions reaches, and why: what a merge deploys.

Built on the `diff` report, so a stack is listed because its desired state changed, never because
a file path matched. Each listed stack carries its reasons: its own stack file, a scope set, a
catalogue entry or a product profile that one of its apps uses, or the guardrail policy (which the Pulumi program checks
before it registers anything, so a policy change re-runs every stack). Removed stacks are listed
apart: a merge reports them and never destroys them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailoauth.base.style import count
from mailoauth.base.tree import Tree
from mailoauth.desired.catalogue import CATALOGUE_FILE, SETS_DIR, Catalogue
from mailoauth.desired.model import Stack
from mailoauth.desired.products import PRODUCTS_DIR
from mailoauth.guardrails import rules
from mailoauth.project import files
from mailoauth.project.guard import load_policy
from mailoauth.review import diff


@dataclass(frozen=True)
class Reason:
    kind: str  # stack | scope-set | catalogue | product | policy
    file: str
    name: str | None = None  # the scope set's, the scope's or the product's name

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Shared:
    """What changed in the files every stack shares: scope sets, catalogue scopes, product profiles, the policy."""

    sets: frozenset[str]
    scopes: frozenset[str]
    products: dict[str, str]  # product name -> its profile's file
    policy: bool

    @classmethod
    def between(cls, base: diff.Side, head: diff.Side, trees: tuple[Tree, Tree]) -> Shared:
        return cls(
            frozenset(_changed_sets(base.catalogue, head.catalogue)),
            frozenset(_changed_scopes(base.catalogue, head.catalogue)),
            _changed_products(base.catalogue, head.catalogue, trees),
            trees[0].read_text(rules.POLICY_FILE) != trees[1].read_text(rules.POLICY_FILE),
        )


def _changed_sets(base: Catalogue, head: Catalogue) -> set[str]:
    """Sets whose scopes or includes differ (a description alone grants nothing)."""
    names = base.sets.keys() | head.sets.keys()
    grants = [(c.sets[n].includes, c.sets[n].scopes) if n in c.sets else None for c in (base, head) for n in names]
    half = len(names)
    return {n for i, n in enumerate(names) if grants[i] != grants[half + i]}


def _changed_scopes(base: Catalogue, head: Catalogue) -> set[str]:
    """Scopes whose catalogue entry grants something else (its `source` note aside)."""
    names = base.scopes.keys() | head.scopes.keys()
    return {n for n in names if _grant(base, n) != _grant(head, n)}


def _changed_products(base: Catalogue, head: Catalogue, trees: tuple[Tree, Tree]) -> dict[str, str]:
    """Product profiles that read differently (or exist at one side only), with their files."""
    names = base.products.keys() | head.products.keys()
    changed = {n for n in names if base.products.get(n) != head.products.get(n)}
    paths = {f.rsplit(".", 1)[0]: f"{PRODUCTS_DIR}/{f}" for t in trees for f in t.list_dir(PRODUCTS_DIR)}
    return {n: paths.get(n, f"{PRODUCTS_DIR}/{n}.yaml") for n in changed}


def _grant(cat: Catalogue, name: str) -> tuple[Any, ...] | None:
    s = cat.scopes.get(name)
    return None if s is None else (s.id, s.resource_app_id, s.admin_consent, s.access, s.audience, s.protocol)


def affected_document(report: diff.Report, sides: tuple[diff.Side, diff.Side], trees: tuple[Tree, Tree]) -> dict:
    """The `diff --format affected` contract: the stacks to deploy with their reasons, the removed ones apart."""
    base, head = sides
    shared = Shared.between(base, head, trees)
    if shared.policy:
        load_policy(trees[1])  # an invalid policy at the head is an error, never "nothing to deploy"
    by_name = {s.name: s for s in report.stacks}
    wanted = ("added", "changed", "unchanged") if shared.policy else ("added", "changed")
    names = [s.name for s in report.stacks if s.status in wanted]
    deploy = [_entry(by_name[n], _reasons(n, base, head, trees, shared)) for n in names]
    gone = [s for s in report.stacks if s.status == "removed"]
    removed = [_entry(s, [Reason("stack", files.stack_file(s.name))]) for s in gone]
    return {
        "base": report.base.as_json(),
        "head": report.head.as_json(),
        "summary": _summary(deploy, removed, len(report.stacks)),
        "stacks": deploy,
        "removed": removed,
    }


def _entry(s: diff.StackDiff, reasons: list[Reason]) -> dict[str, Any]:
    return {
        "stack": s.name,
        "status": s.status,
        "risk": s.risk if s.all_changes else None,
        "reasons": [r.as_json() for r in reasons],
    }


def _reasons(name: str, base: diff.Side, head: diff.Side, trees: tuple[Tree, Tree], shared: Shared) -> list[Reason]:
    file = files.stack_file(name)
    found: list[Reason] = []
    if trees[0].read_text(file) != trees[1].read_text(file):
        found.append(Reason("stack", file))
    stacks = [s for s in (base.stacks.get(name), head.stacks.get(name)) if s is not None]
    found += [Reason("scope-set", f"{SETS_DIR}/{n}.yaml", n) for n in sorted(_sets_used(stacks) & shared.sets)]
    found += [Reason("catalogue", CATALOGUE_FILE, n) for n in sorted(_scopes_used(stacks) & shared.scopes)]
    used = {app.product for s in stacks for app in s.apps.values() if app.product}
    found += [Reason("product", shared.products[n], n) for n in sorted(used & shared.products.keys())]
    if shared.policy:
        found.append(Reason("policy", rules.POLICY_FILE))
    return found


def _sets_used(stacks: list[Stack]) -> set[str]:
    return {n for s in stacks for app in s.apps.values() for n in app.scope_sets}


def _scopes_used(stacks: list[Stack]) -> set[str]:
    return {p.value for s in stacks for app in s.apps.values() for p in app.permissions}


def _summary(deploy: list[dict[str, Any]], removed: list[dict[str, Any]], total: int) -> str:
    line = f"{len(deploy)} of {count(total, 'stack')} to deploy"
    if removed:
        line += f"; {len(removed)} removed (not destroyed: run `pulumi destroy` for each by hand)"
    return line + "."
