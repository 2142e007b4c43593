"""Prove IMAP and SMTP with an OAuth access token (SASL XOAUTH2), as the downstream app will.

The token is handed to the server and nowhere else: it is not logged, and a server reply that
echoes it is redacted before it becomes part of a result.
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from mailoauth.base.style import count

TIMEOUT = 20.0
TEST_SUBJECT = "mailoauth verify: test message"
TEST_BODY = "Sent by `mailoauth verify --send-test-to` to prove that sending with OAuth works.\n"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str


def xoauth2(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (Microsoft's IMAP/POP/SMTP OAuth page gives its layout)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def responder(user: str, token: str) -> Callable[[bytes | None], str]:
    """SASL XOAUTH2 without an initial response: the token goes after the server's first challenge.

    RFC 4954 section 4 forbids an SMTP initial response that would push the AUTH line past the
    512-octet command limit (RFC 5321 section 4.5.3.1.4), and an access token is longer than that.
    A second challenge is the server's error report (a JSON document); the empty answer to it ends
    the exchange, and the server then sends its failure reply (535, or NO in IMAP).
    """
    answered = False

    def respond(_challenge: bytes | None = None, /) -> str:
        nonlocal answered
        if answered:
            return ""
        answered = True
        return xoauth2(user, token).decode()

    return respond


def _redact(text: str, token: str) -> str:
    return text.replace(token, "[token]") if token else text


def _reply(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {message}"
    return str(exc)


def check_imap(host: str, port: int, user: str, token: str, context: ssl.SSLContext) -> Outcome:
    """AUTHENTICATE XOAUTH2 over implicit TLS, then SELECT INBOX read-only."""
    try:
        with imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT) as imap:
            respond = responder(user, token)
            imap.authenticate("XOAUTH2", lambda challenge: respond(challenge).encode())
            status, data = imap.select("INBOX", readonly=True)
            if status != "OK":
                return Outcome(False, f"SELECT INBOX: {status} {data!r}")
            exists = data[0].decode() if data and data[0] else ""
            messages = count(int(exists), "message") if exists.isdigit() else "? messages"
            return Outcome(True, f"AUTHENTICATE XOAUTH2 as {user}; SELECT INBOX: {messages}")
    except (imaplib.IMAP4.error, OSError) as exc:
        return Outcome(False, _redact(f"IMAP {host}:{port}: {_reply(exc)}", token))


def check_smtp(
    host: str, port: int, user: str, token: str, context: ssl.SSLContext, send_to: str | None = None
) -> Outcome:
    """STARTTLS, `AUTH XOAUTH2`, the token after the 334 challenge, and a test message only when `send_to` is given."""
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:
            smtp.starttls(context=context)
            smtp.ehlo()
            # typeshed describes the callable as an overloaded protocol, which a plain function cannot declare
            smtp.auth("XOAUTH2", responder(user, token), initial_response_ok=False)  # type: ignore[arg-type]
            if send_to is None:
                return Outcome(True, f"STARTTLS, AUTH XOAUTH2 as {user}; no message sent")
            smtp.send_message(_test_message(user, send_to))
            return Outcome(True, f"STARTTLS, AUTH XOAUTH2 as {user}; test message sent to {send_to}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, _redact(f"SMTP {host}:{port}: {_reply(exc)}", token))


def _test_message(sender: str, recipient: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, TEST_SUBJECT
    message.set_content(TEST_BODY)
    return message
