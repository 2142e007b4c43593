"""The key-spec checker: a mapping of YAML values checked against `model.Key` specs.

Stack files, the policy file and product profiles are all read with `check_fields`, so each file's
JSON Schema (`mailoauth.schema`) and its validation come from the same specs.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from mailoauth.base.problems import KeyPath, Problems, did_you_mean
from mailoauth.desired.model import Key


def check_fields(
    found: Problems, path: KeyPath, mapping: Any, keys: tuple[Key, ...], unknown_ok: Any = None
) -> dict[str, Any]:
    """Type-check a mapping against its Key specs; returns the values that passed, defaults filled in."""
    if not isinstance(mapping, dict):
        found.error(path, "expected a mapping", mapping)
        return {}
    names = [k.name for k in keys]
    for key in mapping:
        if key not in names and not (unknown_ok and unknown_ok(str(key))):
            found.error((*path, key), "unknown key", hint=did_you_mean(str(key), names))
    values: dict[str, Any] = {}
    for spec in keys:
        if spec.name not in mapping:
            if spec.required or (spec.required_unless and spec.required_unless not in mapping):
                found.error((*path, spec.name), "required key is missing", hint=spec.doc)
            values[spec.name] = spec.default
            continue
        ok, value = _check_value(found, (*path, spec.name), mapping[spec.name], spec)
        if ok:
            values[spec.name] = value
    return values


def _check_value(found: Problems, path: KeyPath, value: Any, spec: Key) -> tuple[bool, Any]:
    if spec.kind == "string":
        if not isinstance(value, str) or not value.strip():
            found.error(path, "expected a non-empty string", value)
            return False, None
        if spec.pattern and not re.match(spec.pattern, value):
            message, hint = _pattern_message(spec)
            found.error(path, message, value, hint)
            return False, None
        return True, value
    if spec.kind == "bool":
        if isinstance(value, bool):
            return True, value
        found.error(path, "expected true or false", value)
        return False, None
    if spec.kind == "enum":
        if value in spec.choices:
            return True, value
        found.error(
            path, f"must be one of {', '.join(spec.choices)}", value, hint=did_you_mean(str(value), spec.choices)
        )
        return False, None
    if spec.kind == "date":
        return _check_date(found, path, value)
    if spec.kind == "strings":
        if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
            return True, value
        found.error(path, "expected a list of strings", value)
        return False, None
    if spec.kind == "object":
        return True, check_fields(found, path, value, spec.fields)
    if spec.kind == "objects":
        if not isinstance(value, list) or not value:
            found.error(path, "expected a non-empty list of mappings", value)
            return False, None
        return True, [check_fields(found, (*path, i), item, spec.fields) for i, item in enumerate(value)]
    if spec.kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return True, value
        found.error(path, "expected a whole number of at least 1", value)
        return False, None
    return True, value  # "map" (the apps) is checked key by key in _apps


def _pattern_message(spec: Key) -> tuple[str, str | None]:
    """The message, and as hint the key's own description, which names the expected form."""
    if "{12}" in (spec.pattern or ""):
        return "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", None
    return f"must match {spec.pattern}", spec.doc


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
