"""Product profiles (`products/*.yaml`): the mail products that consume these registrations.

A profile says which use cases a product has and which scope sets each needs, how the product's
callback URL is formed, and the product's OAuth2 form field by field. A stack's app names a product
and its use cases (`product:`, `useCases:`, `instanceUrl:`); `derive` turns them into the `scopeSets`,
`scopes` and `redirectUris` the rest of the model reads, unless the stack file gives those keys itself.
Profiles are read with the key-spec checker, so `schema/product.schema.json` comes from `PRODUCT_KEYS`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.keyspec import Key, check_fields
from mailoauth.base.problems import KeyPath, Problem, Problems, did_you_mean, quoted
from mailoauth.base.tree import Tree
from mailoauth.desired.model import SIGN_IN_AUDIENCE

PRODUCTS_DIR = "products"
INSTANCE = "{instanceUrl}"
# What a form field is filled with; `mailoauth handoff` knows how to fill each.
FORM_VALUES = (
    "clientId",
    "clientSecret",
    "tenantId",
    "authorizeEndpoint",
    "tokenEndpoint",
    "authorityUrl",
    "scope",
    "callbackUrl",
)
URL_PATTERN = r"^https://\S+$"
SOURCE = Key("source", "string", "Where this fact was read (a URL).", required=True, pattern=URL_PATTERN)

USE_CASE_FIELDS = (
    Key("description", "string", "What the product does with the mailbox in this use case.", required=True),
    Key("scopeSets", "strings", "Scope sets from scopes/sets/ it needs.", default=[]),
    Key("scopes", "strings", "Single scopes from scopes/catalogue.yaml it needs.", default=[]),
    Key("legacy", "bool", "A legacy path kept for existing setups; `plan` warns when a stack uses it.", default=False),
    SOURCE,
)
CALLBACK_FIELDS = (
    Key("copyFrom", "string", "Where in the product the callback URL is shown.", required=True),
    Key(
        "pattern",
        "string",
        "The callback URL from the instance URL, where the vendor documents one ({instanceUrl}/...).",
        pattern=r"^\{instanceUrl\}/\S*$",
    ),
    Key("shape", "string", "A regular expression every callback URL of this product matches."),
    SOURCE,
)
FORM_FIELD_FIELDS = (
    Key("label", "string", "The field's label in the product.", required=True),
    Key("value", "enum", "What goes into it.", required=True, choices=FORM_VALUES),
)
FORM_FIELDS = (
    Key("title", "string", "The product's name for the form or dialog.", required=True),
    Key("fields", "objects", "The form's fields in the product's order.", required=True, fields=FORM_FIELD_FIELDS),
    SOURCE,
)
NOTE_FIELDS = (Key("text", "string", "The note.", required=True), SOURCE)
PRODUCT_KEYS = (
    Key("name", "string", "The product's name.", required=True),
    Key("vendor", "string", "Who makes it.", required=True),
    Key("guide", "string", "The vendor's Microsoft 365 OAuth2 setup guide.", required=True, pattern=URL_PATTERN),
    Key(
        "useCases",
        "map",
        "Use cases by key, each with the scope sets or scopes it needs.",
        required=True,
        fields=USE_CASE_FIELDS,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
    ),
    Key(
        "callback", "object", "How the product's OAuth2 callback URL is formed.", required=True, fields=CALLBACK_FIELDS
    ),
    Key("form", "object", "The product's OAuth2 form.", required=True, fields=FORM_FIELDS),
    Key("notes", "objects", "Product-specific notes, each with its source.", fields=NOTE_FIELDS),
    Key(
        "unsupportedAudiences",
        "object",
        "Audiences the vendor says its mail connections do not support; `plan` warns about them.",
        fields=(Key("audiences", "strings", f"Of: {', '.join(SIGN_IN_AUDIENCE)}.", required=True), SOURCE),
    ),
)


@dataclass(frozen=True)
class UseCase:
    key: str
    description: str
    scope_sets: tuple[str, ...]
    scopes: tuple[str, ...]
    legacy: bool
    source: str


@dataclass(frozen=True)
class Callback:
    copy_from: str
    pattern: str | None
    shape: str | None
    source: str

    def derive(self, instance_url: str) -> str | None:
        return self.pattern.replace(INSTANCE, instance_url.rstrip("/")) if self.pattern else None

    def fits(self, uri: str) -> bool:
        return self.shape is None or re.search(self.shape, uri) is not None


@dataclass(frozen=True)
class Product:
    key: str
    name: str
    vendor: str
    guide: str
    use_cases: dict[str, UseCase]
    callback: Callback
    form_title: str
    form: tuple[tuple[str, str], ...]  # (label, value) in the product's order
    form_source: str
    notes: tuple[tuple[str, str], ...]  # (text, source)
    unsupported_audiences: tuple[str, ...] = ()
    unsupported_source: str | None = None


def load_products(
    tree: Tree, sets: Collection[str], scopes: Collection[str]
) -> tuple[dict[str, Product], list[Problem]]:
    """Every profile under products/, checked against the key specs and the catalogue's set and scope names."""
    products: dict[str, Product] = {}
    problems: list[Problem] = []
    for fname in tree.list_dir(PRODUCTS_DIR):
        if not fname.endswith((".yaml", ".yml")):
            continue
        file = f"{PRODUCTS_DIR}/{fname}"
        text = tree.read_text(file) or ""
        found = Problems(file)
        product = _product(found, fname.rsplit(".", 1)[0], yamlio.load(text, file), sets, scopes)
        if product is not None:
            products[product.key] = product
        problems += yamlio.with_lines(found.items, text)
    return products, problems


