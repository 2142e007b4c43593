"""Stack files as written: where they are (`stacks/Pulumi.<name>.yaml`), their text and parsed document.

Nothing here judges what a file says (`assembly.build_stack` does); a file is only refused when it cannot be
one of the project's stack files: a name Pulumi would not accept, a file missing, or YAML that does not parse.
"""

from __future__ import annotations

import re
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem, did_you_mean, raise_if_errors
from mailoauth.base.tree import Tree

STACKS_DIR = "stacks"
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # Pulumi's rule for a stack name (docs/sources.md)
STACK_PREFIX, STACK_SUFFIX = "Pulumi.", ".yaml"
APPS = ("config", "mailoauth:apps")  # where a stack file lists its apps


def stack_file(name: str) -> str:
    """The one place a stack name becomes a path: `stacks/Pulumi.<name>.yaml`, once the name is one Pulumi
    accepts (letters, digits, '-', '_' and '.', at most 100), so it can never lead out of stacks/."""
    if not isinstance(name, str) or not STACK_NAME.fullmatch(name):
        shown = repr(name) if len(str(name)) <= 60 else f"{str(name)[:60]!r}..."
        raise InvalidInput(
            [
                Problem(
                    STACKS_DIR,
                    (),
                    f"{shown} is not a stack name",
                    hint="a stack name has 1 to 100 letters, digits, '-', '_' or '.' (stacks/Pulumi.<name>.yaml)",
                )
            ]
        )
    return f"{STACKS_DIR}/{STACK_PREFIX}{name}{STACK_SUFFIX}"


def stack_names(tree: Tree) -> list[str]:
    """The stacks of the project: every `stacks/Pulumi.<name>.yaml`. A file there that looks like a stack
    file but is one Pulumi would not read as one (a `.yml` ending, a name with a space) is refused, so that
    no stack is silently left out of a check or a review."""
    names: list[str] = []
    problems: list[Problem] = []
    for fname in tree.list_dir(STACKS_DIR):
        if not fname.startswith(STACK_PREFIX) or not fname.endswith((STACK_SUFFIX, ".yml")):
            continue
        name = fname[len(STACK_PREFIX) :].rsplit(".", 1)[0]
        if fname.endswith(".yml"):
            problems.append(_misnamed(fname, "Pulumi reads a stack's settings only from Pulumi.<stack>.yaml"))
        elif not STACK_NAME.fullmatch(name):
            problems.append(_misnamed(fname, "a stack name has 1 to 100 letters, digits, '-', '_' or '.'"))
        else:
            names.append(name)
    raise_if_errors(problems)
    return sorted(names)


def _misnamed(fname: str, why: str) -> Problem:
    shown = repr(fname) if len(fname) <= 80 else f"{fname[:80]!r}..."
    return Problem(STACKS_DIR, (), f"the file {shown} is not named as a stack file: {why}", hint="rename it")


def read_stacks(
    tree: Tree, names: list[str], parsed: dict[str, Any] | None = None
) -> dict[str, tuple[str, Any] | InvalidInput]:
    """Text and parsed document of every stack file (and of `names`), or why it could not be read."""
    read: dict[str, tuple[str, Any] | InvalidInput] = {}
    for name in dict.fromkeys([*stack_names(tree), *names]):
        try:
            read[name] = read_stack(tree, name, parsed)
        except InvalidInput as exc:
            read[name] = exc
    return read


def read_stack(tree: Tree, name: str, parsed: dict[str, Any] | None = None) -> tuple[str, Any]:
    """A stack file's text and parsed document; InvalidInput when it is missing or malformed."""
    file = stack_file(name)
    text = tree.read_text(file)
    if text is None:
        known = stack_names(tree)
        hint = did_you_mean(name, known) or f"stacks here: {', '.join(known) or 'none'}"
        raise InvalidInput([Problem(file, (), f"no stack '{name}' ({tree.label})", name, hint)])
    if parsed is None:
        return text, yamlio.load(text, file)
    if text not in parsed:
        parsed[text] = yamlio.load(text, file)
    return text, parsed[text]


def raw_config(doc: Any) -> dict[str, Any]:
    """A parsed stack file's `config:` mapping as written, or {} when the file is not shaped so."""
    config = doc.get("config") if isinstance(doc, dict) else None
    return config if isinstance(config, dict) else {}


def raw_apps(doc: Any) -> dict[str, Any]:
    """A parsed stack file's `mailoauth:apps` mapping as written, or {} when the file is not shaped so."""
    apps = raw_config(doc).get(APPS[1])
    return apps if isinstance(apps, dict) else {}
