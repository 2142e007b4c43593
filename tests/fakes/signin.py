"""Delegated sign-in on the fake token endpoint, as Entra answers it.

Routes: `GET /{tenant}/oauth2/v2.0/authorize` (authorization-code flow with PKCE) and
`POST /{tenant}/oauth2/v2.0/devicecode`; the token route of `FakeLogin` hands the
`authorization_code`, `device_code` and `refresh_token` grants to `FakeSignIn.token`.

A test plays the user. A browser (tests/fakes/browser.py) presents the session cookie of an
`Account` (`signin.session(account)`); without one the endpoint answers with its sign-in page, as
Entra does for a fresh browser. `device_user` is who enters the device code; the code completes on
the second poll. Consent is read from and written to the tenant's oauth2PermissionGrants, so an app
deployed with `adminConsent: true` needs no prompt and user consent creates a `Principal` grant.

Errors follow Entra: those it cannot send back to the app (unknown client, redirect URI mismatch,
a user from another tenant) are an HTML error page carrying the AADSTS text; a declined consent is
redirected to the app; token errors are the usual JSON. `fail(grant, code, ...)` injects any AADSTS
error into the next request of a grant.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes.login import Client, FakeLogin, aadsts
from tests.fakes.server import Request, Response, Router
from tests.fakes.tenant import EXCHANGE_SCOPES, Deployed, FakeTenant

OIDC = ("openid", "profile", "email", "offline_access")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SESSION_COOKIE = "ESTSAUTH"
LOOPBACK = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class Account:
    """A user who can sign in: their object id, UPN and home tenant."""

    id: str
    upn: str
    tenant_id: str


@dataclass
class Issued:
    """An authorization code or refresh token and what it stands for."""

    client_id: str
    account: Account
    scopes: tuple[str, ...] = ()
    redirect_uri: str = ""
    challenge: str = ""


@dataclass
class DeviceCode:
    client_id: str
    scope: str
    polls: int = 0


@dataclass
class Injected:
    status: int
    error: str
    code: int
    message: str
    times: int = 1


class SignInError(Exception):
    """A sign-in refusal: where Entra shows it (page, redirect or JSON) is up to the caller."""

    def __init__(self, status: int, error: str, code: int, message: str):
        super().__init__(f"AADSTS{code}: {message}")
        self.status, self.error, self.code, self.message = status, error, code, message

    def json(self) -> Response:
        return aadsts(self.status, self.error, self.code, self.message)

    def page(self) -> Response:
        """Entra's error page: the message sits in the page's $Config JSON and in its text."""
        config = json.dumps({"strServiceExceptionMessage": str(self), "iErrorCode": self.code})
        body = (
            "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>"
            f"<script>$Config={config};</script><div>Sorry, but we're having trouble signing you in.</div>"
            f"<div>{html.escape(str(self))}</div></body></html>"
        )
        return Response(self.status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


SIGN_IN_PAGE = Response(
    200,
    b"<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>Sign in</body></html>",
    {"Content-Type": "text/html; charset=utf-8"},
)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def redirect_matches(registered: str, requested: str) -> bool:
    """Entra's rule: exact match, except that the port of a loopback redirect URI is ignored."""
    if registered == requested:
        return True
    a, b = urlsplit(registered), urlsplit(requested)
    return a.hostname in LOOPBACK and (a.scheme, a.hostname, a.path or "/", a.query) == (
        b.scheme,
        b.hostname,
        b.path or "/",
        b.query,
    )


