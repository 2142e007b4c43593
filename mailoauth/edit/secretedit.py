"""Apply a secret rotation to a stack file's text, keeping everything else as it was.

The edit happens on ruamel.yaml's round-trip document. ruamel keeps the comment lines that follow
a block (up to the next key) on the block's last value, so before slots are removed or added
those lines are detached and hung on the new last slot: they stay where they were in the file.
The result is validated with the core checks, and compared with the intended desired state,
before the caller writes it.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.model import SecretSlot, Stack
from mailoauth.edit.rtyaml import RoundTrip, round_trip_edit
from mailoauth.guardrails.rules import Guard
from mailoauth.project import assembly
from mailoauth.project.context import ProjectContext
from mailoauth.review.secretslots import Rotation, RotationError

MAP_EOL, SEQ_EOL = 2, 0  # where ruamel keeps an entry's end-of-line comment in `ca.items[...]`


def edited_text(
    source: str, stack: Stack, rotation: Rotation, catalogue: Catalogue, today: date, guard: Guard
) -> tuple[str, bool]:
    """The stack file after `rotation`, checked, and whether all other lines are byte-identical.

    Raises InvalidInput (so nothing gets written) when the result is not a valid stack file.
    """

    def change(rt: RoundTrip) -> None:
        app = rt.doc["config"]["mailoauth:apps"][rotation.app]
        _refuse_shared(app, rotation.app)
        apply(app, rotation)

    def rebuilt(text: str) -> None:
        check(text, stack, rotation, catalogue, today, guard)

    edit = round_trip_edit(source, stack.file, change, rebuilt)
    return edit.text, edit.exact


def _refuse_shared(app: CommentedMap, key: str) -> None:
    """Slots reached through an anchor, alias or merge key are shared: editing them would change other apps too."""
    slots = app.get("secrets", app.get("secret"))
    nodes = [app, slots, *(slots if isinstance(slots, CommentedSeq) else ())]
    if app.merge or any(getattr(node, "anchor", None) and node.anchor.value for node in nodes):
        raise RotationError(
            f"app {key}: its settings or secret slots use a YAML anchor, alias or merge key (&, *, <<:), so an "
            "edit here would change every app that shares them; write this app's secret slots out in full and "
            "run the command again"
        )


def apply(app: CommentedMap, rotation: Rotation) -> None:
    """Drop and add slots in the app's mapping; a `secret:` becomes a `secrets:` list, keeping its name."""
    slots = app["secrets"] if "secrets" in app else _to_list(app)
    flow_items = isinstance(slots[-1], CommentedMap) and slots[-1].fa.flow_style()
    following = None if slots.fa.flow_style() else _detach_following(slots)
    for index in sorted(rotation.drop, reverse=True):
        del slots[index]
    if rotation.add:
        slots.append(_slot_map(rotation.add, flow_items))
    if following:
        holder, pos = _tail(slots)
        holder[pos] = CommentToken("\n" + following, CommentMark(0))


def _to_list(app: CommentedMap) -> CommentedSeq:
    """`secret: {...}` -> `secrets: [{name: secret, ...}]` in place; the explicit name keeps the resource."""
    pos = list(app).index("secret")
    slot = app["secret"]
    key_comment = app.ca.items.pop("secret", None)
    del app["secret"]
    slots = CommentedSeq([slot])
    app.insert(pos, "secrets", slots)
    if "name" not in slot:
        slot.insert(0, "name", "secret")
    if key_comment and key_comment[MAP_EOL]:
        slot.ca.comment = None  # ruamel keeps this comment twice: on the key and on the value
        if slot.fa.flow_style():  # `secret: {...}  # note` -> `- {...}  # note`
            slots.ca.items[0] = [key_comment[MAP_EOL], None, None, None]
        else:  # `secret:  # note` -> `secrets:  # note`
            app.ca.items["secrets"] = key_comment
            slots.ca.comment = [key_comment[MAP_EOL], None]
    return slots


def _tail(node: Any) -> tuple[list[Any], int]:
    """The comment slot ruamel emits after `node`'s last line: its end-of-line comment and following lines."""
    if isinstance(node, CommentedSeq):
        last: Any = len(node) - 1
        pos = SEQ_EOL
    else:
        last, pos = list(node)[-1], MAP_EOL
    value = node[last]
    if isinstance(value, (CommentedMap, CommentedSeq)) and value and not value.fa.flow_style():
        return _tail(value)
    return node.ca.items.setdefault(last, [None, None, None, None]), pos


def _detach_following(slots: CommentedSeq) -> str | None:
    """Cut the comment lines after the last slot off it (its end-of-line comment stays); return them."""
    holder, pos = _tail(slots)
    token = holder[pos]
    if token is None or "\n" not in token.value:
        return None
    eol, following = token.value.split("\n", 1)
    holder[pos] = CommentToken(eol + "\n", token.start_mark) if eol.strip() else None
    return following or None


def _slot_map(slot: SecretSlot, flow: bool) -> CommentedMap:
    expires = date.fromordinal(slot.expires.toordinal())  # a shared date object would be written as an anchor
    out = CommentedMap([("name", slot.name), ("description", slot.description), ("expires", expires)])
    if flow:
        out.fa.set_flow_style()
    return out


def check(text: str, before: Stack, rotation: Rotation, catalogue: Catalogue, today: date, guard: Guard) -> None:
    """Validate the edited file like `mailoauth validate` (the project's policy included), and make sure
    only the intended slots changed."""
    after = assembly.build_stack(
        before.name, yamlio.load(text, before.file), before.file, ProjectContext(catalogue, today, guard=guard)
    )
    app = before.apps[rotation.app]
    kept = tuple(s for i, s in enumerate(app.secrets) if i not in rotation.drop)
    intended = {
        **before.apps,
        rotation.app: dataclasses.replace(app, secrets=kept + tuple(filter(None, [rotation.add]))),
    }
    if after.apps != intended:
        raise InvalidInput(
            [
                Problem(
                    before.file,
                    ("config", "mailoauth:apps", rotation.app, "secrets"),
                    "the edited file does not hold exactly the intended secret slots; nothing was written",
                    hint="edit the file by hand and report this as a bug",
                )
            ]
        )
