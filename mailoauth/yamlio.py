"""Strict YAML reading: the C loader when available, duplicate keys rejected, errors as Problems.

Line numbers are looked up only when a problem is reported (by walking the composed node tree
along the key path), so the fast path pays nothing for them.
"""

from __future__ import annotations

from typing import Any

import yaml

from mailoauth.problems import InvalidInput, KeyPath, Problem

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) != len(node.value) and not any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node)
                if key in seen:
                    raise DuplicateKey(None, None, f"duplicate key '{key}'", key_node.start_mark)
                seen.add(key)
        return mapping


def load(text: str, file: str) -> Any:
    """Parse one document; a syntax error or duplicate key becomes an InvalidInput naming file and line."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader derives from a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = str(exc.problem or exc.context or "malformed YAML")
        hint = None if isinstance(exc, DuplicateKey) else "check indentation, quoting and ':' after each key"
        kind = "duplicate key" if isinstance(exc, DuplicateKey) else "malformed YAML"
        raise InvalidInput([Problem(file, (), f"{kind}: {message}", hint=hint, line=line)]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput([Problem(file, (), f"malformed YAML: {exc}")]) from None


def line_of(text: str, path: KeyPath) -> int | None:
    """1-based line of the node at `path` (or of its nearest existing parent)."""
    try:
        node = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node else None
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part or str(key.value) == str(part):
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def with_lines(problems: list[Problem], text: str) -> list[Problem]:
    """Fill in line numbers for problems that lack one."""
    from dataclasses import replace

    return [p if p.line else replace(p, line=line_of(text, p.path)) for p in problems]
