"""`scopes sync`: the catalogue's permission ids checked against what the tenant's Microsoft
service principals publish, and (with --write) corrected in place.

The file is edited surgically: ruamel.yaml (round-trip mode) locates each value, and only those
characters change, so comments, order, flow style and column alignment stay exactly as written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mailoauth.base.problems import CommandError
from mailoauth.base.style import count
from mailoauth.desired.catalogue import CATALOGUE_FILE, Catalogue
from mailoauth.graph.records import ResourceApi


@dataclass(frozen=True)
class Difference:
    scope: str
    resource_key: str
    resource: str
    field: str  # "id" | "adminConsent" | "missing" | "resource"
    catalogue: str
    tenant: str

    @property
    def fixable(self) -> bool:
        return self.field in ("id", "adminConsent")

    def message(self) -> str:
        if self.field == "resource":
            return f"{self.resource} has no service principal in the tenant; its scopes cannot be checked"
        if self.field == "missing":
            return f"{self.scope}: {self.resource} publishes no delegated permission of that name"
        return f"{self.scope}: {self.field} is {self.catalogue} in the catalogue, {self.tenant} in the tenant"

    def as_json(self) -> dict[str, str]:
        fields = {k: v for k, v in asdict(self).items() if k != "resource_key"}
        return {**fields, "message": self.message()}


def differences(cat: Catalogue, resources: dict[str, ResourceApi]) -> list[Difference]:
    """Every catalogue entry whose id or consent flag differs from the tenant, or that the tenant lacks."""
    out: list[Difference] = []
    reported: set[str] = set()
    for scope in cat.scopes.values():
        api = resources.get(scope.resource_app_id.lower())
        if api is None:
            if scope.resource_key not in reported:
                reported.add(scope.resource_key)
                out.append(
                    Difference("", scope.resource_key, scope.resource_name, "resource", scope.resource_app_id, "")
                )
            continue
        by_value = {value: (sid, admin) for sid, (value, admin) in api.scopes.items()}
        published = by_value.get(scope.value)
        if published is None:
            out.append(Difference(scope.value, scope.resource_key, api.display_name, "missing", scope.id, ""))
            continue
        sid, admin = published
        if sid != scope.id:
            out.append(Difference(scope.value, scope.resource_key, api.display_name, "id", scope.id, sid))
        if admin != scope.admin_consent:
            out.append(
                Difference(
                    scope.value,
                    scope.resource_key,
                    api.display_name,
                    "adminConsent",
                    _yaml_bool(scope.admin_consent),
                    _yaml_bool(admin),
                )
            )
    return out


def _yaml_bool(value: bool) -> str:
    return "true" if value else "false"


def rewrite(text: str, changes: list[Difference]) -> str:
    """The catalogue text with each fixable difference's value replaced where it is written."""
    from ruamel.yaml import YAML

    doc = YAML().load(text)
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str, str]] = []
    for d in changes:
        if not d.fixable:
            continue
        entry: Any = doc["resources"][d.resource_key]["scopes"][d.scope]
        line, col = entry.lc.value(d.field)
        edits.append((line, col, d.catalogue, d.tenant))
    for line, col, old, new in sorted(edits, reverse=True):  # right to left, so columns stay valid
        written = lines[line][col:]
        quote = written[:1] if written[:1] in "'\"" else ""
        if not written.removeprefix(quote).lower().startswith(old.lower()):
            raise CommandError(f"{CATALOGUE_FILE}:{line + 1}: expected {old} at column {col + 1}; edit it by hand")
        end = col + len(quote) + len(old)
        lines[line] = lines[line][: col + len(quote)] + new + lines[line][end:]
    return "".join(lines)


def sync_document(differences_found: list[Difference], written: bool) -> dict[str, Any]:
    return {
        "inSync": not differences_found,
        "written": written,
        "differences": [d.as_json() for d in differences_found],
    }


def render_text(doc: dict[str, Any]) -> str:
    from mailoauth.base.tables import text_table

    if doc["inSync"]:
        return f"{CATALOGUE_FILE} matches the tenant\n"
    rows = [
        (d["field"], d["scope"] or "-", d["resource"], d["catalogue"] or "-", d["tenant"] or "-")
        for d in doc["differences"]
    ]
    head = f"{count(len(rows), 'difference')} between {CATALOGUE_FILE} and the tenant"
    tail = [
        f"updated {CATALOGUE_FILE}"
        if doc["written"]
        else "run `mailoauth scopes sync --write` to correct ids and consent flags"
    ]
    return (
        "\n".join([head, "", *text_table(("field", "scope", "resource", "catalogue", "tenant"), rows), "", *tail])
        + "\n"
    )


def render_markdown(doc: dict[str, Any]) -> str:
    from mailoauth.base.tables import markdown_table

    if doc["inSync"]:
        return f"`{CATALOGUE_FILE}` matches the tenant\n"
    rows = [
        (d["field"], f"`{d['scope']}`" if d["scope"] else "", d["resource"], d["catalogue"], d["tenant"])
        for d in doc["differences"]
    ]
    return "\n".join(markdown_table(("field", "scope", "resource", "catalogue", "tenant"), rows)) + "\n"
