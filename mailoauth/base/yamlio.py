"""Strict YAML reading: the C loader when available, duplicate keys rejected, errors as Problems.

Line numbers are looked up only when a problem is reported (by walking the composed node tree
along the key path), so the fast path pays nothing for them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from mailoauth.base.problems import InvalidInput, KeyPath, Problem

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MERGE = "tag:yaml.org,2002:merge"
STR = "tag:yaml.org,2002:str"
KINDS = {"int": "a number", "float": "a number", "bool": "true/false", "timestamp": "a date", "null": "null"}
# Aliases (`*name`) share one node, so a small file can stand for an enormous document ("billion
# laughs"). A document may use aliases as long as, written out in full, it stays under this many
# nodes, reached through at most MAX_DEPTH levels (an alias inside its own anchor is an endless chain).
# Without an anchor (`&name`) there is no alias, and libyaml's own limit of 1,000 levels applies.
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64


class DuplicateKey(yaml.MarkedYAMLError):
    pass


class BadScalar(yaml.MarkedYAMLError):
    """A plain scalar YAML resolves to a date or number it cannot build (2027-02-30, a 5000-digit integer)."""


class BadKey(yaml.MarkedYAMLError):
    """A mapping key that YAML reads as something other than text (`123:`, `2026-01-01:`, `yes:`)."""


def _key_message(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        return "a key must be text, not a list or mapping"
    shown = node.value if len(node.value) <= 40 else f"{node.value[:40]}..."
    return f"the key '{shown}' is read by YAML as {KINDS.get(node.tag.rsplit(':', 1)[-1], 'a value')}, not as text"


class TooLarge(yaml.MarkedYAMLError):
    """Aliases that expand the document past MAX_EXPANDED_NODES, or nesting deeper than MAX_DEPTH."""


class StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading that refuses duplicate mapping keys (PyYAML silently keeps the last one).

    A key that overrides one brought in by a merge key (`<<: *base`) is not a duplicate.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        own = [key for key, _ in node.value if key.tag != MERGE]  # before merging rewrites node.value
        for key_node in own:
            if key_node.tag != STR:
                raise BadKey(None, None, _key_message(key_node), key_node.start_mark)
        merges = len(own) != len(node.value)
        mapping = super().construct_mapping(node, deep=deep)
        if merges or len(mapping) != len(own):
            seen: set[object] = set()
            for key_node in own:
                key = self.construct_object(key_node)
                if key in seen:
                    raise DuplicateKey(None, None, f"duplicate key '{key}'", key_node.start_mark)
                seen.add(key)
        return mapping

    may_alias = True  # load() clears it for a text without `&`: no anchor, so no alias to expand

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        if self.may_alias:
            check_expansion(node)
        return self.construct_document(node)


class _NotPlain(Exception):
    """The document needs the composer and constructor: an anchor or alias, a tag, a key that is not
    plain text, a duplicate key, deep nesting, a second document, or a YAML error to report."""


_RESOLVER = yaml.resolver.Resolver()  # the implicit resolvers of the safe loaders, without a path
# The first characters of every plain scalar an implicit resolver may claim (null, bool, int, float,
# date, merge, value; '' is the empty scalar). Any other plain scalar, and every quoted one, is text.
_CLAIMED = frozenset(_RESOLVER.yaml_implicit_resolvers)
assert None not in _CLAIMED  # no resolver for every first character: the shortcut holds


@lru_cache(maxsize=4096)  # keys, enum values and booleans repeat in every stack file
def _scalar_tag(value: str, implicit: tuple[bool, bool]) -> str:
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, implicit))


def _direct(loader: StrictLoader) -> Any:
    """A plain document (scalars, lists and mappings of text keys, nothing else) built straight from the
    parser's events: the same values as composing and constructing it (scalars through the very same
    constructors), without a node per value. Anything else raises _NotPlain; see there."""
    events = loader.get_event
    if type(events()) is not yaml.StreamStartEvent or type(loader.peek_event()) is yaml.StreamEndEvent:
        raise _NotPlain  # an empty stream: the usual path gives None
    events()  # DocumentStartEvent
    root: Any = None
    into: Any = None  # the list or dict being filled
    key: Any = _NO_KEY  # in a dict: the key waiting for its value
    outer: list[tuple[Any, Any]] = []  # the (into, key) of the collections around `into`
    while True:
        event = events()
        kind = type(event)
        if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            if not outer:
                break
            into, key = outer.pop()
            continue
        if event.anchor is not None or event.tag not in (None, "!") or kind is yaml.AliasEvent:
            raise _NotPlain
        child: Any = None
        if kind is yaml.ScalarEvent:
            text = event.value
            tag = STR if event.tag == "!" or text[:1] not in _CLAIMED else _scalar_tag(text, event.implicit)
            value = text if tag == STR else _scalar(loader, tag, event)
        else:
            tag, value = None, {} if kind is yaml.MappingStartEvent else []
            child = value
        if into is None:
            root = value
        elif type(into) is list:
            into.append(value)
        elif key is not _NO_KEY:
            into[key], key = value, _NO_KEY
        elif tag != STR or value in into:
            raise _NotPlain  # a key that is not text, or a duplicate: construct_mapping reports it
        else:
            key = value
        if child is not None:
            if len(outer) >= MAX_DEPTH:
                raise _NotPlain
            if into is not None:
                outer.append((into, key))
            into, key = child, _NO_KEY
        elif into is None:
            break  # a document of one scalar
    if type(events()) is not yaml.DocumentEndEvent or type(events()) is not yaml.StreamEndEvent:
        raise _NotPlain
    return root


_NO_KEY = object()


def _scalar(loader: StrictLoader, tag: str, event: Any) -> Any:  # a ScalarEvent, marks from either parser
    construct = loader.yaml_constructors.get(tag)
    if construct is None or tag == MERGE:
        raise _NotPlain
    return construct(loader, yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph whose aliases expand past the budget, or that nests too deep; linear in its
    distinct nodes (each node's expanded size is computed once, without recursion)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if done:
            size[id(node)] = min(1 + sum(size[id(c)] for c in _children(node)), MAX_EXPANDED_NODES + 1)
            if size[id(node)] > MAX_EXPANDED_NODES:
                raise TooLarge(
                    None,
                    None,
                    f"the aliases (*name) here expand to more than {MAX_EXPANDED_NODES:,} values",
                    node.start_mark,
                )
            continue
        if id(node) in size:
            continue
        if depth > MAX_DEPTH:
            raise TooLarge(None, None, f"values nested more than {MAX_DEPTH} levels deep", node.start_mark)
        stack.append((node, depth, True))
        stack += [(c, depth + 1, False) for c in _children(node) if id(c) not in size]


def _checked(kind: str, construct: Any) -> Any:
    """A scalar constructor whose ValueError becomes a YAML error with the value's line."""

    def checked(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError) as exc:
            shown = node.value if len(node.value) <= 40 else f"{node.value[:40]}..."
            reason = str(exc).split(":")[0]
            raise BadScalar(None, None, f"'{shown}' is not a valid {kind} ({reason})", node.start_mark) from None

    return checked


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _checked("date", _BaseLoader.construct_yaml_timestamp))
StrictLoader.add_constructor("tag:yaml.org,2002:int", _checked("number", _BaseLoader.construct_yaml_int))


