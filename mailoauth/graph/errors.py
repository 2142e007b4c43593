"""One-line errors for everything that can go wrong talking to Entra ID and Microsoft Graph.

Users see what failed, Entra's or Graph's own code (AADSTS..., Authorization_RequestDenied) and
what to do. A refused request names the Graph permission that request needs, looked up from the
method and path. Every message passes through `redact` so that no secret or token is printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from mailoauth.base.problems import CommandError
from mailoauth.desired import entra

SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD")
JWT = re.compile(r"\beyJ[\w-]{6,}\.[\w-]+\.[\w-]*")
AADSTS = re.compile(r"(AADSTS\d+):?\s*(.*?)(?:\s*(?:Trace ID|Correlation ID|Timestamp):|[\r\n]|$)", re.S)


class GraphError(CommandError):
    """A failed sign-in or Graph request, as one redacted line."""

    def __init__(
        self, message: str, status: int | None = None, code: str | None = None, needs: str | None = None
    ) -> None:
        super().__init__(redact(one_line(message)))
        self.status = status
        self.code = code
        self.needs = needs  # the Graph permission a refused (403) request needed, when known


def permission_for(method: str, path: str) -> str | None:
    """The Graph permission a request needs (None when unknown): GET reads, anything else writes (entra.yaml)."""
    table = entra.graph_permissions("read" if method.upper() == "GET" else "write")
    return next((p.permission for p in table if p.path.search(path)), None)


def refused(method: str, path: str, status: int, code: str, message: str, principal_kind: str | None) -> GraphError:
    """A Graph error response as a sentence; 403s say which permission to grant and how."""
    text = f"Microsoft Graph refused {method} {path}: {status} {code}" + (f" ({message})" if message else "")
    needs = permission_for(method, path) if status == 403 else None
    if status == 403:
        if needs:
            text += f"; the signed-in identity lacks the Microsoft Graph permission {needs}"
        text += "; " + grant_hint(needs, principal_kind)
    elif status == 401:
        text += "; the token was not accepted: check that --graph-url and azuread:environment match the sign-in cloud"
    elif status == 404:
        text += "; the object does not exist (or has not replicated yet)"
    return GraphError(text, status, code, needs)


def grant_hint(needs: str | None, principal_kind: str | None) -> str:
    perm = needs or "the permission"
    if principal_kind == "user":
        return f"consent to {perm} as a delegated permission, or sign in as a user whose directory role allows it"
    return f"add {perm} as an application permission (Microsoft Graph) to the signing-in app and grant admin consent"


def sign_in_failed(credential: str, text: str) -> GraphError:
    """An Entra token error: the AADSTS code and message when there is one, else the first line."""
    found = AADSTS.search(text)
    detail = f"{found[1]}: {found[2].strip()}" if found else first_line(text)
    return GraphError(f"sign-in failed ({credential}): {detail}")


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def one_line(text: str) -> str:
    return " ".join(text.split())


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Blank out secret values from the environment and anything shaped like a JWT."""
    values = [os.environ.get(name, "") for name in SECRET_VARIABLES] + list(secrets or ())
    for value in values:
        if len(value) >= 4:
            text = text.replace(value, "[redacted]")
    return JWT.sub("[redacted token]", text)
