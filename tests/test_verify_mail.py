"""IMAP and SMTP XOAUTH2 probes against local servers that check the exact SASL string."""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Iterator

import pytest
import trustme

from mailoauth.verify.explain import explain
from mailoauth.verify.mail import check_imap, check_smtp, xoauth2
from tests.mailfakes import FakeImap, FakeSmtp, Mailboxes

USER, TOKEN = "support@example.com", "eyJ0eXAiOiJKV1QiLCJub25jZSI6ImZha2UifQ.payload.signature"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def mailboxes() -> Mailboxes:
    return Mailboxes(accepted={(USER, TOKEN)})


@pytest.fixture
def imap(server_context: ssl.SSLContext, mailboxes: Mailboxes) -> Iterator[FakeImap]:
    with FakeImap(server_context, mailboxes) as server:
        yield server


def test_xoauth2_layout() -> None:
    assert xoauth2("a@b.c", "T") == b"user=a@b.c\x01auth=Bearer T\x01\x01"


def test_imap_authenticate_and_select(imap: FakeImap, mailboxes: Mailboxes, client_context: ssl.SSLContext) -> None:
    outcome = check_imap("127.0.0.1", imap.port, USER, TOKEN, client_context)
    assert outcome.ok, outcome.detail
    assert outcome.detail == f"AUTHENTICATE XOAUTH2 as {USER}; SELECT INBOX: 3 messages"
    assert mailboxes.attempts == [(USER, TOKEN)]


def test_imap_rejected_token_is_explained_without_the_token(imap: FakeImap, client_context: ssl.SSLContext) -> None:
    outcome = check_imap("127.0.0.1", imap.port, USER, "wrong-token", client_context)
    assert not outcome.ok
    assert "AUTHENTICATE failed" in outcome.detail
    assert "wrong-token" not in outcome.detail
    assert explain(outcome.detail).code == "IMAP-AUTHENTICATE-FAILED"


def test_smtp_auth_without_sending(server_context, client_context, mailboxes: Mailboxes) -> None:
    with FakeSmtp(server_context, mailboxes) as smtp:
        outcome = check_smtp("127.0.0.1", smtp.port, USER, TOKEN, client_context)
    assert outcome == type(outcome)(True, f"STARTTLS, AUTH XOAUTH2 as {USER}; no message sent")
    assert mailboxes.attempts == [(USER, TOKEN)] and mailboxes.sent == []


def test_smtp_sends_a_test_message_only_when_asked(server_context, client_context, mailboxes: Mailboxes) -> None:
    with FakeSmtp(server_context, mailboxes) as smtp:
        outcome = check_smtp("127.0.0.1", smtp.port, USER, TOKEN, client_context, send_to="admin@example.com")
    assert outcome.ok, outcome.detail
    assert len(mailboxes.sent) == 1 and b"Subject: mailoauth verify: test message" in mailboxes.sent[0]


def test_smtp_auth_disabled_is_explained(server_context, client_context, mailboxes: Mailboxes) -> None:
    with FakeSmtp(server_context, mailboxes, auth_disabled=True) as smtp:
        outcome = check_smtp("127.0.0.1", smtp.port, USER, TOKEN, client_context)
    assert not outcome.ok
    assert "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled" in outcome.detail
    explanation = explain(outcome.detail)
    assert explanation.code == "SMTP-535-5.7.139"
    assert "Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false" in explanation.fix


def test_smtp_bad_token(server_context, client_context, mailboxes: Mailboxes) -> None:
    with FakeSmtp(server_context, mailboxes) as smtp:
        outcome = check_smtp("127.0.0.1", smtp.port, USER, "stale", client_context)
    assert not outcome.ok and "535 5.7.3" in outcome.detail and "stale" not in outcome.detail
    assert explain(outcome.detail).code == "SMTP-535-5.7.3"


ERRORS = "MicrosoftDocs/entra-docs, docs/identity-platform/reference-error-codes.md"
REPLY_URL = "MicrosoftDocs/entra-docs, docs/identity-platform/reply-url.md"


@pytest.mark.parametrize(
    ("reply", "code", "reference"),
    [
        ("AADSTS65001: The user or administrator has not consented to use the application", "AADSTS65001", ERRORS),
        (
            "invalid_request: AADSTS50020: User account from identity provider does not exist in tenant",
            "AADSTS50020",
            ERRORS,
        ),
        ("unauthorized_client: AADSTS700016: Application with identifier 'x' was not found", "AADSTS700016", ERRORS),
        ("invalid_client: AADSTS7000215: Invalid client secret provided.", "AADSTS7000215", ERRORS),
        (
            "invalid_request: AADSTS50011: The redirect URI specified in the request does not match",
            "AADSTS50011",
            REPLY_URL,
        ),
        ("invalid_client: AADSTS7000222: The provided client secret keys are expired.", "AADSTS7000222", ERRORS),
    ],
)
def test_aadsts_codes_are_explained(reply: str, code: str, reference: str) -> None:
    explanation = explain(reply)
    assert explanation is not None and explanation.code == code
    assert explanation.reference == reference


def test_unknown_reply_has_no_explanation() -> None:
    assert explain("something else entirely") is None


LONG_TOKEN = "eyJ0eXAiOiJKV1QifQ." + "x" * 1800 + ".sig"  # Entra access tokens are well over 1,000 octets


def test_smtp_sends_a_long_token_after_the_334_challenge(server_context, client_context) -> None:
    """RFC 4954 section 4: no initial response that would pass the 512-octet command line limit."""
    boxes = Mailboxes(accepted={(USER, LONG_TOKEN)})
    with FakeSmtp(server_context, boxes) as smtp:
        outcome = check_smtp("127.0.0.1", smtp.port, USER, LONG_TOKEN, client_context)
    assert outcome.ok, outcome.detail
    assert boxes.attempts == [(USER, LONG_TOKEN)]


def test_smtp_fake_refuses_a_token_on_the_auth_line(server_context, client_context) -> None:
    """The fake keeps the command line limit: the old inline exchange gets 500, not the credentials' answer."""
    boxes = Mailboxes(accepted={(USER, LONG_TOKEN)})
    inline = base64.b64encode(xoauth2(USER, LONG_TOKEN)).decode()
    with FakeSmtp(server_context, boxes) as smtp, smtplib.SMTP("127.0.0.1", smtp.port, timeout=5) as client:
        client.starttls(context=client_context)
        client.ehlo()
        code, reply = client.docmd("AUTH", f"XOAUTH2 {inline}")
    assert (code, reply) == (500, b"Command line too long")
    assert boxes.attempts == []
    assert explain(f"SMTP 127.0.0.1:{smtp.port}: 500 Command line too long").code == "SMTP-500-LINE-TOO-LONG"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("IMAP 127.0.0.1:993: [AUTHENTICATIONFAILED] Authentication failed.", "IMAP-AUTHENTICATIONFAILED"),
        ("SMTP 127.0.0.1:587: 535 5.7.8 Authentication failed", "SMTP-535-5.7.8"),
        ("SMTP 127.0.0.1:587: 500 5.5.2 Line too long", "SMTP-500-LINE-TOO-LONG"),
    ],
)
def test_generic_server_replies_are_explained(reply: str, code: str) -> None:
    explanation = explain(reply, {"key": "jira-mail-in", "file": "stacks/Pulumi.dev.yaml", "mailbox": USER})
    assert explanation is not None and explanation.code == code
    assert "<key>" not in explanation.fix and "<file>" not in explanation.fix
