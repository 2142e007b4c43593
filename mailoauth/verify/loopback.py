"""The browser half of the authorization-code flow: a one-shot listener on 127.0.0.1, and a look at
the sign-in page before the user is sent there.

Entra ignores the port of a loopback redirect URI (entra-docs reply-url.md, "Localhost exceptions"),
so the listener takes the registered port when it is free and any free port otherwise. The
authorization code in the redirect is never logged: the request log of http.server is silenced.
"""

from __future__ import annotations

import html
import re
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from mailoauth.desired import entra

PAGE_LIMIT = 1 << 20
AADSTS_TEXT = re.compile(r"AADSTS(\d+):\s*([^\"<\r\n]*)")


def loopback_redirect(uris: tuple[str, ...]) -> str | None:
    """The first registered http://localhost or http://127.0.0.1 redirect URI (https needs a certificate)."""
    hosts = entra.limits().loopback_hosts
    return next((u for u in uris if urlsplit(u).scheme == "http" and urlsplit(u).hostname in hosts), None)


@dataclass(frozen=True)
class AuthResponse:
    code: str | None = field(repr=False)
    error: str | None
    description: str


class Listener:
    """Receives one authorization response on 127.0.0.1 at the registered path, checking `state`."""

    def __init__(self, registered: str, state: str):
        parts = urlsplit(registered)
        self.path = parts.path or "/"
        self.state = state
        self.response: AuthResponse | None = None
        self.received = threading.Event()
        handler = type("CallbackHandler", (_Callback,), {"listener": self})
        try:
            self.server = HTTPServer(("127.0.0.1", parts.port or 0), handler)
        except OSError:  # the registered port is taken; Entra ignores loopback ports
            self.server = HTTPServer(("127.0.0.1", 0), handler)
        port = self.server.server_address[1]
        self.redirect_uri = urlunsplit(("http", f"{parts.hostname}:{port}", parts.path, parts.query, ""))
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, timeout: float) -> AuthResponse | None:
        """The response, or None when the browser did not come back in time."""
        return self.response if self.received.wait(timeout) else None

    def accept(self, query: dict[str, str]) -> tuple[int, str]:
        """Record the response if its state is ours; the status and text the browser shows."""
        if query.get("state") != self.state:
            return 400, "This sign-in response is not for the running mailoauth verify (state does not match)."
        self.response = AuthResponse(query.get("code"), query.get("error"), query.get("error_description", ""))
        self.received.set()
        if self.response.error:
            return 200, f"Sign-in failed: {self.response.error}. The terminal explains what it means."
        return 200, "Signed in. You can close this tab and return to the terminal."


class _Callback(BaseHTTPRequestHandler):
    listener: Listener

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if (parts.path or "/") != self.listener.path:
            self._answer(404, "Not the sign-in callback.")
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self._answer(*self.listener.accept(query))

    def _answer(self, status: int, text: str) -> None:
        body = f"<!DOCTYPE html><title>mailoauth verify</title><p>{html.escape(text)}</p>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the request line carries the authorization code."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign_in_page_error(url: str, context: ssl.SSLContext, timeout: float = 30.0) -> str | None:
    """The AADSTS error Entra shows instead of its sign-in page (unknown client, redirect URI mismatch).

    Entra checks the client id and redirect URI before anyone signs in and renders such errors on
    its own page, where the app never sees them; fetching the page first lets `verify` explain them.
    """
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=timeout) as response:
            page = response.read(PAGE_LIMIT)
    except urllib.error.HTTPError as exc:  # error pages, and redirects (not followed)
        page = exc.read(PAGE_LIMIT)
    found = AADSTS_TEXT.search(page.decode("utf-8", errors="replace"))
    if found is None:
        return None
    message = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), found[2])
    return f"AADSTS{found[1]}: {html.unescape(message).strip()}"
