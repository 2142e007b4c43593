"""Problem lines: the indentation shortcut that locates keys in plain block YAML gives exactly the line
the YAML composer gives, for every node of every project file, and hands anything else to the composer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mailoauth.base import yamlio
from mailoauth.base.problems import KeyPath
from tests import fleetgen
from tests.projectcopy import ROOT

TRICKY = """\
config:
  a:
    b: 1
  "q:x": {c: 2,
   d: 3}
  e: |
    f: 2
  g: 4
  "h": 5
  'i': 6
  k: &x 7
  m:

    # a comment
    n: 1
  o: *x
  l:
  - x: 1
"""


def node_paths(node: yaml.Node, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    yield prefix
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from node_paths(value, (*prefix, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield from node_paths(value, (*prefix, i))


def composed_line(text: str, path: KeyPath) -> int | None:
    """The composer's answer alone, as the line of a problem was found before the shortcut."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    line = node.start_mark.line + 1
    for part in path:
        child = yamlio._child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


PROJECT_FILES = sorted(p for folder in ("stacks", "scopes", "policy") for p in (ROOT / folder).rglob("*.yaml"))


@pytest.mark.parametrize(
    "text",
    [*(p.read_text() for p in PROJECT_FILES), fleetgen.stack_text(7, 5), TRICKY],
    ids=[*(str(p.relative_to(ROOT)) for p in PROJECT_FILES), "generated", "tricky"],
)
def test_every_node_gets_the_composers_line(text: str) -> None:
    lines = yamlio._Lines(text)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for path in node_paths(root):
        assert lines.line(path) == composed_line(text, path), path
    assert lines.line(("config", "no-such-key")) == composed_line(text, ("config", "no-such-key"))


def test_the_shortcut_answers_plain_block_keys_and_leaves_the_rest() -> None:
    lines = TRICKY.splitlines()
    assert yamlio._block_line(lines, ("config", "a", "b")) == 3
    assert yamlio._block_line(lines, ("config", "m")) == 15  # a block below its key starts at its first key
    assert yamlio._block_line(lines, ("config", "i")) == 10
    for left in (("config", "q:x", "d"), ("config", "l", 0), ("config", "k"), ("config", "e", "f")):
        assert yamlio._block_line(lines, left) is None, left


def test_a_warning_in_a_stack_file_carries_its_line(tmp_path: Path) -> None:
    """What validate prints: a problem with an app's scope sets points at that app's scopeSets line."""
    text = fleetgen.stack_text(3, 5)
    path = ("config", "mailoauth:apps", "app-2", "scopeSets")
    (problem,) = yamlio.with_lines([yamlio.Problem("stacks/Pulumi.s003.yaml", path, "EWS")], text)
    assert text.splitlines()[problem.line - 1] == "      scopeSets: [graph-send]"