HINTS: dict[type, tuple[str | None, str]] = {
    DuplicateKey: (None, "duplicate key"),
    BadScalar: (
        "fix the value (a date is YYYY-MM-DD with a real day), or quote it if it is meant as text",
        "invalid value",
    ),
    BadKey: ("quote the key, or start it with a letter", "invalid key"),
    TooLarge: ("write the values out, or share fewer of them through anchors and aliases", "document too large"),
}


def load(text: str, file: str) -> Any:
    """Parse one document; a syntax error or duplicate key becomes an InvalidInput naming file and line."""
    if "&" not in text:  # an anchor forces the usual path anyway
        loader = StrictLoader(text)
        try:
            return _direct(loader)
        except (_NotPlain, yaml.YAMLError, RecursionError):
            pass  # parsed again the usual way, which reports what is wrong exactly as before
        finally:
            loader.dispose()
    loader = StrictLoader(text)  # derives from a safe loader
    loader.may_alias = "&" in text
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = str(exc.problem or exc.context or "malformed YAML")
        hint, kind = HINTS.get(type(exc), ("check indentation, quoting and ':' after each key", "malformed YAML"))
        raise InvalidInput([Problem(file, (), f"{kind}: {message}", hint=hint, line=line)]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput([Problem(file, (), f"malformed YAML: {exc}")]) from None
    finally:
        loader.dispose()


def line_of(text: str, path: KeyPath) -> int | None:
    """1-based line of the node at `path` (or of its nearest existing parent)."""
    return _Lines(text).line(path)


class _Lines:
    """Finds the lines of key paths in one text: by indentation where the text is plain block mappings
    (as stack files are), else from the composed node tree, composed once for all paths."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines()
        self._root: yaml.Node | bool | None = False  # False: not composed yet

    def line(self, path: KeyPath) -> int | None:
        found = _block_line(self.lines, path)
        return found if found is not None else self._composed_line(path)

    def _composed_line(self, path: KeyPath) -> int | None:
        if self._root is False:
            self._root = _compose(self.text)
        return _line_in(self._root if isinstance(self._root, yaml.Node) else None, path)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None


def _line_in(node: yaml.Node | None, path: KeyPath) -> int | None:
    line = node.start_mark.line + 1 if node else None
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


BLOCK_KEY = re.compile(  # a mapping key that starts a line: "quoted", 'quoted' or plain, then ':'
    r"""(?:"(?P<dq>[^"\\]*)"|'(?P<sq>[^']*)'|(?P<plain>[^\s#'"{}\[\],&*!|>%@`?-][^#]*?))\s*:(?:\s|$)"""
)


def _block_line(lines: list[str], path: KeyPath) -> int | None:
    """The 1-based line of `path` when every step is a key of a plain block mapping, else None.

    A block's own keys are the lines at its first indentation; anything else there (a sequence item,
    a flow collection, an anchor, a merge key, a line that is not `key:`) ends the shortcut.
    """
    start, indent, found, rest = 0, -1, None, ""
    for part in path:
        if not isinstance(part, str) or part == "<<" or (rest and not rest.startswith("#")):
            return None  # a sequence index, a merge, or inside a value written on its key's line (flow)
        hit, own, deeper = None, None, ""
        for i in range(start, len(lines)):
            if deeper and lines[i].startswith(deeper):
                continue  # inside one of the block's values (or blank, or a comment): not a key of the block
            stripped = lines[i].lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            depth = len(lines[i]) - len(stripped)
            if depth <= indent:
                break
            if own is None:
                own, deeper = depth, " " * (depth + 1)
            if depth != own:
                continue
            key = BLOCK_KEY.match(stripped)
            if key is None or "\t" in lines[i][:depth]:
                return None
            if next(v for v in key.group("dq", "sq", "plain") if v is not None) == part:
                hit, rest = i, stripped[key.end() :].lstrip()
                break
        if hit is None or own is None:
            return None
        start, indent, found = hit + 1, own, hit
    return None if found is None else _value_line(lines, found, rest)


def _value_line(lines: list[str], key_line: int, rest: str) -> int | None:
    """Where the value of the key on `key_line` starts (1-based), as the composer marks it: that line
    for a value written after the key (`rest`), the next line that holds anything for a block below it."""
    if rest.startswith(("&", "!", "*")):
        return None
    if rest and not rest.startswith("#"):
        return key_line + 1
    for i in range(key_line + 1, len(lines)):
        stripped = lines[i].lstrip(" ")
        if stripped and not stripped.startswith("#"):
            return i + 1
    return key_line + 1


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part or str(key.value) == str(part):
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def with_lines(problems: list[Problem], text: str) -> list[Problem]:
    """Fill in line numbers for problems that lack one (by indentation where the text allows, else from
    the text composed once, not once per problem)."""
    from dataclasses import replace

    if all(p.line for p in problems):
        return problems
    lines = _Lines(text)
    return [p if p.line else replace(p, line=lines.line(p.path)) for p in problems]
