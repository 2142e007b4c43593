"""The OAuth 2.0 requests `verify` sends to Entra: authorize URL, code, refresh-token and device-code grants.

Plain HTTPS (urllib) rather than msal: msal refuses `offline_access` in a scope list and adds
`openid profile` to every request, so it cannot send the exact scope strings the stack outputs,
and sending exactly those strings is what this command proves. Every token is handed to the
`Redactor` the moment it arrives.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from mailoauth.graph.auth import token_claims
from mailoauth.graph.errors import first_line
from mailoauth.verify.redact import Redactor

TIMEOUT = 30.0
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class OAuthError(Exception):
    """An error answer of Entra (or none at all), as `error: AADSTSnnnn: message`."""

    def __init__(self, error: str, description: str = "", correlation_id: str | None = None):
        self.error = error
        self.description = first_line(description) if description else ""
        self.correlation_id = correlation_id
        super().__init__(f"{error}: {self.description}" if self.description else error)


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    scope: str  # as granted
    expires_in: int

    @property
    def user(self) -> str | None:
        """The signed-in user's name from the access token, when the token is readable."""
        claims = token_claims(self.access_token)
        return claims.get("upn") or claims.get("preferred_username") or claims.get("unique_name")


@dataclass(frozen=True)
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    message: str
    interval: int
    expires_in: int


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636), fresh per sign-in."""

    verifier: str = field(repr=False)

    @classmethod
    def new(cls) -> Pkce:
        return cls(secrets.token_urlsafe(64))

    @property
    def challenge(self) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).decode().rstrip("=")


def sign_in_url(endpoint: str, client_id: str, redirect_uri: str, scope: str, state: str, pkce: Pkce) -> str:
    """The browser's sign-in URL. `prompt=select_account` lets whoever runs verify pick the mailbox user's
    account; no login_hint, since --mailbox may name a shared mailbox nobody signs in as."""
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "response_mode": "query",
        "scope": scope,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "prompt": "select_account",
    }
    return f"{endpoint}?{urlencode(params)}"


def post_form(url: str, form: dict[str, str], context: ssl.SSLContext) -> dict[str, Any]:
    """POST a form to an Entra endpoint; an error answer becomes an OAuthError carrying its AADSTS text."""
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=TIMEOUT) as response:
            return _json(response.read(), url)
    except urllib.error.HTTPError as exc:
        body = _json(exc.read(), url, strict=False)
        raise OAuthError(
            str(body.get("error") or f"HTTP {exc.code}"),
            str(body.get("error_description") or ""),
            body.get("correlation_id"),
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OAuthError("unreachable", f"cannot reach {urlsplit(url).netloc}: {reason}") from None


def _json(raw: bytes, url: str, strict: bool = True) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    if strict:
        raise OAuthError("malformed answer", f"{urlsplit(url).netloc} did not answer with a JSON object")
    return {}


@dataclass
class TokenClient:
    """Token requests for one app; `secret=None` for the public-client (device-code) grants."""

    token_url: str
    client_id: str
    secret: str | None = field(repr=False)
    context: ssl.SSLContext
    redact: Redactor

    def request(self, form: dict[str, str], *, confidential: bool = True) -> Tokens:
        body = {"client_id": self.client_id, **form}
        if confidential and self.secret is not None:
            body["client_secret"] = self.secret
        answer = post_form(self.token_url, body, self.context)
        tokens = Tokens(
            str(answer.get("access_token") or ""),
            answer.get("refresh_token"),
            str(answer.get("scope") or ""),
            int(answer.get("expires_in") or 0),
        )
        self.redact.add(tokens.access_token, tokens.refresh_token)
        if not tokens.access_token:
            raise OAuthError("malformed answer", "the token endpoint sent no access_token")
        return tokens

    def client_credentials(self, scope: str) -> Tokens:
        return self.request({"grant_type": "client_credentials", "scope": scope})

    def redeem_code(self, code: str, redirect_uri: str, pkce: Pkce, scope: str) -> Tokens:
        return self.request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pkce.verifier,
                "scope": scope,
            }
        )

    def refresh(self, refresh_token: str, scope: str, *, confidential: bool) -> Tokens:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "scope": scope}
        return self.request(form, confidential=confidential)

    def start_device_code(self, device_url: str, scope: str) -> DeviceCode:
        answer = post_form(device_url, {"client_id": self.client_id, "scope": scope}, self.context)
        device = DeviceCode(
            str(answer.get("device_code") or ""),
            str(answer.get("user_code") or ""),
            str(answer.get("verification_uri") or ""),
            str(answer.get("message") or ""),
            int(answer.get("interval", 5)),
            int(answer.get("expires_in") or 900),
        )
        self.redact.add(device.device_code)
        return device

    def poll_device_code(
        self, device: DeviceCode, timeout: float, sleep: Callable[[float], None] = time.sleep
    ) -> Tokens:
        """Poll until the user has signed in (RFC 8628: wait `interval`, slow down when told)."""
        deadline = time.monotonic() + min(timeout, device.expires_in)
        interval = device.interval
        while True:
            sleep(interval)
            try:
                return self.request({"grant_type": DEVICE_GRANT, "device_code": device.device_code}, confidential=False)
            except OAuthError as exc:
                if exc.error == "slow_down":
                    interval += 5
                elif exc.error != "authorization_pending":
                    raise
            if time.monotonic() >= deadline:
                raise OAuthError("expired_token", f"nobody entered the code {device.user_code} within {timeout:g} s")
