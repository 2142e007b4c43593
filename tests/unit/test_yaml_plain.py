"""The direct build of plain YAML documents gives what PyYAML's constructor gives, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mailoauth.base import yamlio

ROOT = Path(__file__).resolve().parents[2]


class ConstructorOnly(yamlio.StrictLoader):
    """The strict loader without the direct build: every document through PyYAML's constructor."""

    get_single_data = yaml.constructor.BaseConstructor.get_single_data


def outcome(text: str, loader: type) -> object:
    try:
        return ("value", yaml.load(text, Loader=loader))
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


DOCUMENTS = [
    "a: 1\nb: [x, 2027-01-28, 1.5, null, true, 0x1f, ~, '12']\n",
    "a: &x {k: [1, 2]}\nb: *x\n",  # alias
    "base: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n",  # merge key, overridden
    "? [1]\n: 2\n",  # a list as a key
    "a: {123: x}\n",  # a key YAML reads as a number
    "yes: 1\n",  # a key YAML reads as true
    "a: 1\nb: {c: 1, c: 2}\n",  # duplicate key
    "x: !custom 1\n",
    "= : 3\n",
    "",
    "- a\n- {b: c}\n",
    "d: 2027-02-30\n",  # not a date
    "n: 1" + "0" * 5000 + "\n",  # not buildable as a number
    "x: !!str 12\ny: !!binary aGk=\n",
    "[[[[[[[[[[1]]]]]]]]]]\n",
    "a: [yes, 'yes', ~, .inf, 1_000, 0o17, '', Null, \"true\", 2027-01-28T10:00:00Z]\n",  # the same text, tags differ
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_plain_build_equals_the_constructor(text: str) -> None:
    assert outcome(text, yamlio.StrictLoader) == outcome(text, ConstructorOnly)


def test_every_project_file_builds_the_same() -> None:
    files = [p for d in ("stacks", "scopes", "policy", "products") for p in sorted((ROOT / d).rglob("*.yaml"))]
    assert files
    for path in files:
        text = path.read_text()
        assert outcome(text, yamlio.StrictLoader) == outcome(text, ConstructorOnly), path


def test_an_alias_keeps_one_shared_object() -> None:
    doc = yaml.load("a: &x {k: 1}\nb: *x\n", Loader=yamlio.StrictLoader)
    assert doc["a"] is doc["b"]
