"""Turn an AADSTS code or a mail server's reply into what it means here and how to fix it.

The texts are data (explanations.yaml) with the source of each fact, so a reviewer can check them
and a maintainer can add a code without touching this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

AADSTS = re.compile(r"AADSTS(\d+)", re.IGNORECASE)
BARE_CODE = re.compile(r"^\s*(\d{5,7})\s*$")  # a code without its prefix, as people type it
PLACEHOLDERS = ("key", "stack", "file", "mailbox")


@dataclass(frozen=True)
class Explanation:
    code: str
    meaning: str
    fix: str
    source: str  # an id of the sources table
    reference: str  # where the fact is published

    def in_context(self, values: Mapping[str, str | None]) -> Explanation:
        """The texts with <key>, <stack>, <file> and <mailbox> replaced by the known values."""
        meaning, fix = self.meaning, self.fix
        for name in PLACEHOLDERS:
            value = values.get(name)
            if value:
                meaning, fix = meaning.replace(f"<{name}>", value), fix.replace(f"<{name}>", value)
        return replace(self, meaning=meaning, fix=fix)

    def as_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "meaning": self.meaning,
            "fix": self.fix,
            "source": self.source,
            "reference": self.reference,
        }


@cache
def _data() -> dict[str, Any]:
    text = resources.files("mailoauth.verify").joinpath("explanations.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def explanations() -> dict[str, Explanation]:
    sources = _data()["sources"]
    return {
        code: Explanation(code, e["meaning"], e["fix"], e["source"], sources[e["source"]])
        for code, e in _data()["explanations"].items()
    }


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(e["match"]), code) for code, e in _data()["explanations"].items() if "match" in e)


def explain(reply: str, context: Mapping[str, str | None] | None = None) -> Explanation | None:
    """The explanation for the first known code in `reply` (AADSTS codes first, in any case or as bare digits,
    then mail and Graph replies)."""
    table = explanations()
    codes = AADSTS.findall(reply) or BARE_CODE.findall(reply)
    found = next((table[f"AADSTS{n}"] for n in codes if f"AADSTS{n}" in table), None)
    if found is None:
        found = next((table[code] for pattern, code in _patterns() if pattern.search(reply)), None)
    return found.in_context(context) if found and context else found
