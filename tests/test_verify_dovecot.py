"""`mailoauth verify` against a real, standards-following mail server: Dovecot's IMAP and submission.

Dovecot checks each XOAUTH2 token by introspection against the fake Entra (tests/dovecot.py), so the
whole chain runs: the user signs in, `verify` takes the tokens to Dovecot, Dovecot asks the fake
login server whether the token is live and whose it is. Outside CI the tests skip when Dovecot is not
installed; in CI (CI=true) they run, and a missing Dovecot fails them.
"""

from __future__ import annotations

import base64
import os
import smtplib
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from mailoauth.verify.mail import xoauth2
from tests.dovecot import DOVECOT, PROTOCOL, Dovecot, running_dovecot
from tests.fakes.cloud import FakeCloud
from tests.mailfakes import EXCHANGE_PERMISSION
from tests.verify_world import USER, World

if DOVECOT is None and os.environ.get("CI") != "true":
    pytestmark = pytest.mark.skip(
        reason="Dovecot is not installed (apt-get install dovecot-imapd dovecot-submissiond; .ci/run does it)"
    )


@pytest.fixture(scope="module")
def dovecot(fake_cloud_servers: FakeCloud) -> Iterator[Dovecot]:
    with running_dovecot(fake_cloud_servers) as server:
        yield server


@pytest.fixture
def at_dovecot(world: World, dovecot: Dovecot) -> World:
    """The verify world with its IMAP and SMTP hosts pointed at Dovecot instead of the fakes."""
    world.imap, world.smtp = dovecot.imap, dovecot.smtp  # type: ignore[assignment]
    dovecot.relay.messages.clear()
    return world


def test_verify_proves_imap_and_smtp_against_dovecot(at_dovecot: World, dovecot: Dovecot) -> None:
    """The whole registration (IMAP.AccessAsUser.All and SMTP.Send): each protocol's scope check passes."""
    mark = dovecot.mark()
    result = at_dovecot.run("helpdesk", "--send-test-to", "admin@contoso.example")
    assert result.code == 0, result.out + dovecot.log_text()
    assert result.step("IMAP") == {
        "step": "IMAP",
        "status": "pass",
        "detail": f"AUTHENTICATE XOAUTH2 as {USER}; SELECT INBOX: 0 messages",
        "explanation": None,
    }
    assert result.step("SMTP")["detail"] == (
        f"STARTTLS, AUTH XOAUTH2 as {USER}; test message sent to admin@contoso.example"
    )
    [message] = dovecot.relay.messages
    assert b"Subject: mailoauth verify: test message" in message
    log = dovecot.log_text()[mark:]
    logins = [line for line in log.splitlines() if f"Login: user=<{USER}>, method=XOAUTH2" in line]
    assert [line.split()[3] for line in logins] == ["imap-login:", "submission-login:"]
    assert dovecot.refusals(since=mark, count=0) == []


WANTED_SETS = "scopeSets: [imap, smtp, graph-read]"


def registered_with(world: World, scope_sets: str) -> dict[str, Any]:
    """Stack outputs of `helpdesk` registered with `scope_sets` only, while its stack file asks for imap, smtp
    and graph-read: the file gained a protocol (or the portal lost a permission) and `pulumi up` has not run."""
    stack_file = world.project / "stacks" / "Pulumi.verify.yaml"
    wanted = stack_file.read_text()
    assert WANTED_SETS in wanted
    stack_file.write_text(wanted.replace(WANTED_SETS, f"scopeSets: [{scope_sets}]"))
    world.deploy()
    outputs = world.outputs()
    stack_file.write_text(wanted)
    return outputs


# Dovecot's answer to a token without the protocol's permission, and the explanation verify gives.
REFUSED_REPLY = {
    "imap": ("[AUTHENTICATIONFAILED] Authentication failed.", "IMAP-AUTHENTICATIONFAILED"),
    "smtp": ("535 5.7.8 Authentication failed.", "SMTP-535-5.7.8"),
}


@pytest.mark.parametrize(("lacking", "kept"), [("smtp", "imap"), ("imap", "smtp")])
def test_a_registration_lacking_a_protocols_permission_fails_that_protocol_only(
    at_dovecot: World, dovecot: Dovecot, lacking: str, kept: str
) -> None:
    outputs = registered_with(at_dovecot, f"{kept}, graph-read")
    assert outputs["apps"]["helpdesk"]["scopeRequests"]["outlook"] == (
        f"offline_access https://outlook.office.com/{EXCHANGE_PERMISSION[kept]}"
    )
    mark = dovecot.mark()
    result = at_dovecot.run("helpdesk", outputs=outputs)
    assert result.code == 1, result.out + dovecot.log_text()
    status = {lacking: "fail", kept: "pass"}
    assert result.statuses()[-3:] == [("IMAP", status["imap"]), ("SMTP", status["smtp"]), ("Graph", "pass")]
    step, (reply, code) = result.step(lacking.upper()), REFUSED_REPLY[lacking]
    port = dovecot.smtp.port if lacking == "smtp" else dovecot.imap.port
    assert step["detail"] == f"{lacking.upper()} 127.0.0.1:{port}: {reply}"
    assert step["explanation"]["code"] == code
    assert dovecot.refusals(since=mark, count=1) == [
        (PROTOCOL[lacking], f"Introspection failed: Token is not valid for scope '{EXCHANGE_PERMISSION[lacking]}'")
    ]


def test_a_token_for_another_user_is_refused_and_explained(at_dovecot: World, dovecot: Dovecot) -> None:
    result = at_dovecot.run("helpdesk", "--protocol", "imap", "--mailbox", "shared@contoso.example")
    imap = result.step("IMAP")
    assert (result.code, imap["status"]) == (1, "fail"), result.out
    assert imap["detail"] == f"IMAP 127.0.0.1:{dovecot.imap.port}: [AUTHENTICATIONFAILED] Authentication failed."
    assert imap["explanation"]["code"] == "IMAP-AUTHENTICATIONFAILED"
    assert "mailoauth:apps.helpdesk" in imap["explanation"]["fix"]
    smtp = at_dovecot.run("helpdesk", "--protocol", "smtp", "--mailbox", "shared@contoso.example").step("SMTP")
    assert smtp["status"] == "fail" and smtp["detail"].startswith(f"SMTP 127.0.0.1:{dovecot.smtp.port}: 535 5.7.8")
    assert smtp["explanation"]["code"] == "SMTP-535-5.7.8"


def test_dovecot_refuses_the_token_on_the_auth_line(dovecot: Dovecot, fake_cloud: FakeCloud) -> None:
    """Why verify waits for the 334: the inline initial response passes SMTP's 512-octet line limit."""
    inline = base64.b64encode(xoauth2(USER, "eyJ0eXAiOiJKV1QifQ." + "x" * 1500 + ".sig")).decode()
    context = ssl.create_default_context(cafile=fake_cloud.ca_path)
    with smtplib.SMTP("127.0.0.1", dovecot.smtp.port, timeout=10) as client:
        client.starttls(context=context)
        client.ehlo()
        code, reply = client.docmd("AUTH", f"XOAUTH2 {inline}")
    assert (code, reply) == (500, b"5.5.2 Line too long")
