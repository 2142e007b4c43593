"""Key specs: the shape of every YAML file the project reads, checked by one function, described by one generator.

A `Key` gives a key's name, kind, meaning, whether it is required and its default. `check_fields` reads a
mapping against specs and records what is wrong in `Problems` (the loaders of stack files, the scope
catalogue, scope sets and the policy file all call it); `object_schema` writes the same specs as the JSON
Schemas in schema/. Each kind's check and its schema sit next to each other below, so they cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mailoauth.base.problems import KeyPath, Problems, did_you_mean

# A date, or the midnight timestamp some YAML/JSON round trips turn it into (what the date check accepts).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(T00:00(:00(\.0+)?)?(Z|[+-]00:00)?)?$"


@dataclass(frozen=True)
class Key:
    """One key of a YAML file: its type, whether it is required, and what it means."""

    name: str
    kind: str  # string | bool | int (>= 1) | date | enum | strings | object | objects | map (names -> objects)
    doc: str
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    fields: tuple[Key, ...] = ()
    pattern: str | None = None
    required_unless: str | None = None  # required when this other key is absent


def check_fields(
    found: Problems,
    path: KeyPath,
    mapping: Any,
    keys: tuple[Key, ...],
    unknown_ok: Callable[[str], bool] | None = None,
    own: Collection[str] = (),
) -> dict[str, Any]:
    """Type-check a mapping against its Key specs; returns the values that passed, defaults filled in.

    Keys named in `own` are checked by the caller (their value is returned as written).
    """
    if not isinstance(mapping, dict):
        found.error(path, "expected a mapping", mapping)
        return {}
    names, defaults, checks = _layout(keys)
    for key in mapping:
        if key not in names and not (unknown_ok and unknown_ok(str(key))):
            found.error((*path, key), "unknown key", hint=did_you_mean(key, names))
    values = dict(defaults)  # in spec order; what the mapping gives replaces the default, what fails is dropped
    for spec, plain in checks:
        name = spec.name
        if name not in mapping:
            if spec.required or (spec.required_unless and spec.required_unless not in mapping):
                found.error((*path, name), "required key is missing", hint=spec.doc)
            continue
        value = mapping[name]
        if name in own or (plain is not None and plain(value)):
            values[name] = value
            continue
        ok, checked = _check_value(found, (*path, name), value, spec)
        if ok:
            values[name] = checked
        else:
            del values[name]
    return values


Layout = tuple[dict[str, None], dict[str, Any], tuple[tuple[Key, Callable[[Any], bool] | None], ...]]
_LAYOUTS: dict[int, tuple[tuple[Key, ...], Layout]] = {}


def _layout(keys: tuple[Key, ...]) -> Layout:
    """A spec tuple's key names, defaults and each key's quick acceptance test, worked out once per tuple
    (held with it, so its id stays its own)."""
    held = _LAYOUTS.get(id(keys))
    if held is None or held[0] is not keys:
        layout = (
            dict.fromkeys(k.name for k in keys),
            {k.name: k.default for k in keys},
            tuple((k, _plain(k)) for k in keys),
        )
        held = _LAYOUTS[id(keys)] = (keys, layout)
    return held[1]


def _plain(spec: Key) -> Callable[[Any], bool] | None:
    """A test that a value of this scalar key is fine as written (True only where `_check_value` accepts it
    unchanged); anything it does not pass goes through `_check_value`, which reports it. None: no shortcut."""
    if spec.kind == "string":
        pattern = re.compile(spec.pattern) if spec.pattern else None
        return lambda v: isinstance(v, str) and bool(v.strip()) and (pattern is None or bool(pattern.fullmatch(v)))
    if spec.kind in _SCALARS:
        return lambda v: _SCALARS[spec.kind](v, spec)[0]
    return None  # dates and nested keys are rebuilt by their checks


def _check_value(found: Problems, path: KeyPath, value: Any, spec: Key) -> tuple[bool, Any]:
    if spec.kind in ("object", "objects", "map"):
        return _check_nested(found, path, value, spec)
    if spec.kind == "date":
        return _check_date(found, path, value)
    ok, message = _SCALARS[spec.kind](value, spec)
    if not ok:
        found.error(path, message, value, hint=_hint(value, spec, message))
        return False, None
    return True, value


def _hint(value: Any, spec: Key, message: str) -> str | None:
    """A close choice for an enum; for a pattern other than a GUID, the key's own description (it names the form)."""
    if spec.kind == "enum":
        return did_you_mean(value, spec.choices)
    if spec.pattern and message.startswith("must match"):
        return spec.doc
    return None


