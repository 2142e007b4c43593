"""`mailoauth handoff`: what to paste where in the mail product's OAuth2 form, field by field.

The form comes from the app's product profile (`products/*.yaml`), in the product's own words; an app
without a product gets a generic form. Values come from the same desired state `plan` shows and the
program exports; the client id and secret come from the stack outputs when they are given. Without
outputs, placeholders name the command that fills them. The secret is filled only when asked for.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from dataclasses import dataclass
from typing import Any

from mailoauth.desired.endpoints import app_endpoints, connections
from mailoauth.desired.model import App, Stack
from mailoauth.desired.products import Product
from mailoauth.guardrails.rules import is_loopback

GENERIC_FORM = (
    ("Client ID", "clientId"),
    ("Client secret", "clientSecret"),
    ("Tenant ID", "tenantId"),
    ("Authorization endpoint", "authorizeEndpoint"),
    ("Token endpoint", "tokenEndpoint"),
    ("Scope", "scope"),
    ("Redirect URI", "callbackUrl"),
)
PROTOCOL_NAMES = {"imap": "IMAP", "pop": "POP3", "smtp": "SMTP", "graph": "Microsoft Graph", "ews": "EWS"}


@dataclass(frozen=True)
class Outputs:
    """The stack outputs document (`pulumi stack output --json`) and where it was read from."""

    label: str
    doc: Any

    def dig(self, *path: str) -> Any:
        node = self.doc
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node


def document(stack: Stack, app: App, product: Product | None, outputs: Outputs | None, show_secret: bool) -> dict:
    """The hand-off as data: every form field with its value (or a placeholder) and where the value comes from."""
    endpoints = app_endpoints(app, stack.cloud, stack.tenant_id)
    form = product.form if product else GENERIC_FORM
    values = _Values(stack, app, dict(endpoints), outputs, show_secret)
    fields = [row for label, value in form for row in values.rows(label, value)]
    return {
        "stack": stack.name,
        "app": app.key,
        "product": _product(product),
        "tenantId": stack.tenant_id,
        "fields": fields,
        "connections": {
            proto: {"name": PROTOCOL_NAMES[proto], **conn} for proto, conn in connections(app, stack.cloud).items()
        },
        "callback": _callback(app, product),
        "notes": [{"text": text, "source": source} for text, source in product.notes] if product else [],
    }


def _product(product: Product | None) -> dict[str, str] | None:
    if product is None:
        return None
    return {
        "key": product.key,
        "name": product.name,
        "vendor": product.vendor,
        "guide": product.guide,
        "form": product.form_title,
        "formSource": product.form_source,
    }


def _callback(app: App, product: Product | None) -> dict[str, Any]:
    instance = [u for u in app.redirect_uris if not is_loopback(u)]
    check = (
        f"must equal what {product.name} shows: {product.callback.copy_from}"
        if product
        else "must equal the callback URL the product shows"
    )
    return {"registered": instance, "check": check}


@dataclass(frozen=True)
class _Values:
    """Fills one form field; a field may become several rows (one Scope per connection)."""

    stack: Stack
    app: App
    endpoints: dict[str, Any]
    outputs: Outputs | None
    show_secret: bool

    def rows(self, label: str, value: str) -> list[dict[str, Any]]:
        if value == "scope":
            conns = self.endpoints["connections"]
            return [
                _row(f"{label} ({PROTOCOL_NAMES[p]})" if len(conns) > 1 else label, c["scope"], self._conn(p))
                for p, c in conns.items()
            ]
        if value == "callbackUrl":
            uris = [u for u in self.app.redirect_uris if not is_loopback(u)] or list(self.app.redirect_uris)
            return [_row(label, u, f"apps.{self.app.key}.redirectUris (check)") for u in uris]
        return [getattr(self, f"_{value}")(label)]

    def _clientId(self, label: str) -> dict[str, Any]:
        where = f"apps.{self.app.key}.clientId"
        deployed = self.outputs.dig("apps", self.app.key, "clientId") if self.outputs else None
        if isinstance(deployed, str) and deployed:
            return _row(label, deployed, where)
        if self.app.client_id:
            return _row(label, self.app.client_id, f"{self.stack.file}: clientId")
        return _placeholder(label, where, f"run `pulumi up`, then {self._command('--outputs -')}")

    def _clientSecret(self, label: str) -> dict[str, Any]:
        where = f"clientSecrets.{self.app.key}"
        secret = self.outputs.dig("clientSecrets", self.app.key) if self.outputs else None
        if self.app.newest_managed_secret is None:
            kept = ", ".join(s.key_id or s.name for s in self.app.secrets)
            return _placeholder(label, where, f"the secret the product has now (made outside mailoauth, keyId {kept})")
        if not self.show_secret:
            how = (
                "add --show-secret"
                if self.outputs
                else "pipe `pulumi stack output --show-secrets --json` into "
                + (self._command("--outputs - --show-secret"))
            )
            return _placeholder(label, where, how)
        if not isinstance(secret, str) or not secret or secret == "[secret]":
            return _placeholder(label, where, "give `pulumi stack output --show-secrets --json` as --outputs")
        return {**_row(label, secret, where), "secret": True}

    def _tenantId(self, label: str) -> dict[str, Any]:
        return _row(label, self.stack.tenant_id, "azuread:tenantId")

    def _authorizeEndpoint(self, label: str) -> dict[str, Any]:
        return _row(label, self.endpoints["authorize"], f"apps.{self.app.key}.authorizeEndpoint")

    def _tokenEndpoint(self, label: str) -> dict[str, Any]:
        return _row(label, self.endpoints["token"], f"apps.{self.app.key}.tokenEndpoint")

    def _authorityUrl(self, label: str) -> dict[str, Any]:
        authority = str(self.endpoints["authorize"]).removesuffix("authorize")
        return _row(label, authority, f"apps.{self.app.key}.authorizeEndpoint without 'authorize'")

    def _conn(self, protocol: str) -> str:
        return f"apps.{self.app.key}.connections.{protocol}.scope"

    def _command(self, tail: str) -> str:
        return f"`mailoauth handoff --stack {self.stack.name} --app {self.app.key} {tail}`"


def _row(label: str, value: str, source: str) -> dict[str, Any]:
    return {"label": label, "value": value, "source": source}


def _placeholder(label: str, source: str, how: str) -> dict[str, Any]:
    return {"label": label, "value": None, "source": source, "fill": how}


# --- rendering ----------------------------------------------------------------------------------


def render_text(doc: dict[str, Any]) -> str:
    product = doc["product"]
    title = f"{product['name']}: {product['form']}" if product else "OAuth2 client settings (no product profile)"
    lines = [f"{title} for app {doc['app']} (stack {doc['stack']})", ""]
    width = max(len(f["label"]) for f in doc["fields"])
    lines += [f"  {f['label']:<{width}}  {_shown(f)}" for f in doc["fields"]]
    lines += ["", "Mail connections:"]
    lines += [f"  {c['name']:<{width}}  {_where(c)}" for c in doc["connections"].values()]
    lines += ["", f"Tenant: {doc['tenantId']}", f"Callback URL: {doc['callback']['check']}."]
    if product:
        lines.append(f"Guide ({product['vendor']}): {product['guide']}")
    lines += [f"Note: {n['text']} ({n['source']})" for n in doc["notes"]]
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    product = doc["product"]
    title = f"{product['name']}: {product['form']}" if product else "OAuth2 client settings"
    out = [f"### {title} (`{doc['app']}`, stack `{doc['stack']}`)", "", "| field | value | from |", "|---|---|---|"]
    out += [f"| {f['label']} | {_md(f)} | `{f['source']}` |" for f in doc["fields"]]
    out += ["", "| connection | where | scope |", "|---|---|---|"]
    out += [f"| {c['name']} | `{_where(c)}` | `{c['scope']}` |" for c in doc["connections"].values()]
    out += ["", f"Tenant: `{doc['tenantId']}`. Callback URL: {doc['callback']['check']}."]
    out += [f"- {n['text']} ([source]({n['source']}))" for n in doc["notes"]]
    return "\n".join(out) + "\n"


def render_env(doc: dict[str, Any]) -> str:
    """Shell assignments: field labels as upper-case names; placeholders as comments saying how to fill them."""
    lines, seen = [], Counter[str]()
    for f in doc["fields"]:
        name = "_".join("".join(ch if ch.isalnum() else " " for ch in f["label"].upper()).split())
        seen[name] += 1
        name += f"_{seen[name]}" if seen[name] > 1 else ""
        lines.append(f"{name}={shlex.quote(f['value'])}" if f["value"] is not None else f"# {name}: {f['fill']}")
    for proto, conn in doc["connections"].items():
        where = {k: v for k, v in conn.items() if k not in ("name", "scope")}
        lines += [f"{proto.upper()}_{k.upper()}={shlex.quote(str(v))}" for k, v in where.items()]
    return "\n".join(lines) + "\n"


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _shown(field: dict[str, Any]) -> str:
    return field["value"] if field["value"] is not None else f"<{field['fill']}>"


def _md(field: dict[str, Any]) -> str:
    return f"`{field['value']}`" if field["value"] is not None else f"_{field['fill']}_"


def _where(conn: dict[str, Any]) -> str:
    if "url" in conn:
        return str(conn["url"])
    return f"{conn['host']}:{conn['port']} ({conn['security']})"


RENDERERS = {"text": render_text, "json": render_json, "env": render_env, "markdown": render_markdown}