def _product(found: Problems, key: str, doc: Any, sets: Collection[str], scopes: Collection[str]) -> Product | None:
    v = check_fields(found, (), doc, PRODUCT_KEYS)
    use_cases = {
        str(name): _use_case(found, ("useCases", name), str(name), entry, sets, scopes)
        for name, entry in (v.get("useCases") or {}).items()
    }
    callback, form = v.get("callback") or {}, v.get("form") or {}
    unsupported = v.get("unsupportedAudiences") or {}
    _check_shape(found, callback.get("shape"))
    for i, audience in enumerate(unsupported.get("audiences") or ()):
        if audience not in SIGN_IN_AUDIENCE:
            hint = did_you_mean(audience, SIGN_IN_AUDIENCE) or f"audiences: {', '.join(SIGN_IN_AUDIENCE)}"
            found.error(
                ("unsupportedAudiences", "audiences", i), f"unknown audience {quoted(audience)}", audience, hint
            )
    if found.errors or not use_cases:
        return None
    return Product(
        key,
        v["name"],
        v["vendor"],
        v["guide"],
        use_cases,
        Callback(callback["copyFrom"], callback.get("pattern"), callback.get("shape"), callback["source"]),
        form["title"],
        tuple((f["label"], f["value"]) for f in form["fields"]),
        form["source"],
        tuple((n["text"], n["source"]) for n in v.get("notes") or ()),
        tuple(unsupported.get("audiences") or ()),
        unsupported.get("source"),
    )


def _use_case(
    found: Problems, path: KeyPath, key: str, v: dict[str, Any], sets: Collection[str], scopes: Collection[str]
) -> UseCase:
    """A use case from its checked values (the key-spec checker has read the `useCases` map)."""
    for field, what, known in (("scopeSets", "scope set", sets), ("scopes", "scope", scopes)):
        for i, name in enumerate(v.get(field) or ()):
            if name not in known:
                hint = did_you_mean(name, known) or f"known: {', '.join(sorted(known))}"
                found.error((*path, field, i), f"unknown {what} {quoted(name)}", name, hint=hint)
    if not v.get("scopeSets") and not v.get("scopes"):
        found.error(path, "a use case needs scopeSets or scopes", hint="name what the product requests for it")
    return UseCase(
        key,
        str(v.get("description")),
        tuple(v.get("scopeSets") or ()),
        tuple(v.get("scopes") or ()),
        bool(v.get("legacy")),
        str(v.get("source")),
    )


def _check_shape(found: Problems, shape: str | None) -> None:
    try:
        re.compile(shape or "")
    except re.error as exc:
        found.error(("callback", "shape"), f"not a regular expression: {exc}", shape)


# --- a stack's app: product, useCases and instanceUrl -------------------------------------------


@dataclass(frozen=True)
class Derived:
    """What an app's product and use cases gave, and where each derived key came from."""

    values: dict[str, Any]  # the app's checked values with scopeSets/scopes/redirectUris filled in
    origins: dict[str, str]  # key -> where its value came from (for `plan`)


