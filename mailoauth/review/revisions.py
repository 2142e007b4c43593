"""The desired state at two revisions, for `diff`: everything is read, only what can differ is built.

- A stack file that differs between the revisions is validated in full at both (core checks and the
  project's guardrails, including the cross-stack ones, against that revision's other files).
- A stack file that reads the same is skipped when scopes/ and products/ read the same too. When they have
  changed, it is parsed once, and only the apps whose permissions come out differently with the
  two catalogues are built: validated at the head, with the base's permissions for the base.

Unchanged files are not validated again (`mailoauth validate`, which the PR workflow runs too, does
that). Problems name the revision they were found at after the file: `stacks/Pulumi.dev.yaml (base main):4`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, NamedTuple, TypeVar

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem, Problems, raise_if_errors
from mailoauth.base.tree import GitTree, Tree
from mailoauth.desired import catalogue
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.model import Permission, Stack
from mailoauth.desired.products import lenient_permission_names
from mailoauth.project import files, loader
from mailoauth.project.context import ProjectContext, utc_today
from mailoauth.project.expansion import PERMISSION_KEYS, app_permissions
from mailoauth.review import diff

T = TypeVar("T")


class Grants(NamedTuple):
    """What an app's scopeSets and scopes (or its use cases) expand to with one catalogue, as the model keeps them."""

    permissions: tuple[Permission, ...]
    scope_sets: tuple[str, ...]
    problems: tuple[Problem, ...]


@dataclass
class Found:
    """Problems from both revisions, each labelled with the revision it was found at."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, tree: Tree, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems += [replace(p, file=f"{p.file} ({tree.label})") for p in problems]

    def run(self, tree: Tree, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            self.add(tree, exc.problems)
            return None


class Remembered:
    """A tree whose files and folders are read once: diff reads a head file to compare it, then to check it."""

    def __init__(self, tree: Tree):
        self.tree, self.label = tree, tree.label
        self._texts: dict[str, str | None] = {}
        self._dirs: dict[str, list[str]] = {}

    def read_text(self, path: str) -> str | None:
        if path not in self._texts:
            self._texts[path] = self.tree.read_text(path)
        return self._texts[path]

    def list_dir(self, path: str) -> list[str]:
        if path not in self._dirs:
            self._dirs[path] = self.tree.list_dir(path)
        return list(self._dirs[path])


def load_sides(base: Tree, head: Tree, names: list[str] | None) -> tuple[diff.Side, diff.Side, list[str]]:
    """Both sides' stacks (those that can differ) and the names compared; every problem at once."""
    head = head if isinstance(head, GitTree) else Remembered(head)  # a GitTree keeps what it read
    found = Found()
    base_cat, head_cat = found.run(base, catalogue.load, base), found.run(head, catalogue.load, head)
    raise_if_errors(found.problems)  # stacks are checked against sound catalogues only
    assert base_cat is not None and head_cat is not None
    chosen = names if names is not None else sorted({*files.stack_names(base), *files.stack_names(head)})
    parsed: dict[str, Any] = {}  # stack file text -> its document, shared by the two sides
    same = [n for n in chosen if _reads_the_same(base, head, n)]
    differing = [n for n in chosen if n not in same]
    reached, malformed = _reached_apps(found, head, same, (base_cat, head_cat), parsed)
    old: dict[str, Stack] = {}
    new: dict[str, Stack] = {}
    for tree, cat, stacks, extra in ((base, base_cat, old, []), (head, head_cat, new, [*reached, *malformed])):
        todo = [n for n in differing if tree.read_text(files.stack_file(n)) is not None] + extra
        if todo:
            only = {n: list(apps) for n, apps in reached.items()} if tree is head else None
            context = ProjectContext(cat, _today(tree))
            reading = loader.Reading(parsed, warning_lines=False, only_apps=only)
            built, problems = loader.check_stacks(tree, context, todo, reading)
            found.add(tree, problems)
            stacks.update(built)
    for name, then in reached.items():
        _then(found, base, name, then, old, new)
    raise_if_errors(found.problems)
    return diff.Side(_revision(base), old, base_cat), diff.Side(_revision(head), new, head_cat), chosen


