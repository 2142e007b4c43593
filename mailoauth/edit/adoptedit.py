"""Add an adopted app to a stack file's text, keeping everything else as it was.

The entry is appended to `mailoauth:apps` on ruamel.yaml's round-trip document (comments, order
and quoting of the rest of the file are kept), with a comment above it that says where it came from
and how to keep or rotate its secrets. The result is validated with the core checks and the
project's policy, and compared with what adoption intended, before the caller writes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problem
from mailoauth.desired.catalogue import Catalogue
from mailoauth.desired.model import App, Stack
from mailoauth.edit.rtyaml import RoundTrip, round_trip_edit
from mailoauth.guardrails.rules import Guard
from mailoauth.project import assembly, files
from mailoauth.project.context import ProjectContext
from mailoauth.tenant.adoption import Adoption
from mailoauth.tenant.drift import desired_permissions

FLOW_KEYS = ("redirectUris", "scopeSets", "scopes", "omitScopes", "owners", "secret", "permissionOrder")


def added_text(
    source: str, stack: Stack, adoption: Adoption, comment: list[str], catalogue: Catalogue, today: date, guard: Guard
) -> tuple[str, Stack, bool]:
    """The stack file with the adopted app appended, its validated desired state, and whether every
    other line is byte-identical. Raises InvalidInput (nothing gets written) when the result is not valid."""

    def change(rt: RoundTrip) -> None:
        config = rt.doc["config"]
        apps = config.get("mailoauth:apps")
        lines = comment
        if not isinstance(apps, CommentedMap) or not apps:  # missing, empty or `{}`: the stack's first app
            apps = CommentedMap()
            config["mailoauth:apps"] = apps
        else:
            lines = ["", *comment]  # a blank line between the apps
        apps[adoption.key] = node(adoption.entry)
        apps.yaml_set_comment_before_after_key(adoption.key, before="\n".join(lines), indent=2 * rt.yaml.map_indent)  # type: ignore[operator]

    def check(text: str) -> Stack:
        after = assembly.build_stack(
            stack.name, yamlio.load(text, stack.file), stack.file, ProjectContext(catalogue, today, guard=guard)
        )
        _check(after, stack, adoption)
        return after

    edit = round_trip_edit(source, stack.file, change, check)
    return edit.text, edit.result, edit.exact


def node(value: Any, key: str | None = None) -> Any:
    """Plain values as ruamel nodes: short lists and secret slots in flow style, the rest as blocks."""
    if isinstance(value, dict):
        out = CommentedMap((k, node(v, k)) for k, v in value.items())
        if key in FLOW_KEYS or key in ("secrets", "consentGrants"):
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(node(v, key) for v in value)
        if key in FLOW_KEYS:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, date):
        return date.fromordinal(value.toordinal())  # a shared date object would be written as an anchor
    return value


def _check(after: Stack, before: Stack, adoption: Adoption) -> None:
    """Only the new app changed, and it keeps every permission, redirect URI and secret of the registration."""
    app = after.apps.get(adoption.key)
    others = {k: v for k, v in after.apps.items() if k != adoption.key}
    if app is None or others != before.apps or _lost(app, adoption):
        raise InvalidInput(
            [
                Problem(
                    before.file,
                    (*files.APPS, adoption.key),
                    "the edited file does not hold exactly the adopted app; nothing was written",
                    hint="report this as a bug",
                )
            ]
        )


def _lost(app: App, adoption: Adoption) -> bool:
    reg = adoption.registration
    return (
        not adoption.permissions <= desired_permissions(app)
        or app.redirect_uris != reg.web_redirect_uris
        or {s.key_id for s in app.secrets} != {s.key_id for s in reg.secrets}
        or app.display_name != reg.display_name
        or app.client_id != reg.client_id
    )
