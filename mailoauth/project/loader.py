"""Stack files read from a tree and judged into `Stack`s, one or many at a time, with their problems.

Every stack file is read (`files.read_stacks`) even when only some are judged: the cross-stack rule needs
the others' callback URIs (`guard.project_guard`). Each stack is then built by `assembly.build_stack`, and
its problems are given the line numbers of its file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem, raise_if_errors
from mailoauth.base.tree import Tree
from mailoauth.desired.model import Stack
from mailoauth.project import assembly, files
from mailoauth.project.context import ProjectContext
from mailoauth.project.guard import project_guard


@dataclass(frozen=True)
class Reading:
    """How `check_stacks` reads files (`diff` reads two revisions of each; `secrets report` shows no warnings).

    `parsed` (text -> document) parses a file that reads the same at two revisions once (nothing changes a
    parsed document); `warning_lines=False` skips the second parse that locating each warning costs;
    `only_apps` (stack -> app keys) builds just those apps of a stack.
    """

    parsed: dict[str, Any] | None = None
    warning_lines: bool = True
    only_apps: Mapping[str, Collection[str]] | None = None


def load_stack(tree: Tree, name: str, project: ProjectContext) -> Stack:
    """Read and validate one stack file; problems carry line numbers of that file."""
    return load_stacks(tree, project, [name])[name]


def load_stacks(
    tree: Tree, project: ProjectContext, names: list[str] | None = None, warnings: bool = True
) -> dict[str, Stack]:
    """Several stacks at once (default: all); the problems of every stack are reported together.

    `warnings=False`, for a caller that shows none: the warnings of valid stacks are neither located nor
    reported with another stack's errors (an invalid stack's problems are reported whole either way)."""
    stacks, problems = check_stacks(tree, project, names, Reading(warning_lines=warnings))
    raise_if_errors(problems + [w for s in stacks.values() for w in s.warnings] if warnings else problems)
    return stacks


def check_stacks(
    tree: Tree, project: ProjectContext, names: list[str] | None = None, reading: Reading = Reading()
) -> tuple[dict[str, Stack], list[Problem]]:
    """The valid stacks among `names` (default: all) and the problems of the others, without raising.

    Every stack file is read once, also when only some are checked: the cross-stack rule needs them. The
    rules run with the policy of `project.guard` (policy/rules.yaml when it is None) and the callback URIs
    of the files read here.
    """
    parsed, only_apps = reading.parsed, reading.only_apps
    read = files.read_stacks(tree, names or [], parsed)
    policy = project.guard.policy if project.guard else None
    project = replace(project, guard=project_guard(tree, project.catalogue.products, read, policy))
    stacks: dict[str, Stack] = {}
    problems: list[Problem] = []
    for name in names if names is not None else files.stack_names(tree):
        entry = read[name]
        if isinstance(entry, InvalidInput):
            problems += entry.problems
            continue
        text, doc = entry
        if only_apps and name in only_apps:
            config = doc["config"]  # the caller found a mapping of apps there
            doc = {**doc, "config": {**config, files.APPS[1]: {k: config[files.APPS[1]][k] for k in only_apps[name]}}}
        try:
            stack = assembly.build_stack(name, doc, files.stack_file(name), project)
        except InvalidInput as exc:
            problems += yamlio.with_lines(list(exc.problems), text)
            continue
        if reading.warning_lines:
            stack = replace(stack, warnings=tuple(yamlio.with_lines(list(stack.warnings), text)))
        stacks[name] = stack
    return stacks, problems
