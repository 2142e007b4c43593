"""Round-trip YAML editing with ruamel.yaml: comments, key order, quoting and layout kept.

Commands that change a stack file (`secrets rotate`, `secrets retire`) edit the parsed document
and write it back, so the result is a small, reviewable diff. ruamel.yaml does not record a
file's indentation, so `RoundTrip` tries the usual layouts and keeps the first one under which
the untouched file reproduces byte for byte. ruamel.yaml is an optional extra (`.[edit]`); this
module is only imported by the commands that write files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem

T = TypeVar("T")

# (mapping indent, sequence indent, dash offset), most common first: a file without block lists
# round-trips under several, and the first decides how a new list (`secrets:`) is indented.
LAYOUTS = tuple((m, off + 2, off) for m in (2, 4, 3) for off in sorted(range(m + 1), key=lambda o: (o != m, o)))
WIDTH = 4096  # never fold long lines (redirect URIs, descriptions)


@dataclass
class RoundTrip:
    """A parsed document and the emitter settings that reproduce its source text."""

    doc: Any
    yaml: YAML
    exact: bool  # False: no layout reproduces the untouched file, so the diff may show unrelated lines
    crlf: bool

    @classmethod
    def parse(cls, text: str, file: str) -> RoundTrip:
        crlf = "\r\n" in text
        text = text.replace("\r\n", "\n")
        explicit_start = bool(re.search(r"^---", text, re.MULTILINE))
        guess = _guess_layout(text)
        layouts = sorted(LAYOUTS, key=lambda layout: layout != guess)
        try:
            doc = _emitter(layouts[0], explicit_start).load(text)
        except YAMLError as exc:
            raise InvalidInput([Problem(file, (), f"malformed YAML: {exc}")]) from None
        for layout in layouts:  # the layout only affects output: one parse, several dumps at most
            yaml = _emitter(layout, explicit_start)
            if _dump(yaml, doc) == text:
                return cls(doc, yaml, True, crlf)
        return cls(doc, _emitter(layouts[0], explicit_start), False, crlf)

    def text(self) -> str:
        out = _dump(self.yaml, self.doc)
        return out.replace("\n", "\r\n") if self.crlf else out


def _guess_layout(text: str) -> tuple[int, int, int]:
    """The layout the text appears to use: the first nested key's indent, the first block list's dash offset."""
    mapping = offset = None
    parent_indent = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith("- ") and offset is None:
            offset = max(indent - parent_indent, 0)
        elif indent and mapping is None and not stripped.startswith("-"):
            mapping = indent
        if stripped.rstrip().endswith(":") and not stripped.startswith("-"):
            parent_indent = indent
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = mapping if offset is None else offset
    return mapping, offset + 2, offset


def _emitter(layout: tuple[int, int, int], explicit_start: bool) -> YAML:
    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.explicit_start = explicit_start
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def round_trip_edit(source: str, file: str, change: Callable[[RoundTrip], None], check: Callable[[str], T]) -> Edit[T]:
    """Parse `source`, let `change` edit the document, write it out and rebuild it with `check` (which
    validates the result and compares it with what the edit intended). Problems carry the line numbers
    of `source`, the file the user opens. Raises InvalidInput when the result is not what was meant."""
    rt = RoundTrip.parse(source, file)
    change(rt)
    text = rt.text()
    try:
        result = check(text)
    except InvalidInput as exc:
        raise InvalidInput(yamlio.with_lines(list(exc.problems), source)) from None
    return Edit(text, result, rt.exact)


@dataclass(frozen=True)
class Edit(Generic[T]):
    text: str
    result: T  # what `check` built from the new text
    exact: bool  # every line the edit did not touch is byte-identical