def derive(
    found: Problems, path: KeyPath, given: Mapping[str, Any], values: dict[str, Any], products: Mapping[str, Product]
) -> Derived:
    """Fill in the keys the app's product derives; keys in the stack file (`given`) win."""
    name = values.get("product")
    if name is None:
        _refuse_without_product(found, path, values)
        return Derived(values, {})
    product = products.get(name)
    if product is None:
        hint = did_you_mean(name, products) or f"products: {', '.join(sorted(products)) or 'none'} (in products/)"
        found.error((*path, "product"), f"unknown product {quoted(name)}", name, hint=hint)
        return Derived(values, {})
    cases = _use_cases(found, path, product, values.get("useCases") or ())
    _check_audience(found, path, product, values.get("audience"))
    names = permission_names(cases, given)
    out = {**values, **names}
    label = f"product {product.key}, use cases {', '.join(c.key for c in cases)}"
    origins = {key: label for key, value in names.items() if value and key not in given}
    if "redirectUris" in given:
        _check_callback_shapes(found, path, product, values.get("redirectUris") or ())
    else:
        out["redirectUris"] = _derived_callback(found, path, product, values.get("instanceUrl"))
        origins["redirectUris"] = f"product {product.key}: {product.callback.pattern} from instanceUrl"
    return Derived(out, origins)


def _check_audience(found: Problems, path: KeyPath, product: Product, audience: str | None) -> None:
    if audience in product.unsupported_audiences:
        found.warn(
            (*path, "audience"),
            f"{product.name}'s guide says its mail connections do not support {audience} apps",
            audience,
            hint=f"use single-tenant or multi-tenant (source: {product.unsupported_source})",
        )


def permission_names(cases: list[UseCase], given: Mapping[str, Any]) -> dict[str, Any]:
    """`scopeSets` and `scopes` as written, or else as the use cases give them (each name once)."""
    return {
        key: given[key] if key in given else list(dict.fromkeys(n for c in cases for n in getattr(c, attr)))
        for key, attr in (("scopeSets", "scope_sets"), ("scopes", "scopes"))
    }


def lenient_permission_names(settings: Mapping[str, Any], products: Mapping[str, Product]) -> dict[str, Any]:
    """`permission_names` for an app as written, unknown products and use cases skipped (diff's shortcut)."""
    product = products.get(str(settings.get("product")))
    known = product.use_cases if product is not None else {}
    return permission_names([known[c] for c in settings.get("useCases") or () if c in known], settings)


def _refuse_without_product(found: Problems, path: KeyPath, values: Mapping[str, Any]) -> None:
    for key in ("useCases", "instanceUrl"):
        if values.get(key):
            found.error((*path, key), f"'{key}' needs 'product:'", hint="name the product whose use cases these are")


def _use_cases(found: Problems, path: KeyPath, product: Product, names: Any) -> list[UseCase]:
    if not names:
        found.error(
            (*path, "useCases"),
            f"name the {product.name} use cases this app serves",
            hint=f"use cases: {', '.join(product.use_cases)}",
        )
    cases = []
    for i, name in enumerate(names):
        case = product.use_cases.get(name)
        if case is None:
            hint = did_you_mean(name, product.use_cases) or f"use cases: {', '.join(product.use_cases)}"
            found.error((*path, "useCases", i), f"{product.name} has no use case {quoted(name)}", name, hint=hint)
        else:
            cases.append(case)
            if case.legacy:
                found.warn(
                    (*path, "useCases", i),
                    f"{name} is {product.name}'s legacy path: {case.description.rstrip('.')}",
                    name,
                    hint="move to a current use case: "
                    + ", ".join(k for k, c in product.use_cases.items() if not c.legacy),
                )
    return cases


def _derived_callback(found: Problems, path: KeyPath, product: Product, instance_url: str | None) -> list[str] | None:
    callback = product.callback
    if callback.pattern is None:
        found.error(
            (*path, "redirectUris"),
            f"{product.name} documents no callback URL pattern: copy it from {callback.copy_from}",
            hint=f"redirectUris: [<that URL>] (source: {callback.source})",
        )
        return None
    if not instance_url:
        found.error(
            (*path, "instanceUrl"),
            f"give the {product.name} instance URL (or redirectUris)",
            hint=f"the callback is {callback.pattern}",
        )
        return None
    return [str(callback.derive(instance_url))]


def _check_callback_shapes(found: Problems, path: KeyPath, product: Product, uris: Any) -> None:
    for i, uri in enumerate(uris):
        if isinstance(uri, str) and not product.callback.fits(uri):
            found.warn(
                (*path, "redirectUris", i),
                f"not shaped like a {product.name} callback URL ({product.callback.shape})",
                uri,
                hint=f"copy it from {product.callback.copy_from}",
            )


def lenient_callbacks(app: Mapping[str, Any], products: Mapping[str, Product]) -> list[str]:
    """The callback URIs an app as written registers, derived ones included; nothing raised for bad input."""
    uris = app.get("redirectUris")
    if isinstance(uris, list):
        return [u for u in uris if isinstance(u, str)]
    product, instance = products.get(str(app.get("product"))), app.get("instanceUrl")
    derived = product.callback.derive(instance) if product is not None and isinstance(instance, str) else None
    return [derived] if derived else []
