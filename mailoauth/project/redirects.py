"""The core checks of an app's redirect URIs: what Entra and the azuread provider refuse, and what reads as one
place but sends the authorization code to another.

They are errors whatever policy/rules.yaml says; https-only and no-wildcards are guardrails with rule ids
(`rules.RULES`), and an internationalised host is only a warning.
"""

from __future__ import annotations

from typing import Any

from mailoauth.base.problems import KeyPath, Problems
from mailoauth.desired import entra
from mailoauth.guardrails import rules

REDIRECT_FORBIDDEN = set("!$'(),;")
# Web redirect URI schemes terraform-provider-azuread v3.9.0 accepts (docs/sources.md, uri.go:39-57)
PROVIDER_REDIRECT_SCHEMES = ("http", "https", "ms-appx-web", "brk-multihub")


def check_redirect_uris(found: Problems, path: KeyPath, uris: list[str] | None, personal: bool) -> None:
    """`redirectUris` of the app at `path`: how many, each URI's problems, duplicates; `personal` for the limits of
    apps that allow personal accounts."""
    if uris is None:
        return
    limits = entra.limits()
    limit = limits.of(limits.redirect_uris, personal)
    if not uris:
        found.error(
            (*path, "redirectUris"), "at least one redirect URI is needed (the instance's OAuth callback)", uris
        )
    if len(uris) > limit:
        found.error((*path, "redirectUris"), f"{len(uris)} redirect URIs; Entra allows {limit}", len(uris))
    seen: set[str] = set()
    for i, uri in enumerate(uris):
        for message, hint in redirect_uri_problems(uri, personal):
            found.error((*path, "redirectUris", i), message, uri, hint)
        if ascii_host := rules.idn_host(uri):
            found.warn(
                (*path, "redirectUris", i),
                f"the host of {uri!r} is internationalised; browsers and Entra use {ascii_host}: make sure it is "
                "the host you mean (look-alike letters from other scripts read as a different host)",
            )
        if uri in seen:
            found.error((*path, "redirectUris", i), "duplicate redirect URI", uri)
        seen.add(uri)


def redirect_uri_problems(uri: str, personal: bool) -> list[tuple[str, str | None]]:
    """Entra's redirect URI limits (entra-docs reply-url.md) and the azuread provider's, as (message, hint) pairs.

    https-only and no-wildcards are guardrails with rule ids (`rules.RULES`), not repeated here.
    """
    out: list[tuple[str, str | None]] = []
    parts = rules.split_uri(uri)
    longest = entra.limits().redirect_uri_length
    if len(uri) > longest:
        out.append((f"redirect URI is {len(uri)} characters; Entra allows {longest}", None))
    if parts is None or not parts.netloc:
        out.append(("redirect URI must be an absolute URL with a host", None))
    elif parts.scheme not in PROVIDER_REDIRECT_SCHEMES:
        out.append((f"the azuread provider accepts only {', '.join(PROVIDER_REDIRECT_SCHEMES)} URLs here", None))
    elif not parts.path:
        out.append(("the azuread provider refuses a redirect URL without a path", f"write {uri}/"))
    out += _deceptive_uri_problems(uri, parts)
    bad = sorted(REDIRECT_FORBIDDEN & set(uri))
    if bad:
        out.append((f"redirect URI contains characters Entra rejects: {' '.join(bad)}", None))
    if personal and parts is not None and parts.query:
        out.append(("query parameters are not allowed in redirect URIs of apps that allow personal accounts", None))
    return out


def _deceptive_uri_problems(uri: str, parts: Any) -> list[tuple[str, str | None]]:
    """What makes a redirect URI read as one place and send the code to another."""
    out: list[tuple[str, str | None]] = []
    # urlsplit drops tabs and newlines silently. The only whitespace character that is printable is the
    # space (checked over every code point), so this is "any character is whitespace or not printable".
    if " " in uri or not uri.isprintable():
        out.append(("redirect URI contains whitespace or control characters", "remove them"))
    if "#" in uri:
        out.append(("redirect URI has a fragment ('#...'); RFC 6749 section 3.1.2 forbids it", "remove the '#' part"))
    if parts is not None and "@" in parts.netloc:
        out.append(
            (
                f"redirect URI has user info before '@': codes would go to {parts.hostname}, not to what precedes '@'",
                "write only the host",
            )
        )
    if parts is not None and ":" in parts.netloc:  # without ':' there is no port to check
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            out.append(("redirect URI has a port outside 1-65535", "fix or remove the port"))
    return out
