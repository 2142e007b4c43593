"""Turn an AADSTS code or a mail server's reply into what it means here and how to fix it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

AADSTS = re.compile(r"AADSTS(\d+)")


@dataclass(frozen=True)
class Explanation:
    code: str
    meaning: str
    fix: str
    source: str


@cache
def _data() -> dict[str, dict[str, str]]:
    text = resources.files("mailoauth.verify").joinpath("explanations.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def explanations() -> dict[str, Explanation]:
    return {code: Explanation(code, e["meaning"], e["fix"], e["source"]) for code, e in _data().items()}


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(e["match"]), code) for code, e in _data().items() if "match" in e]


def explain(reply: str) -> Explanation | None:
    """The explanation for the first known code in `reply` (AADSTS codes first, then mail replies)."""
    table = explanations()
    for number in AADSTS.findall(reply):
        if f"AADSTS{number}" in table:
            return table[f"AADSTS{number}"]
    return next((table[code] for pattern, code in _patterns() if pattern.search(reply)), None)
