"""A real Dovecot (IMAP and submission) on 127.0.0.1, checking XOAUTH2 tokens of the fake Entra.

Dovecot's oauth2 passdb validates each token by RFC 7662 introspection against the fake login
server (tests/fakes/login.py): the token must be live, of the stack's tenant, for the user the
client names and, as Exchange Online demands, carry the protocol's permission in its `scope`
(IMAP.AccessAsUser.All for IMAP, SMTP.Send for submission). Each protocol has its own passdb, inside
a `protocol` block, whose oauth2 settings differ only in `scope` (Dovecot 2.3 reads per-protocol
auth settings: dovecot/core src/auth/auth.c, auths_preinit; the `scope` check: src/auth/db-oauth2.c,
db_oauth2_token_in_scope). Submission relays to an aiosmtpd sink. Everything lives in one temporary
folder; the server is started in the foreground and stopped when the block ends.

Debian packages: dovecot-imapd, dovecot-submissiond (installed by .ci/run).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.fakes.cloud import TENANT_ID, FakeCloud
from tests.mailfakes import EXCHANGE_PERMISSION, free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
START_TIMEOUT = 15.0

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap submission
listen = 127.0.0.1
hostname = localhost
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = xoauth2 oauthbearer
auth_verbose = yes
# The tests refuse tokens on purpose: answer at once, without the growing penalty per client IP.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
{passdbs}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service submission-login {{
  chroot =
  inet_listener submission {{
    port = {submission}
  }}
}}
submission_relay_host = 127.0.0.1
submission_relay_port = {relay}
submission_relay_trusted = yes
"""

# One passdb per protocol, and none outside them: a passdb outside is tried after the protocol's own.
PASSDB = """\
protocol {protocol} {{
  passdb {{
    driver = oauth2
    mechanisms = xoauth2 oauthbearer
    args = {root}/oauth2-{protocol}.conf
  }}
}}
"""

# Dovecot's protocol name for each of verify's mail protocols.
PROTOCOL = {"imap": "imap", "smtp": "submission"}

OAUTH2 = """\
introspection_mode = post
introspection_url = {authority}/{tenant}/oauth2/introspect
force_introspection = yes
username_attribute = upn
active_attribute = active
active_value = true
tls_ca_cert_file = {root}/ca.pem
scope = {scope}
"""

# auth_verbose lines: `auth: Info: oauth2(user,ip,<session>): oauth2 failed: <reason>`, and the login
# service's own line for the same session (`submission-login: Info: Disconnected: ... session=<session>`).
REFUSED = re.compile(r" auth: Info: oauth2\(.*,<([^>]+)>\): oauth2 failed: (.*)")
LOGIN_LINE = re.compile(r" ([a-z]+)-login: Info: .*session=<([^>]+)>")


@dataclass(frozen=True)
class Endpoint:
    port: int


class Relay:
    """The aiosmtpd sink Dovecot's submission service relays to: what reached it."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@dataclass(frozen=True)
class Dovecot:
    imap: Endpoint  # implicit TLS
    smtp: Endpoint  # submission with STARTTLS
    log: Path
    relay: Relay

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def mark(self) -> int:
        """Where the log ends now: `refusals(since=...)` reads what comes after."""
        return len(self.log_text())

    def refusals(self, since: int, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        """(login service, reason) of each token the oauth2 passdb refused after `since`, as auth_verbose logs them,
        matched to the login service by session id. Dovecot's log process may write a line after the client has
        its answer, so this waits (up to `timeout`) for `count` refusals and their login services' lines."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log_text()[since:]
            reasons = REFUSED.findall(log)
            services = {session: service for service, session in LOGIN_LINE.findall(log)}
            if (len(reasons) >= count and all(s in services for s, _ in reasons)) or time.monotonic() > deadline:
                return [(services.get(session, "?"), reason) for session, reason in reasons]
            time.sleep(0.05)


def _accounts() -> dict[str, object]:
    """Root runs Dovecot's own unprivileged users and keeps mail as nobody; anyone else runs it all as itself."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return {
            "internal": "dovecot",
            "internal_group": "dovecot",
            "login": "dovenull",
            "uid": nobody.pw_uid,
            "gid": nobody.pw_gid,
        }
    me = pwd.getpwuid(os.geteuid())
    return {
        "internal": me.pw_name,
        "internal_group": me.pw_name,
        "login": me.pw_name,
        "uid": me.pw_uid,
        "gid": me.pw_gid,
    }


def _write_files(root: Path, cloud: FakeCloud, relay: int) -> tuple[int, int]:
    accounts = _accounts()
    imaps, submission = free_port(), free_port()
    cloud.tls.cert.private_key_pem.write_to_path(str(root / "key.pem"))
    cloud.tls.cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    shutil.copy(cloud.ca_path, root / "ca.pem")
    (root / "home").mkdir()
    os.chown(root / "home", int(accounts["uid"]), int(accounts["gid"]))  # type: ignore[call-overload]
    passdbs = "".join(PASSDB.format(protocol=protocol, root=root) for protocol in PROTOCOL.values())
    config = CONFIG.format(root=root, imaps=imaps, submission=submission, relay=relay, passdbs=passdbs, **accounts)
    (root / "dovecot.conf").write_text(config)
    for ours, protocol in PROTOCOL.items():
        oauth2 = OAUTH2.format(authority=cloud.authority, tenant=TENANT_ID, root=root, scope=EXCHANGE_PERMISSION[ours])
        (root / f"oauth2-{protocol}.conf").write_text(oauth2)
    for name in ("key.pem", "cert.pem", "ca.pem", "dovecot.conf", *(f"oauth2-{p}.conf" for p in PROTOCOL.values())):
        (root / name).chmod(0o644 if name != "key.pem" else 0o600)
    return imaps, submission


def _wait_for(ports: tuple[int, ...], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(ports)
    while waiting:
        if process.poll() is not None or time.monotonic() > deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"dovecot did not start (exit {process.poll()}):\n{text}")
        try:
            socket.create_connection(("127.0.0.1", waiting[0]), timeout=0.5).close()
            waiting.pop(0)
        except OSError:
            time.sleep(0.1)


@contextmanager
def running_dovecot(cloud: FakeCloud) -> Iterator[Dovecot]:
    """Dovecot for the duration of the block; its log is kept in the returned object until then."""
    if DOVECOT is None:
        raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd dovecot-submissiond)")
    root = Path(tempfile.mkdtemp(prefix="mailoauth-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes read the configuration and certificates here
    relay = Relay()
    sink = Controller(relay, hostname="127.0.0.1", port=free_port())
    sink.start()
    process = None
    try:
        imaps, submission = _write_files(root, cloud, sink.port)
        process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        _wait_for((imaps, submission), process, root / "dovecot.log")
        yield Dovecot(Endpoint(imaps), Endpoint(submission), root / "dovecot.log", relay)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        sink.stop()
        shutil.rmtree(root, ignore_errors=True)
