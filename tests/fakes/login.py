"""A fake Microsoft Entra token endpoint (v2.0) for azure-identity's ClientSecretCredential.

Serves tenant discovery and the client-credentials grant; issues opaque JWT-shaped access tokens
whose claims (tid, oid, appid, roles or scp) the fake Graph checks. Errors look like Entra's:
`{"error": ..., "error_description": "AADSTS...: ...", "error_codes": [...]}`. User sign-in (authorize,
device code, code and refresh grants) lives in tests/fakes/signin.py.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import Request, Response, Router


@dataclass
class Client:
    """A confidential client the endpoint knows: its secret, tenant and what its tokens carry."""

    client_id: str
    secret: str
    tenant_id: str
    object_id: str
    roles: list[str] = field(default_factory=list)
    # Set to act as a signed-in user (delegated token with `scp`): the user's object id.
    user_id: str | None = None
    scopes: list[str] = field(default_factory=list)


@dataclass
class Token:
    value: str
    claims: dict[str, Any]


class TokenBook:
    """Tokens issued by the login fake, looked up by the Graph fake."""

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.lock = threading.Lock()

    def issue(self, claims: dict[str, Any]) -> str:
        def part(obj: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

        value = f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}.{uuid.uuid4().hex}"
        with self.lock:
            self.tokens[value] = Token(value, claims)
        return value

    def claims(self, value: str) -> dict[str, Any] | None:
        with self.lock:
            token = self.tokens.get(value)
        if token is None or token.claims["exp"] < time.time():
            return None
        return token.claims


def aadsts(status: int, error: str, code: int, message: str) -> Response:
    """An Entra error response; the description carries trace lines as the real one does."""
    trace, corr = uuid.uuid4(), uuid.uuid4()
    description = (
        f"AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: 2026-01-01 00:00:00Z"
    )
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": "2026-01-01 00:00:00Z",
        "trace_id": str(trace),
        "correlation_id": str(corr),
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Response(status, body)


class FakeLogin:
    """Routes of the token endpoint: discovery and `POST /{tenant}/oauth2/v2.0/token`."""

    def __init__(self, router: Router, book: TokenBook, tenants: list[str]):
        self.router = router
        self.book = book
        self.tenants = tenants
        self.clients: dict[str, Client] = {}
        self.managed_identity: Client | None = None  # what IMDS hands out; None: no identity on this "VM"
        self.base_url = ""  # set once the server listens
        # Handles the user grants (authorization_code, device_code, refresh_token): tests.fakes.signin.FakeSignIn.
        self.delegated: Any = None
        router.add("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", self._discovery)
        router.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self._token)
        router.add("GET", r"/metadata/identity/oauth2/token", self._imds)
        router.add("POST", r"/(?P<tenant>[^/]+)/oauth2/introspect", self._introspect)

    def fail(self, status: int, error: str, code: int, message: str, times: int = 1) -> None:
        """Answer the next token request(s) with an Entra error, e.g. (400, "invalid_grant", 53003, "...")."""
        self.router.fail(
            r"^POST /[^/]+/oauth2/v2\.0/token$", status, aadsts(status, error, code, message).body, times=times
        )

    def add_client(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def _discovery(self, req: Request, m: re.Match[str]) -> Response:
        tenant = m["tenant"]
        if tenant not in self.tenants:
            return aadsts(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have "
                "the correct tenant ID and are signing into the correct cloud.",
            )
        base = f"{self.base_url}/{tenant}"
        return Response(
            200,
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "tenant_region_scope": "EU",
            },
        )

    def _token(self, req: Request, m: re.Match[str]) -> Response:
        form = req.form()
        if form.get("grant_type", "client_credentials") != "client_credentials" and self.delegated is not None:
            return self.delegated.token(req, m, form)
        client = self.clients.get(form.get("client_id", ""))
        if client is None or client.tenant_id != m["tenant"]:
            return aadsts(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' "
                f"was not found in the directory '{m['tenant']}'. This can happen if the application has "
                "not been installed by the administrator of the tenant.",
            )
        if form.get("client_secret") != client.secret:
            return aadsts(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being "
                "sent in the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{client.client_id}'.",
            )
        scope = form.get("scope", "")
        return Response(200, self._token_body(client, scope.split()[0].removesuffix("/.default") if scope else ""))

    def _introspect(self, req: Request, m: re.Match[str]) -> Response:
        """RFC 7662 token introspection, for mail servers the tests run (Dovecot's oauth2 passdb).

        Entra publishes no such endpoint (Exchange Online validates its tokens itself); the fake serves
        one so a real server can check the fake's tokens: active while issued, unexpired and for this
        tenant, with the claims a mail server needs (upn for the login name, aud, scp as `scope`, where the
        Dovecot of tests/dovecot.py looks for each protocol's permission).
        """
        claims = self.book.claims(req.form().get("token", ""))
        if claims is None or claims.get("tid") != m["tenant"]:
            return Response(200, {"active": False})
        fields = {"upn": claims.get("upn"), "aud": claims.get("aud"), "scope": claims.get("scp"), "exp": claims["exp"]}
        return Response(200, {"active": True, **{k: v for k, v in fields.items() if v is not None}})

    def _imds(self, req: Request, m: re.Match[str]) -> Response:
        """Azure's instance metadata token endpoint (reached through AZURE_POD_IDENTITY_AUTHORITY_HOST)."""
        if self.managed_identity is None:
            return Response(400, {"error": "invalid_request", "error_description": "Identity not found"})
        body = self._token_body(self.managed_identity, req.query.get("resource", "").removesuffix("/.default"))
        return Response(200, {**body, "expires_on": str(int(time.time()) + 3600), "resource": req.query["resource"]})

    def _token_body(self, client: Client, resource: str) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"{self.base_url}/{client.tenant_id}/v2.0",
            "iat": now,
            "exp": now + 3600,
            "tid": client.tenant_id,
            "appid": client.client_id,
        }
        if client.user_id:
            claims.update(oid=client.user_id, scp=" ".join(client.scopes), idtyp="user")
        else:
            claims.update(oid=client.object_id, roles=list(client.roles), idtyp="app")
        return {
            "token_type": "Bearer",
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": self.book.issue(claims),
        }
