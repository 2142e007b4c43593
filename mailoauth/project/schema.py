"""JSON Schemas for the project's YAML files, generated from the Key specs that validation itself uses
(`mailoauth.base.keyspec`: one check and one schema per kind).

Editors read them through the YAML language server (`# yaml-language-server: $schema=...` at the top
of a file) for completion and inline errors. The schemas check shape only; meaning (does the scope
exist, is the secret's expiry ahead, the guardrails) stays with `mailoauth validate`.
`mailoauth schema` reports copies in schema/ that no longer match the specs; `--write` refreshes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mailoauth.base.keyspec import object_schema
from mailoauth.desired.catalogue import CATALOGUE_KEYS, SCOPE_SET_KEYS
from mailoauth.desired.model import CONFIG_KEYS
from mailoauth.desired.products import PRODUCT_KEYS
from mailoauth.guardrails import rules
from mailoauth.project.assembly import PULUMI_FILE_KEYS

SCHEMA_DIR = "schema"
DRAFT = "http://json-schema.org/draft-07/schema#"
FOREIGN_KEY = "^(?!mailoauth:)"


def _stack() -> dict[str, Any]:
    config = object_schema(CONFIG_KEYS)
    config["description"] = "The stack's configuration: mailoauth's keys and the azuread provider's."
    config["patternProperties"] = {FOREIGN_KEY: {"description": "Another namespace's key; not checked here."}}
    pulumi_keys = {k: {"description": "Pulumi's own stack file key."} for k in PULUMI_FILE_KEYS if k != "config"}
    return {
        "type": "object",
        "properties": {"config": config, **pulumi_keys},
        "required": ["config"],
        "additionalProperties": False,
    }


def documents() -> dict[str, dict[str, Any]]:
    """File name in schema/ -> schema document."""
    titled = {
        "stack.schema.json": ("mailoauth stack file (stacks/Pulumi.<env>.yaml)", _stack()),
        "catalogue.schema.json": ("mailoauth scope catalogue (scopes/catalogue.yaml)", object_schema(CATALOGUE_KEYS)),
        "scope-set.schema.json": ("mailoauth scope set (scopes/sets/<name>.yaml)", object_schema(SCOPE_SET_KEYS)),
        "product.schema.json": ("mailoauth product profile (products/<name>.yaml)", object_schema(PRODUCT_KEYS)),
        "policy.schema.json": (f"mailoauth guardrail policy ({rules.POLICY_FILE})", object_schema(rules.POLICY_KEYS)),
    }
    return {name: {"$schema": DRAFT, "title": title, **body} for name, (title, body) in titled.items()}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def stale(root: Path) -> list[str]:
    """Names of the files in schema/ that are missing or differ from what the specs generate."""
    out = []
    for name, document in documents().items():
        path = root / SCHEMA_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(document):
            out.append(name)
    return out


def write(root: Path, names: list[str]) -> None:
    (root / SCHEMA_DIR).mkdir(exist_ok=True)
    docs = documents()
    for name in names:
        (root / SCHEMA_DIR / name).write_text(render(docs[name]), encoding="utf-8")