def _reads_the_same(base: Tree, head: Tree, name: str) -> bool:
    text = head.read_text(files.stack_file(name))
    return text is not None and text == base.read_text(files.stack_file(name))


def _today(tree: Tree) -> date:
    """A revision is validated as of its commit date, the working tree as of today."""
    return tree.commit_date if isinstance(tree, GitTree) else utc_today()


def _revision(tree: Tree) -> diff.Revision:
    return diff.Revision(tree.rev, tree.commit) if isinstance(tree, GitTree) else diff.Revision()


def catalogue_changes(cat: Catalogue, other: Catalogue) -> bool:
    """Whether any scope set or scope reads differently (or exists only) in one of the catalogues."""
    return cat.sets != other.sets or cat.scopes != other.scopes or cat.products != other.products


def _reached_apps(
    found: Found, head: Tree, same: list[str], cats: tuple[Catalogue, Catalogue], parsed: dict[str, Any]
) -> tuple[dict[str, dict[str, Grants]], list[str]]:
    """Among stack files that read the same at both revisions: the apps a change under scopes/ reaches
    (stack -> app -> its grants at the base), and the files not shaped for that (checked at the head)."""
    reached: dict[str, dict[str, Grants]] = {}
    malformed: list[str] = []
    if not same or not catalogue_changes(*cats):
        return reached, malformed
    memo: dict[tuple[Any, ...], Grants] = {}
    for name in same:
        then = _reached(found, head, name, cats, parsed, memo)
        if then is None:
            malformed.append(name)
        elif then:
            reached[name] = then
    return reached, malformed


def _reached(
    found: Found,
    head: Tree,
    name: str,
    cats: tuple[Catalogue, Catalogue],
    parsed: dict[str, Any],
    memo: dict[tuple[Any, ...], Grants],
) -> dict[str, Grants] | None:
    """For a stack file that reads the same at both revisions, after a change under scopes/: the apps
    whose grants differ, with their grants at the base. None when the file is not shaped for that."""
    file = files.stack_file(name)
    read = found.run(head, files.read_stack, head, name, parsed)
    if read is None:
        return {}
    apps = files.raw_apps(read[1])
    if not apps or not all(isinstance(v, dict) and _names_ok(v) for v in apps.values()):
        return None
    then: dict[str, Grants] = {}
    for key, settings in apps.items():
        before, after = (grants(file, key, settings, cat, memo) for cat in cats)
        if before != after:
            then[key] = before
    return then


def _then(
    found: Found,
    base: Tree,
    name: str,
    then: dict[str, Grants],
    old: dict[str, Stack],
    new: dict[str, Stack],
) -> None:
    """The base's model of a reached stack: the head's, with the base's grants for the touched apps."""
    if name not in new:
        return  # the head did not build; its problems are reported
    problems = [p for g in then.values() for p in g.problems]
    if problems:  # the same file did not fit the base's catalogue
        found.add(base, yamlio.with_lines(problems, base.read_text(new[name].file) or ""))
        return
    stack = new[name]
    apps = {
        k: replace(a, permissions=then[k].permissions, scope_sets=then[k].scope_sets) for k, a in stack.apps.items()
    }
    old[name] = replace(stack, apps=apps)


def _names_ok(settings: dict[str, Any]) -> bool:
    return all(
        isinstance(settings.get(key, []), list) and all(isinstance(n, str) for n in settings.get(key) or ())
        for key in (*PERMISSION_KEYS, "useCases")
    )


def grants(
    file: str, key: str, settings: dict[str, Any], cat: Catalogue, memo: dict[tuple[Any, ...], Grants]
) -> Grants:
    """Memoised by catalogue and names: apps mostly share a few combinations of sets and scopes."""
    asked = {**settings, **lenient_permission_names(settings, cat.products)}
    names = (id(cat), *(tuple(asked.get(k) or ()) for k in PERMISSION_KEYS))
    if names in memo:
        return memo[names]
    found = Problems(file)
    expansion = app_permissions(found, (*files.APPS, key), asked, cat)
    result = Grants(expansion.ordered, expansion.sets, tuple(found.items))
    if not result.problems:  # problems name the app, so only problem-free results are shared
        memo[names] = result
    return result
