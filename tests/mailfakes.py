"""Local IMAP and SMTP servers that accept SASL XOAUTH2 the way Exchange Online does.

IMAP: a small threaded IMAP4rev1 subset over implicit TLS (CAPABILITY, AUTHENTICATE XOAUTH2,
SELECT/EXAMINE, LOGOUT), answering `NO AUTHENTICATE failed.` for a bad token as Exchange does.
SMTP: aiosmtpd with STARTTLS required and an XOAUTH2 mechanism; it can be told to answer
`535 5.7.139` as a tenant with SMTP AUTH disabled does. Both check the exact XOAUTH2 string.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

SMTP_AUTH_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)

# The delegated permission Exchange Online requires in a token's `scp` claim, per protocol
# (office-developer-exchange-docs, how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth.md).
# The fake servers and the Dovecot of tests/dovecot.py both refuse a token without it.
EXCHANGE_PERMISSION = {"imap": "IMAP.AccessAsUser.All", "smtp": "SMTP.Send"}

SASL_RESPONSE_LIMIT = 12288


def parse_xoauth2(raw: bytes) -> tuple[str, str] | None:
    """(user, token) from a base64 XOAUTH2 response, or None when its layout is wrong."""
    try:
        text = base64.b64decode(raw, validate=True).decode()
    except ValueError:
        return None
    parts = text.split("\x01")
    if (
        len(parts) != 4
        or parts[2:] != ["", ""]
        or not parts[0].startswith("user=")
        or not parts[1].startswith("auth=Bearer ")
    ):
        return None
    return parts[0][len("user=") :], parts[1][len("auth=Bearer ") :]


@dataclass
class Mailboxes:
    """Which (user, token) pairs the servers accept, and what clients tried.

    `tokens` also accepts pairs it approves: `exchange_tokens(...)` checks tokens the fake login issued.
    """

    accepted: set[tuple[str, str]] = field(default_factory=set)
    attempts: list[tuple[str, str] | None] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    tokens: Callable[[str, str], bool] | None = None

    def check(self, raw: bytes) -> bool:
        pair = parse_xoauth2(raw)
        self.attempts.append(pair)
        return pair in self.accepted or (pair is not None and self.tokens is not None and self.tokens(*pair))


OUTLOOK = "https://outlook.office.com"


def exchange_tokens(
    claims_of: Callable[[str], dict[str, Any] | None], permission: str, audience: str = OUTLOOK
) -> Callable[[str, str], bool]:
    """Exchange Online's check of an XOAUTH2 login: a live token for its audience carrying `permission`
    (IMAP.AccessAsUser.All, SMTP.Send), for the same user the login names. `claims_of` is TokenBook.claims."""

    def accepts(user: str, token: str) -> bool:
        claims = claims_of(token) or {}
        return (
            claims.get("aud") == audience
            and permission in str(claims.get("scp", "")).split()
            and str(claims.get("upn", "")).casefold() == user.casefold()
        )

    return accepts


class _ImapHandler(socketserver.StreamRequestHandler):
    server: _ImapServer

    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] fake Exchange IMAP ready")
        authenticated = False
        for raw in self.rfile:
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            command = rest.split(" ")[0].upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2")
                self.send(f"{tag} OK CAPABILITY completed.")
            elif command == "AUTHENTICATE":
                self.send("+ ")
                authenticated = self.server.mailboxes.check(self.rfile.readline().strip())
                self.send(f"{tag} OK AUTHENTICATE completed." if authenticated else f"{tag} NO AUTHENTICATE failed.")
            elif command in ("SELECT", "EXAMINE") and authenticated:
                self.send("* 3 EXISTS")
                self.send(f"{tag} OK [READ-ONLY] {command} completed.")
            elif command == "LOGOUT":
                self.send("* BYE")
                self.send(f"{tag} OK LOGOUT completed.")
                return
            else:
                self.send(f"{tag} BAD Command Error.")


class _ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context: ssl.SSLContext, mailboxes: Mailboxes):
        super().__init__(("127.0.0.1", 0), _ImapHandler)
        self.context, self.mailboxes = context, mailboxes

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), addr


class FakeImap:
    def __init__(self, context: ssl.SSLContext, mailboxes: Mailboxes):
        self.server = _ImapServer(context, mailboxes)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeImap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SmtpHandler:
    def __init__(self, mailboxes: Mailboxes, auth_disabled: bool):
        self.mailboxes, self.auth_disabled = mailboxes, auth_disabled

    async def auth_XOAUTH2(self, server: object, args: list[str]) -> AuthResult:
        if self.auth_disabled:
            return AuthResult(success=False, handled=False, message=SMTP_AUTH_DISABLED)
        if len(args) == 2:  # an initial response: accepted when it fits the command line, as RFC 4954 allows
            raw: bytes | None = args[1].encode()
        else:
            answer = await server.challenge_auth("", encode_to_b64=False)  # type: ignore[attr-defined]
            raw = base64.b64encode(answer) if isinstance(answer, bytes) else None  # aiosmtpd decodes the line
        ok = raw is not None and self.mailboxes.check(raw)
        return AuthResult(success=ok, handled=False, message=None if ok else "535 5.7.3 Authentication unsuccessful")

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.mailboxes.sent.append(envelope.original_content)  # type: ignore[attr-defined]
        return "250 2.0.0 OK queued"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ExchangeSmtp(SMTP):
    """Command lines (AUTH included) keep RFC 5321's 512-octet limit (aiosmtpd's default), so a client that
    sends the token as an initial response gets `500 Command line too long`; a SASL response line after a
    334 challenge may be as long as RFC 4954 section 4 requires servers to accept (12,288 octets)."""

    line_length_limit = SASL_RESPONSE_LIMIT + 2  # the stream reader's buffer: the line and its CRLF


class _ExchangeController(Controller):
    def factory(self) -> SMTP:
        return _ExchangeSmtp(self.handler, **self.SMTP_kwargs)


class FakeSmtp:
    def __init__(self, context: ssl.SSLContext, mailboxes: Mailboxes, auth_disabled: bool = False):
        self.port = free_port()
        self.controller = _ExchangeController(
            _SmtpHandler(mailboxes, auth_disabled),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_require_tls=True,
        )

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