class FakeSignIn:
    """The user-facing half of the fake login: authorize, device code, code and refresh grants."""

    def __init__(self, router: Router, login: FakeLogin, tenant: Callable[[], FakeTenant]):
        self.login = login
        self.tenant = tenant
        router.add("GET", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/authorize", self._authorize)
        router.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/devicecode", self._devicecode)
        login.delegated = self
        self.reset()

    def reset(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.codes: dict[str, Issued] = {}
        self.refresh_tokens: dict[str, Issued] = {}
        self.device_codes: dict[str, DeviceCode] = {}
        self.injected: dict[str, Injected] = {}
        self.device_user: Account | None = None
        self.device_interval = 0
        self.user_consent = True  # the tenant lets users consent to these permissions
        self.declines = False  # the user cancels the consent prompt
        self.issued: list[str] = []  # every code, device code, access token and refresh token handed out

    # -- what tests use ------------------------------------------------------------------------------
    def account(self, user: dict[str, Any], tenant_id: str | None = None) -> Account:
        """An account for a user of the tenant (or, with `tenant_id`, of another tenant)."""
        account = Account(user["id"], user["userPrincipalName"], tenant_id or self.tenant().tenant_id)
        self.accounts[account.id] = account
        return account

    def register(self, deployed: Deployed, secret: str) -> Client:
        """Let a deployed app (FakeTenant.deploy) authenticate with `secret`, as `pulumi up` leaves it."""
        app, sp = deployed.application, deployed.service_principal
        return self.login.add_client(Client(app["appId"], secret, self.tenant().tenant_id, sp["id"]))

    def session(self, account: Account) -> str:
        """The Cookie header of a browser in which `account` has signed in."""
        self.accounts[account.id] = account
        return f"{SESSION_COOKIE}={account.id}"

    def fail(self, grant: str, code: int, error: str = "invalid_grant", message: str = "", status: int = 400) -> None:
        """Answer the next request of `grant` (authorization_code, refresh_token, device_code) with an AADSTS error."""
        self.injected[grant] = Injected(status, error, code, message or f"Injected failure {code}.")

    # -- /authorize ----------------------------------------------------------------------------------
    def _authorize(self, req: Request, m: re.Match[str]) -> Response:
        q = req.query
        try:
            app = self._app(m["tenant"], q.get("client_id", ""))
            redirect_uri = q.get("redirect_uri", "")
            if not any(redirect_matches(r, redirect_uri) for r in app["web"]["redirectUris"]):
                raise SignInError(
                    400,
                    "invalid_request",
                    50011,
                    f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
                    f"configured for the application '{app['appId']}'. Make sure the redirect URI sent in the request "
                    "matches one added to your application in the Azure portal.",
                )
            account = self._session(req)
            if account is None:
                return SIGN_IN_PAGE
            self._check_account(app, account)
            scopes = tuple(q.get("scope", "").split())
            if self.declines and not self._consented(app, account, scopes):
                return self._redirect(
                    redirect_uri,
                    error="access_denied",
                    error_subcode="cancel",
                    error_description="AADSTS65004: User declined to consent to access the app.",
                    state=q.get("state", ""),
                )
            self._consent(app, account, scopes)
        except SignInError as exc:
            return exc.page()
        code = "0.AUTHCODE." + secrets.token_urlsafe(24)
        self.issued.append(code)
        self.codes[code] = Issued(app["appId"], account, scopes, redirect_uri, q.get("code_challenge", ""))
        return self._redirect(redirect_uri, code=code, state=q.get("state", ""))

    def _session(self, req: Request) -> Account | None:
        cookies = dict(part.strip().split("=", 1) for part in req.headers.get("cookie", "").split(";") if "=" in part)
        return self.accounts.get(cookies.get(SESSION_COOKIE, ""))

    @staticmethod
    def _redirect(uri: str, **params: str) -> Response:
        return Response(302, None, {"Location": f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}"})

    # -- /devicecode ---------------------------------------------------------------------------------
    def _devicecode(self, req: Request, m: re.Match[str]) -> Response:
        form = req.form()
        try:
            app = self._app(m["tenant"], form.get("client_id", ""))
        except SignInError as exc:
            return exc.json()
        device_code = secrets.token_urlsafe(32)
        user_code = secrets.token_hex(4).upper()
        self.device_codes[device_code] = DeviceCode(app["appId"], form.get("scope", ""))
        self.issued.append(device_code)
        uri = f"{self.login.base_url}/devicelogin"
        return Response(
            200,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": self.device_interval,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                "to authenticate.",
            },
        )

    # -- token grants (called by FakeLogin._token) ---------------------------------------------------
    def token(self, req: Request, m: re.Match[str], form: dict[str, str]) -> Response:
        grant = form.get("grant_type", "")
        injected = self.injected.pop(grant, None)
        if injected is not None:
            return aadsts(injected.status, injected.error, injected.code, injected.message)
        handlers = {
            "authorization_code": self._redeem_code,
            "refresh_token": self._redeem_refresh_token,
            DEVICE_GRANT: self._redeem_device_code,
        }
        if grant not in handlers:
            return aadsts(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
            )
        try:
            app = self._app(m["tenant"], form.get("client_id", ""))
            self._authenticate_client(app, form)
            return handlers[grant](app, form)
        except SignInError as exc:
            return exc.json()

    def _redeem_code(self, app: dict[str, Any], form: dict[str, str]) -> Response:
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or issued.client_id != app["appId"]:
            raise SignInError(
                400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed or is not valid."
            )
        if form.get("redirect_uri") != issued.redirect_uri:
            raise SignInError(
                400, "invalid_grant", 70000, "The redirect_uri does not match the one of the authorization request."
            )
        if issued.challenge and s256(form.get("code_verifier", "")) != issued.challenge:
            raise SignInError(
                400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied."
            )
        return self._tokens(app, issued.account, form.get("scope", ""))

    def _redeem_refresh_token(self, app: dict[str, Any], form: dict[str, str]) -> Response:
        issued = self.refresh_tokens.get(form.get("refresh_token", ""))
        if issued is None or issued.client_id != app["appId"]:
            raise SignInError(400, "invalid_grant", 9002313, "Invalid request. The refresh token is malformed.")
        return self._tokens(app, issued.account, form.get("scope", ""))

    def _redeem_device_code(self, app: dict[str, Any], form: dict[str, str]) -> Response:
        pending = self.device_codes.get(form.get("device_code", ""))
        if pending is None:
            raise SignInError(400, "expired_token", 70019, "Verification code expired.")
        pending.polls += 1
        if pending.polls < 2 or self.device_user is None:
            raise SignInError(
                400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending."
            )
        account, scopes = self.device_user, tuple(pending.scope.split())
        self._check_account(app, account)
        if self.declines and not self._consented(app, account, scopes):
            del self.device_codes[form["device_code"]]
            raise SignInError(400, "authorization_declined", 65004, "User declined to consent to access the app.")
        self._consent(app, account, scopes)
        del self.device_codes[form["device_code"]]
        return self._tokens(app, account, pending.scope)

    # -- checks shared by the flows ------------------------------------------------------------------
    def _app(self, tenant_segment: str, client_id: str) -> dict[str, Any]:
        """The registration a request names, refused as Entra refuses it (unknown tenant or client, /common)."""
        tenant = self.tenant()
        if tenant_segment not in (*self.login.tenants, "common", "organizations", "consumers"):
            raise SignInError(400, "invalid_tenant", 90002, f"Tenant '{tenant_segment}' not found.")
        app = next((a for a in tenant.applications if a["appId"] == client_id), None)
        if app is None or tenant_segment not in (tenant.tenant_id, "common", "organizations"):
            raise SignInError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant_segment}'. "
                "This can happen if the application has not been installed by the administrator of the tenant or "
                "consented to by any user in the tenant. You may have sent your authentication request to the "
                "wrong tenant.",
            )
        if tenant_segment != tenant.tenant_id and app["signInAudience"] == "AzureADMyOrg":
            raise SignInError(
                400,
                "invalid_request",
                50194,
                f"Application '{client_id}'({app['displayName']}) is not configured as a multi-tenant application. "
                "Usage of the /common endpoint is not supported for such applications.",
            )
        return app

    def _authenticate_client(self, app: dict[str, Any], form: dict[str, str]) -> None:
        client = self.login.clients.get(app["appId"])
        secret = form.get("client_secret")
        if secret is None:
            if not app.get("isFallbackPublicClient"):
                raise SignInError(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                )
        elif client is None or secret != client.secret:
            raise SignInError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{app['appId']}'.",
            )

    def _check_account(self, app: dict[str, Any], account: Account) -> None:
        tenant = self.tenant().tenant_id
        if account.tenant_id != tenant and app["signInAudience"] == "AzureADMyOrg":
            raise SignInError(
                400,
                "invalid_grant",
                50020,
                f"User account '{account.upn}' from identity provider 'https://sts.windows.net/{account.tenant_id}/' "
                f"does not exist in tenant '{tenant}' and cannot access the application '{app['appId']}'"
                f"({app['displayName']}) in that tenant. The account needs to be added as an external user in the "
                "tenant first.",
            )

    def _granted(self, app: dict[str, Any], account: Account) -> set[str]:
        tenant = self.tenant()
        sp = next((s for s in tenant.service_principals if s["appId"] == app["appId"]), None)
        if sp is None:
            return set()
        return {
            scope
            for g in tenant.grants
            if g["clientId"] == sp["id"] and (g["consentType"] == "AllPrincipals" or g["principalId"] == account.id)
            for scope in g["scope"].split()
        }

    def _consented(self, app: dict[str, Any], account: Account, scopes: tuple[str, ...]) -> bool:
        return set(permission_names(scopes)) <= self._granted(app, account)

    def _consent(self, app: dict[str, Any], account: Account, scopes: tuple[str, ...]) -> None:
        """The consent prompt: the user accepts, unless the tenant only lets administrators consent."""
        missing = sorted(set(permission_names(scopes)) - self._granted(app, account))
        if not missing:
            return
        if not self.user_consent:
            raise SignInError(
                400,
                "invalid_request",
                90094,
                "Administrator consent is required. The app needs access to resources in your organization that "
                "only an admin can grant.",
            )
        tenant = self.tenant()
        sp = next(s for s in tenant.service_principals if s["appId"] == app["appId"])
        for resource in (tenant.graph_sp, tenant.exchange_sp):
            names = [n for n in missing if (n in EXCHANGE_SCOPES) == (resource is tenant.exchange_sp)]
            if names:
                tenant.add_grant(sp, resource, names, principal_id=account.id)

    def _tokens(self, app: dict[str, Any], account: Account, scope: str) -> Response:
        """Tokens for one resource; the scopes must have been consented to (else AADSTS65001)."""
        scopes = tuple(scope.split())
        resources = {s.rsplit("/", 1)[0] for s in scopes if s not in OIDC}
        if len(resources) != 1:
            raise SignInError(
                400,
                "invalid_scope",
                700022 if resources else 70011,
                "The provided value for the input parameter scope is not valid because it contains more than one "
                "resource."
                if resources
                else "The provided value for the input parameter 'scope' is not valid.",
            )
        if not self._consented(app, account, scopes):
            raise SignInError(
                400,
                "invalid_grant",
                65001,
                f"The user or administrator has not consented to use the application with ID '{app['appId']}' named "
                f"'{app['displayName']}'. Send an interactive authorization request for this user and resource.",
            )
        now = int(time.time())
        tenant = self.tenant().tenant_id
        access = self.login.book.issue(
            {
                "aud": resources.pop(),
                "iss": f"https://sts.windows.net/{tenant}/",
                "iat": now,
                "exp": now + 3600,
                "tid": tenant,
                "oid": account.id,
                "upn": account.upn,
                "unique_name": account.upn,
                "appid": app["appId"],
                "scp": " ".join(permission_names(scopes)),
                "idtyp": "user",
                "uti": uuid.uuid4().hex,
            }
        )
        self.issued.append(access)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(s for s in scopes if s not in OIDC),
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": access,
        }
        if "offline_access" in scopes:
            refresh = "1.AREFRESH." + secrets.token_urlsafe(48)
            self.refresh_tokens[refresh] = Issued(app["appId"], account)
            self.issued.append(refresh)
            body["refresh_token"] = refresh
        return Response(200, body)


def permission_names(scopes: tuple[str, ...]) -> list[str]:
    """`https://outlook.office.com/IMAP.AccessAsUser.All` -> `IMAP.AccessAsUser.All`; OIDC scopes dropped."""
    return [s.rsplit("/", 1)[-1] for s in scopes if s not in OIDC]