def _string(value: Any, spec: Key) -> tuple[bool, str]:
    if not isinstance(value, str) or not value.strip():
        return False, "expected a non-empty string"
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return False, pattern_message(spec.pattern)
    return True, ""


_SCALARS: dict[str, Callable[[Any, Key], tuple[bool, str]]] = {
    "string": _string,
    "bool": lambda v, _: (isinstance(v, bool), "expected true or false"),
    "int": lambda v, _: (
        isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "expected a whole number of at least 1",
    ),
    "enum": lambda v, spec: (True, "") if v in spec.choices else (False, f"must be one of {', '.join(spec.choices)}"),
    "strings": lambda v, _: (
        isinstance(v, list) and all(isinstance(s, str) and s for s in v),
        "expected a list of strings",
    ),
}


def _check_nested(found: Problems, path: KeyPath, value: Any, spec: Key) -> tuple[bool, Any]:
    if spec.kind == "object":
        return True, check_fields(found, path, value, spec.fields)
    if spec.kind == "objects":
        if not isinstance(value, list) or not value:
            found.error(path, "expected a non-empty list of mappings", value)
            return False, None
        return True, [check_fields(found, (*path, i), item, spec.fields) for i, item in enumerate(value)]
    if not isinstance(value, dict) or not value:
        found.error(path, "expected a non-empty mapping", value)
        return False, None
    entries = {}
    for name, entry in value.items():
        if spec.pattern and not re.fullmatch(spec.pattern, str(name)):
            found.error((*path, name), pattern_message(spec.pattern), name)
            continue
        entries[name] = check_fields(found, (*path, name), entry, spec.fields)
    return True, entries


def pattern_message(pattern: str) -> str:
    return "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" if "{12}" in pattern else f"must match {pattern}"


def _check_date(found: Problems, path: KeyPath, value: Any) -> tuple[bool, Any]:
    if isinstance(value, datetime):  # YAML reads 2027-03-01T00:00:00Z as a timestamp
        value = value.isoformat()
    if isinstance(value, date):
        return True, value
    if isinstance(value, str):
        try:  # a plain date, or the midnight timestamp some YAML/JSON round trips turn it into
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else None
            if parsed is None or parsed.time() == datetime.min.time():
                return True, parsed.date() if parsed else date.fromisoformat(value)
        except ValueError:
            pass
    found.error(path, "expected a date as YYYY-MM-DD", value)
    return False, None


def key_schema(key: Key) -> dict[str, Any]:
    """One key's JSON Schema: the shape `check_fields` accepts for its kind."""
    out: dict[str, Any] = {"description": key.doc}
    if key.kind == "string":
        out.update(type="string", pattern=key.pattern or r"\S")
    elif key.kind == "bool":
        out.update(type="boolean")
    elif key.kind == "int":
        out.update(type="integer", minimum=1)
    elif key.kind == "date":
        out.update(type="string", pattern=DATE_PATTERN)
    elif key.kind == "enum":
        out.update(enum=list(key.choices))
    elif key.kind == "strings":
        out.update(type="array", items={"type": "string", "minLength": 1})
    elif key.kind == "object":
        out.update(object_schema(key.fields))
    elif key.kind == "objects":
        out.update(type="array", minItems=1, items=object_schema(key.fields))
    elif key.kind == "map":
        out.update(type="object", minProperties=1, additionalProperties=object_schema(key.fields))
        if key.pattern:
            out["propertyNames"] = {"pattern": key.pattern}
    else:
        raise ValueError(f"no schema for key kind {key.kind!r}")
    if key.default is not None:
        out["default"] = key.default
    return out


def object_schema(keys: tuple[Key, ...]) -> dict[str, Any]:
    """The JSON Schema of a mapping with these keys and no others."""
    out: dict[str, Any] = {
        "type": "object",
        "properties": {k.name: key_schema(k) for k in keys},
        "additionalProperties": False,
    }
    required = [k.name for k in keys if k.required]
    if required:
        out["required"] = required
    either = [[{"required": [k.name]}, {"required": [k.required_unless]}] for k in keys if k.required_unless]
    if either:
        out["allOf"] = [{"anyOf": pair} for pair in either]
    return out
