"""`mailoauth verify` end to end: app credentials, a user's sign-in, one token per audience, then each protocol.

Steps run in order and later steps are skipped when what they need is missing, so the first failure
is the one explained. Tokens and the client secret pass through a `Redactor` before any text is
recorded; the refresh token stays in memory and is dropped at the end unless --keep-token asks to
write it (mode 0600).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import ssl
import stat
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mailoauth.desired.endpoints import REQUEST_GROUPS, authority_segment
from mailoauth.desired.model import App, Stack
from mailoauth.graph.errors import first_line
from mailoauth.graph.target import Target
from mailoauth.verify import graphcheck
from mailoauth.verify.credentials import AppCredentials
from mailoauth.verify.explain import explain
from mailoauth.verify.loopback import Listener, loopback_redirect, sign_in_page_error
from mailoauth.verify.mail import Outcome, check_imap, check_smtp
from mailoauth.verify.oauth import OAuthError, Pkce, TokenClient, Tokens, sign_in_url
from mailoauth.verify.redact import Redactor
from mailoauth.verify.report import FAIL, PASS, SKIP, ReportStep, VerifyReport

PROTOCOLS = ("imap", "smtp", "graph")
AUDIENCE = {"imap": "outlook", "smtp": "outlook", "graph": "graph"}
STEP_NAMES = {"imap": "IMAP", "smtp": "SMTP", "graph": "Graph"}
FLOWS = ("auto", "browser", "device-code")


@dataclass(frozen=True)
class Endpoints:
    authority: str  # login host URL without a tenant segment
    graph: Target
    imap: tuple[str, int] | None
    smtp: tuple[str, int] | None

    def oauth(self, segment: str, name: str) -> str:
        return f"{self.authority}/{segment}/oauth2/v2.0/{name}"


@dataclass(frozen=True)
class Options:
    protocols: tuple[str, ...]
    mailbox: str | None = None
    send_to: str | None = None
    keep_token: Path | None = None
    flow: str = "auto"
    timeout: float = 300.0
    open_browser: Callable[[str], object] | None = None
    say: Callable[[str], None] = print


@dataclass(frozen=True)
class Job:
    stack: Stack
    app: App
    credentials: AppCredentials
    scope_requests: dict[str, str]
    endpoints: Endpoints
    options: Options


def audiences(job: Job) -> list[str]:
    """Token audiences the chosen protocols need, in the order a mail client meets them."""
    wanted = {AUDIENCE[p] for p in job.options.protocols}
    return [a for a in REQUEST_GROUPS if a in wanted and a in job.scope_requests]


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()


class Verification:
    def __init__(self, job: Job):
        self.job, self.opts, self.app, self.stack = job, job.options, job.app, job.stack
        self.redact = Redactor()
        self.redact.add(job.credentials.secret)
        self.context = ssl_context(job.endpoints.graph.ca_bundle)
        self.segment = authority_segment(self.app.audience, self.stack.tenant_id)
        self.client = TokenClient(
            job.endpoints.oauth(self.segment, "token"),
            job.credentials.client_id,
            job.credentials.secret,
            self.context,
            self.redact,
        )
        self.audiences = audiences(job)
        self.tokens: dict[str, Tokens] = {}
        self.refresh_token: str | None = None
        self.public = False  # device-code tokens belong to a public client: refreshed without the secret
        self.report = VerifyReport(
            self.stack.name,
            self.app.key,
            job.credentials.client_id,
            self.stack.tenant_id,
            self.stack.cloud.name,
            job.credentials.source,
            mailbox=self.opts.mailbox,
        )

    # -- recording -----------------------------------------------------------------------------------
    def step(self, name: str, ok: bool, detail: str) -> bool:
        detail = self.redact(detail)
        context = {"key": self.app.key, "stack": self.stack.name, "file": self.stack.file, "mailbox": self.mailbox}
        self.report.add(ReportStep(name, PASS if ok else FAIL, detail, None if ok else explain(detail, context)))
        return ok

    def outcome(self, name: str, outcome: Outcome) -> bool:
        return self.step(name, outcome.ok, outcome.detail)

    def skip(self, name: str, why: str) -> None:
        self.report.add(ReportStep(name, SKIP, why))

    @property
    def signed_in(self) -> str | None:
        """The signed-in user's name, from the first readable token."""
        return next((t.user for t in self.tokens.values() if t.user), None)

    @property
    def mailbox(self) -> str | None:
        """--mailbox, else the app's first listed mailbox, else the signed-in user."""
        first = self.app.mailboxes[0] if self.app.mailboxes else None
        return self.opts.mailbox or first or self.signed_in

    # -- the steps -----------------------------------------------------------------------------------
    def run(self) -> VerifyReport:
        if self.app_credentials() and self.sign_in():
            self.other_audiences()
        self.report.mailbox = self.mailbox
        self.protocol_steps()
        self.finish()
        return self.report

    def app_credentials(self) -> bool:
        """The client credentials grant proves client id, tenant and secret before any user is involved."""
        tenant = self.stack.tenant_id
        checker = TokenClient(
            self.job.endpoints.oauth(tenant, "token"),
            self.client.client_id,
            self.client.secret,
            self.context,
            self.redact,
        )
        try:
            checker.client_credentials(f"{self.stack.cloud.token_audiences['graph']}/.default")
        except OAuthError as exc:
            return self.step("app credentials", False, str(exc))
        return self.step("app credentials", True, f"client id and secret accepted by tenant {tenant}")

    def sign_in(self) -> bool:
        redirect = loopback_redirect(self.app.redirect_uris)
        flow = self.opts.flow if self.opts.flow != "auto" else ("browser" if redirect else "device-code")
        self.report.flow = flow
        where = f"`mailoauth:apps.{self.app.key}` in {self.stack.file}"
        if flow == "browser" and redirect is None:
            return self.step(
                "user sign-in",
                False,
                f"the app lists no http://127.0.0.1 or http://localhost redirect URI for the browser flow; add one "
                f"(such as http://127.0.0.1/mailoauth-verify) to `redirectUris` under {where} and run `pulumi up`, "
                "or use the device-code flow",
            )
        if flow == "browser":
            return self.browser_sign_in(str(redirect))
        if not self.app.allow_public_client_flows:
            return self.step(
                "user sign-in",
                False,
                "the device-code flow needs public client flows, which this app does not allow; set "
                f"`allowPublicClientFlows: true` under {where} and run `pulumi up`, or add a http://127.0.0.1/... "
                "redirect URI for the browser flow",
            )
        return self.device_sign_in()

    def browser_sign_in(self, redirect: str) -> bool:
        first = self.audiences[0]
        scope, state, pkce = self.job.scope_requests[first], secrets.token_urlsafe(24), Pkce.new()
        endpoint = self.job.endpoints.oauth(self.segment, "authorize")
        with Listener(redirect, state) as listener:
            url = sign_in_url(endpoint, self.client.client_id, listener.redirect_uri, scope, state, pkce)
            if not self.sign_in_page(url, endpoint, listener.redirect_uri):
                return False
            self.opts.say(f"Sign in as the mailbox user in the browser. If none opens, open this URL:\n\n  {url}\n")
            if self.opts.open_browser is not None:
                self.opts.open_browser(url)
            response = listener.wait(self.opts.timeout)
        if response is None:
            return self.step(
                "user sign-in",
                False,
                f"browser: no answer at {listener.redirect_uri} within {self.opts.timeout:g} s; if the browser "
                f"shows an AADSTS code, `mailoauth explain AADSTS... --stack {self.stack.name} --app {self.app.key}` "
                "says what it means",
            )
        if response.error or not response.code:
            return self.step("user sign-in", False, f"browser: {response.error}: {first_line(response.description)}")
        self.redact.add(response.code)
        self.step("user sign-in", True, f"browser: authorization code received at {listener.redirect_uri}")
        code = response.code
        return self.token_step(first, lambda: self.client.redeem_code(code, listener.redirect_uri, pkce, scope))

    def sign_in_page(self, url: str, endpoint: str, redirect_uri: str) -> bool:
        try:
            problem = sign_in_page_error(url, self.context)
        except (urllib.error.URLError, OSError) as exc:
            return self.step("sign-in page", False, f"cannot reach {endpoint}: {getattr(exc, 'reason', exc)}")
        if problem:
            return self.step("sign-in page", False, problem)
        return self.step("sign-in page", True, f"{endpoint} accepts the client id and redirect URI {redirect_uri}")

    def device_sign_in(self) -> bool:
        first = self.audiences[0]
        scope = self.job.scope_requests[first]
        try:
            device = self.client.start_device_code(self.job.endpoints.oauth(self.segment, "devicecode"), scope)
            self.opts.say(device.message or f"Open {device.verification_uri} and enter the code {device.user_code}.")
            tokens = self.client.poll_device_code(device, self.opts.timeout)
        except OAuthError as exc:
            return self.step("user sign-in", False, f"device code: {exc}")
        self.public = True
        self.step("user sign-in", True, f"device code: signed in at {device.verification_uri}")
        return self.token_step(first, lambda: tokens)

    def token_step(self, audience: str, get: Callable[[], Tokens]) -> bool:
        name = f"{audience} token"
        try:
            tokens = get()
        except OAuthError as exc:
            return self.step(name, False, str(exc))
        self.tokens[audience] = tokens
        self.refresh_token = tokens.refresh_token or self.refresh_token
        refresh = "" if tokens.refresh_token else "; no refresh token (offline_access was not granted)"
        return self.step(name, True, f"{tokens.scope} for {tokens.user or 'the signed-in user'}{refresh}")

    def other_audiences(self) -> None:
        for audience in self.audiences[1:]:
            scope, refresh_token = self.job.scope_requests[audience], self.refresh_token
            if refresh_token is None:
                self.step(
                    f"{audience} token", False, "no refresh token to redeem: the scope request lacks offline_access"
                )
                continue
            self.token_step(
                audience,
                lambda s=scope, r=refresh_token: self.client.refresh(r, s, confidential=not self.public),  # type: ignore[misc]
            )

    def protocol_steps(self) -> None:
        for protocol in self.opts.protocols:
            token = self.tokens.get(AUDIENCE[protocol])
            if token is None:
                self.skip(STEP_NAMES[protocol], f"no {AUDIENCE[protocol]} token")
            elif protocol == "graph":
                self.graph_steps(token)
            else:
                self.mail_step(protocol, token)

    def mail_step(self, protocol: str, token: Tokens) -> None:
        name, mailbox = STEP_NAMES[protocol], self.mailbox
        if mailbox is None:
            self.step(name, False, "cannot tell the signed-in user's address from the token; pass --mailbox")
            return
        endpoint = self.job.endpoints.imap if protocol == "imap" else self.job.endpoints.smtp
        if endpoint is None:
            self.skip(name, f"cloud {self.stack.cloud.name} has no {name} endpoint")
            return
        host, port = endpoint
        if protocol == "imap":
            self.outcome(name, check_imap(host, port, mailbox, token.access_token, self.context))
        else:
            self.outcome(name, check_smtp(host, port, mailbox, token.access_token, self.context, self.opts.send_to))

    def graph_steps(self, token: Tokens) -> None:
        graph = [p for p in self.app.permissions if p.protocol == "graph"]
        reads = any(p.access in ("read", "write") for p in graph)
        sends = any(p.access == "send" for p in graph)
        target = self.job.endpoints.graph
        if reads:
            self.outcome("Graph", graphcheck.read_inbox(target, token, self.stack))
        if sends and self.opts.send_to:
            self.outcome("Graph send", graphcheck.send_test_message(target, token, self.stack, self.opts.send_to))
        if not reads and not (sends and self.opts.send_to):
            self.skip("Graph", "the app only sends through Graph (Mail.Send); --send-test-to ADDR sends a test message")

    def finish(self) -> None:
        """Write the refresh token when asked (0600), then forget every token."""
        path, refresh_token = self.opts.keep_token, self.refresh_token
        if path is not None and refresh_token:
            try:
                write_token_file(path, self.token_document(refresh_token))
            except OSError as exc:
                self.step("keep token", False, f"cannot write {path}: {exc.strerror}")
            else:
                self.report.refresh_token = f"written to {path} (mode 0600)"
        elif refresh_token:
            self.report.refresh_token = "discarded (--keep-token FILE keeps it)"
        self.refresh_token = None
        self.tokens.clear()

    def token_document(self, refresh_token: str) -> dict[str, object]:
        return {
            "clientId": self.client.client_id,
            "tenantId": self.stack.tenant_id,
            "tokenEndpoint": self.client.token_url,
            "user": self.signed_in,
            "publicClient": self.public,
            "scopeRequests": self.job.scope_requests,
            "refreshToken": refresh_token,
        }


def write_token_file(path: Path, document: dict[str, object]) -> None:
    """Create or replace `path` readable by its owner only. The file is opened without truncating it and
    checked first: another user's file, or one that is not a regular file, is left as it was (OSError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise PermissionError(errno.EPERM, "it belongs to another user; choose a file of your own")
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # before the token is written
        os.ftruncate(fd, 0)
        json.dump(document, out, indent=2)
        out.write("\n")


def verify(job: Job) -> VerifyReport:
    return Verification(job).run()
