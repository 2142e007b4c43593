"""`mailoauth init`: a new stack file from a product profile, answered by flags or by prompts.

The tenant may be given as a GUID or as one of its domains; a domain is resolved through the
tenant's public OpenID configuration document (`https://<login host>/<domain>/v2.0/.well-known/
openid-configuration`, whose `issuer` carries the tenant GUID). The fetch is a parameter, so tests
answer it locally; when the network gives no answer, the error says where to find the GUID.
"""

from __future__ import annotations

import json
import re
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from mailoauth.base.problems import CommandError
from mailoauth.desired.entra import tenant_lookup
from mailoauth.desired.model import GUID_PATTERN
from mailoauth.desired.products import Product

Fetch = Callable[[str], bytes]  # URL -> response body; raises OSError (URLError) when it cannot
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
ISSUER_TENANT = re.compile(r"/([0-9a-fA-F-]{36})/")
TIMEOUT = 10.0


def fetch_url(url: str) -> bytes:
    """The default fetch: a plain GET with a timeout (urllib, no extra dependency)."""
    import urllib.request  # only when a domain is looked up: it pulls in http.client and ssl

    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        return bytes(response.read())


def resolve_tenant(given: str, login_url: str, fetch: Fetch) -> tuple[str, str | None]:
    """(tenant GUID, the domain it was looked up from or None); CommandError with the way out otherwise."""
    text = given.strip()
    if re.match(GUID_PATTERN, text):
        return text.lower(), None
    if not DOMAIN.match(text):
        raise CommandError(f"--tenant {given!r} is neither a tenant GUID nor a domain; {_where()}")
    url = tenant_lookup().openid_configuration.format(login=login_url.rstrip("/"), domain=text)
    try:
        body = fetch(url)
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 404):
            raise CommandError(f"no Microsoft Entra tenant has the domain {text} ({url}: HTTP {exc.code})") from None
        raise CommandError(f"could not look up the tenant of {text}: HTTP {exc.code} from {url}; {_where()}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"could not look up the tenant of {text} ({reason}); {_where()}") from None
    return _tenant_of(body, text, url), text


def _where() -> str:
    return f"give the tenant GUID instead: {tenant_lookup().where_to_find_it}"


def _tenant_of(body: bytes, domain: str, url: str) -> str:
    try:
        issuer = json.loads(body).get("issuer", "")
    except (ValueError, AttributeError):
        issuer = ""
    found = ISSUER_TENANT.search(str(issuer))
    if not found or not re.match(GUID_PATTERN, found[1]):
        raise CommandError(f"{url} named no tenant for {domain}; {_where()}")
    return found[1].lower()


@dataclass(frozen=True)
class Answers:
    """Everything a new stack file needs, checked and resolved."""

    env: str
    tenant: str
    tenant_domain: str | None
    cloud: str
    product: Product
    use_cases: tuple[str, ...]
    instance_url: str | None
    callback_url: str | None
    expires: date
    lifetime: str

    @property
    def app_key(self) -> str:
        return self.product.key


def stack_text(a: Answers, today: date) -> str:
    """The commented stack file; `assembly.build_stack` checks it before anything is written."""
    product = a.product
    cases = ", ".join(a.use_cases)
    lines = [
        "# yaml-language-server: $schema=../schema/stack.schema.json",
        f"# Stack {a.env}, written by `mailoauth init` on {today.isoformat()}.",
        f"# Check it with `mailoauth plan --stack {a.env}`; after `pulumi up`,",
        f"# `mailoauth handoff --stack {a.env} --app {a.app_key}` says what to paste where in {product.name}.",
        "config:",
        f"  azuread:tenantId: {a.tenant}" + (f"   # {a.tenant_domain}" if a.tenant_domain else ""),
        f"  azuread:environment: {a.cloud}",
        "  mailoauth:apps:",
        f"    {a.app_key}:",
        f"      displayName: {_scalar(f'{product.name} mail ({a.env})')}",
        "      audience: single-tenant",
        f"      product: {product.key}   # products/{product.key}.yaml",
        f"      useCases: [{cases}]   # they give the scope sets; see `mailoauth plan`",
    ]
    if a.callback_url:
        lines += [
            f"      # {product.name}'s callback URL, from {product.callback.copy_from}:",
            f"      redirectUris: [{_scalar(a.callback_url)}]",
        ]
    else:
        lines.append(
            f"      instanceUrl: {_scalar(a.instance_url)}   # gives the callback URL {product.callback.pattern}"
        )
    description = f"{a.app_key}-{a.env}"
    lines += [
        f"      # Secret lifetime {a.lifetime}; `mailoauth secrets rotate` adds the next slot before it expires.",
        f"      secret: {{description: {_scalar(description)}, expires: {a.expires.isoformat()}}}",
    ]
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    """A YAML flow scalar (quoted only when YAML needs it)."""
    return str(yaml.safe_dump(value, default_flow_style=True, width=4096)).removesuffix("\n...\n").strip()
