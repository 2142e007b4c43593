"""The app's client id and secret for `verify`: from the stack outputs (piped or a file) or the environment.

Never from the command line, where they would land in shell history and process listings. Problems
name the outputs document, the key path and the fix; they never show a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mailoauth.base.problems import CommandError, InvalidInput, Problem, did_you_mean
from mailoauth.desired.model import App

ENV_CLIENT_ID, ENV_SECRET = "MAILOAUTH_CLIENT_ID", "MAILOAUTH_CLIENT_SECRET"
HIDDEN = "[secret]"  # what `pulumi stack output --json` prints without --show-secrets
PIPE_HINT = "pipe `pulumi stack output --show-secrets --json` into --outputs -"


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    secret: str = field(repr=False)
    source: str
    deployed: dict[str, Any] | None = None  # apps.<key> of the stack outputs, when they were given


def read_outputs(path: str, stdin: TextIO) -> tuple[str, Any]:
    """(label, document) of `--outputs FILE` or `--outputs -` (stdin)."""
    label = "stack outputs on stdin" if path == "-" else path
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([Problem(label, (), f"cannot read the outputs: {exc.strerror}", hint=PIPE_HINT)]) from None
    try:
        return label, json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput([Problem(label, (), f"not JSON ({exc.msg}, line {exc.lineno})", hint=PIPE_HINT)]) from None


def from_outputs(doc: Any, label: str, app: App, slot: str | None = None) -> AppCredentials:
    """Client id from apps.<key>.clientId; secret from clientSecrets.<key> or clientSecretSlots.<key>.<slot>."""
    key = app.key
    apps = doc.get("apps") if isinstance(doc, dict) else None
    if not isinstance(apps, dict) or not isinstance(apps.get(key), dict):
        known = sorted(apps) if isinstance(apps, dict) else []
        hint = did_you_mean(key, known) or f"apps in these outputs: {', '.join(known) or 'none'}; {PIPE_HINT}"
        raise InvalidInput([Problem(label, ("apps", key), f"no outputs for app '{key}'", hint=hint)])
    deployed = apps[key]
    client_id = deployed.get("clientId")
    if not isinstance(client_id, str) or not client_id:
        raise InvalidInput(
            [Problem(label, ("apps", key, "clientId"), "missing", hint="run `pulumi up` for this stack")]
        )
    path: tuple[str, ...] = ("clientSecretSlots", key, slot) if slot else ("clientSecrets", key)
    secret = _dig(doc, path)
    if secret == HIDDEN:
        raise InvalidInput(
            [Problem(label, path, "the secret is hidden", hint="add --show-secrets to pulumi stack output")]
        )
    if not isinstance(secret, str) or not secret:
        hint = _slot_hint(doc, key) if slot else PIPE_HINT
        raise InvalidInput([Problem(label, path, "no client secret here", hint=hint)])
    return AppCredentials(client_id, secret, label, deployed)


def slot_in_use(doc: Any, key: str) -> str | None:
    """The slot whose value is clientSecrets.<key>, the value the downstream app was handed (compared in
    memory, never shown); None when the outputs do not say."""
    current = _dig(doc, ("clientSecrets", key))
    slots = _dig(doc, ("clientSecretSlots", key))
    if not isinstance(current, str) or current in ("", HIDDEN) or not isinstance(slots, dict):
        return None
    return next((name for name, value in slots.items() if value == current), None)


def _dig(doc: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _slot_hint(doc: Any, key: str) -> str:
    slots = _dig(doc, ("clientSecretSlots", key))
    names = sorted(slots) if isinstance(slots, dict) else []
    return f"slots of this app: {', '.join(names) or 'none'}"


def from_environment(env: Mapping[str, str], app: App) -> AppCredentials:
    """MAILOAUTH_CLIENT_SECRET, with MAILOAUTH_CLIENT_ID or the stack file's `clientId` (adopted apps)."""
    client_id = env.get(ENV_CLIENT_ID) or app.client_id
    secret = env.get(ENV_SECRET)
    if not client_id or not secret:
        missing = " and ".join(n for n, v in ((ENV_CLIENT_ID, client_id), (ENV_SECRET, secret)) if not v)
        raise CommandError(
            f"no credentials for app {app.key}: {PIPE_HINT}, give --outputs FILE, or set {missing} "
            "(the client secret is never taken from the command line)"
        )
    return AppCredentials(
        client_id, secret, f"environment ({ENV_CLIENT_ID if env.get(ENV_CLIENT_ID) else 'clientId'}, {ENV_SECRET})"
    )
