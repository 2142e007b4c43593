"""The direct build of plain YAML documents from parser events gives what composing and constructing them
gives, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def outcome(text: str, direct: bool = True) -> object:
    """What `yamlio.load` gives: the value, or the problem it reports."""
    try:
        if direct:
            return ("value", yamlio.load(text, "f.yaml"))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(yamlio, "_direct", _never)
            return ("value", yamlio.load(text, "f.yaml"))
    except InvalidInput as exc:
        return ("error", exc.problems)


def _never(loader: yamlio.StrictLoader) -> None:
    raise yamlio._NotPlain


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
    "--- a\n...\n--- b\n",  # two documents
    "--- 5\n",  # a document of one scalar
    "%YAML 1.1\n---\na: 1\n",
    "a:\n'': x\n\"q\": [1, {b: [], c: {}}]\n",
    "a: ! 12\nb: !!str 5\n",  # a non-specific tag, a standard one
    "a: |\n  two\n  lines\n",
    "a: *nowhere\n",  # an alias without an anchor
    "[" * 70 + "]" * 70 + "\n",  # deeper than MAX_DEPTH
    "a: [1, 2\n",  # a syntax error
    "a: 1\n  b: 2\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_plain_build_equals_the_constructor(text: str) -> None:
    assert outcome(text) == outcome(text, direct=False)


def test_every_project_file_builds_the_same() -> None:
    files = [p for d in ("stacks", "scopes", "policy", "products") for p in sorted((ROOT / d).rglob("*.yaml"))]
    assert files
    for path in files:
        text = path.read_text()
        assert outcome(text) == outcome(text, direct=False), path


def test_a_stack_file_is_built_from_events_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio.StrictLoader, "get_single_data", _never)
    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    assert yamlio.load(text, "f.yaml") == yaml.load(text, Loader=yaml.SafeLoader)


@settings(max_examples=300, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.dates(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text() | st.integers(), inner),
        max_leaves=25,
    ),
    flow=st.none() | st.booleans(),
)
def test_any_dumped_document_builds_the_same(value: object, flow: bool | None) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True)
    assert outcome(text) == outcome(text, direct=False)


def test_an_alias_keeps_one_shared_object() -> None:
    doc = yaml.load("a: &x {k: 1}\nb: *x\n", Loader=yamlio.StrictLoader)
    assert doc["a"] is doc["b"]
