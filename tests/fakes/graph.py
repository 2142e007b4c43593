"""A fake Microsoft Graph v1.0 over the in-memory tenant: directory reads and writes, $batch, paging.

Requests need a bearer token issued by the fake login for this Graph (audience checked) carrying
one of the permissions the route accepts (else 403 Authorization_RequestDenied, as Graph answers).
Add routes with `graph.router.add(...)` or `graph.route(...)`; inject failures with `graph.fail(...)`.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.login import TokenBook
from tests.fakes.odata import ODataError, check_query, parse_filter, select
from tests.fakes.server import Handler, Request, Response, Router
from tests.fakes.tenant import FakeTenant

API = "/v1.0"
MAX_BATCH = 20
READ_ANY = ("Directory.Read.All", "Directory.ReadWrite.All")
# Permissions (application roles or delegated scopes) each collection accepts, least privileged first.
READ = {
    "applications": ("Application.Read.All", "Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", *READ_ANY),
    "servicePrincipals": ("Application.Read.All", "Application.ReadWrite.All", *READ_ANY),
    "oauth2PermissionGrants": (
        "DelegatedPermissionGrant.Read.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        *READ_ANY,
    ),
    "users": ("User.Read.All", "User.ReadWrite.All", *READ_ANY),
    "subscribedSkus": ("LicenseAssignment.Read.All", *READ_ANY, "Organization.Read.All", "Organization.ReadWrite.All"),
    "authorizationPolicy": ("Policy.Read.All", "Policy.ReadWrite.Authorization"),
    "memberOf": ("User.Read", *READ_ANY),
}
WRITE = {
    "applications": ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.ReadWrite.All"),
    "servicePrincipals": ("Application.ReadWrite.All", "Directory.ReadWrite.All"),
    "oauth2PermissionGrants": ("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"),
    "users": ("User.ReadWrite.All", "Directory.ReadWrite.All"),
}
# Token audiences Graph accepts besides its own URL: the global resource URI and its app id, which
# delegated tokens requested with the stack's scope strings (https://graph.microsoft.com/Mail.Read) carry.
GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
COLLECTIONS = ("applications", "servicePrincipals", "oauth2PermissionGrants", "users", "subscribedSkus")


def graph_error(status: int, code: str, message: str) -> Response:
    return Response(
        status,
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": "2026-01-01T00:00:00",
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        },
    )


def not_found(key: str) -> Response:
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
    )


class FakeGraph:
    """Routes of Microsoft Graph v1.0; `tenant` is replaced by `reset()` between tests."""

    def __init__(self, router: Router, book: TokenBook, tenant: FakeTenant):
        self.router = router
        self.book = book
        self.tenant = tenant
        self.page_size = 100
        self.base_url = ""  # set once the server listens
        self._register()

    # -- what tests use ------------------------------------------------------------------------------
    def fail(
        self, pattern: str, status: int, body: Any = None, headers: dict[str, str] | None = None, **options: Any
    ) -> None:
        """Answer the next matching request(s) ("METHOD /v1.0/path", re.search) with a canned response;
        `options` are Router.fail's `times` and `batched`.

        A JSON body given as a string is wrapped as a Graph error with that message; bytes are sent raw
        (malformed JSON); 429/503 get a `Retry-After: 1` header unless `headers` says otherwise.
        """
        if isinstance(body, str):
            body = graph_error(
                status, {429: "TooManyRequests", 503: "ServiceUnavailable"}.get(status, "Error"), body
            ).body
        if status in (429, 503) and headers is None:
            headers = {"Retry-After": "1"}
        self.router.fail(pattern, status, body, headers, **options)

    @property
    def http_requests(self) -> list[Request]:
        """HTTP requests that reached the server (a $batch counts once)."""
        return [r for r in self.router.log if not r.batched]

    @property
    def calls(self) -> list[Request]:
        """Every Graph operation, batched sub-requests included, $batch envelopes excluded."""
        return [r for r in self.router.log if not r.path.endswith("/$batch")]

    def add(self, method: str, pattern: str, handler: Handler, needs: tuple[str, ...]) -> None:
        self.router.add(method, API + pattern, self._guarded(handler, needs))

    # -- plumbing ------------------------------------------------------------------------------------
    def _guarded(self, handler: Handler, needs: tuple[str, ...]) -> Handler:
        def run(req: Request, m: re.Match[str]) -> Response:
            denied = self._check_token(req, needs)
            if denied is not None:
                return denied
            try:
                if req.method == "GET":
                    check_query(req.path, req.query)
                return handler(req, m)
            except ODataError as exc:
                return graph_error(400, exc.code, str(exc))

        return run

    def _check_token(self, req: Request, needs: tuple[str, ...]) -> Response | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        claims = self.book.claims(auth.removeprefix("Bearer "))
        if claims is None:
            return graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        if claims["aud"] not in (self.base_url, *GRAPH_AUDIENCES):
            return graph_error(401, "InvalidAuthenticationToken", "Invalid audience.")
        granted = set(claims.get("roles") or ()) | set((claims.get("scp") or "").split())
        if needs and not granted & set(needs):
            return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        return None

    def claims(self, req: Request) -> dict[str, Any]:
        return self.book.claims(req.headers["authorization"].removeprefix("Bearer ")) or {}

    def _register(self) -> None:
        for name in COLLECTIONS:
            self._collection_routes(name)
        self.add(
            "GET",
            r"/(?P<c>applications|servicePrincipals)\(appId='(?P<key>[^']+)'\)",
            self._get_by_app_id,
            READ["applications"],
        )
        self.add("GET", r"/users/(?P<key>[^/]+)/licenseDetails", self._license_details, READ["users"])
        self.add(
            "GET",
            r"/servicePrincipals/(?P<key>[^/]+)/oauth2PermissionGrants",
            self._sp_grants,
            READ["oauth2PermissionGrants"],
        )
        self.add(
            "GET", r"/(?P<c>applications|servicePrincipals)/(?P<key>[^/]+)/owners", self._owners, READ["applications"]
        )
        self.add("GET", r"/policies/authorizationPolicy", self._authorization_policy, READ["authorizationPolicy"])
        self.add("GET", r"/me/transitiveMemberOf/(microsoft\.)?graph\.directoryRole", self._my_roles, READ["memberOf"])
        self.add("POST", r"/applications/(?P<key>[^/]+)/addPassword", self._add_password, WRITE["applications"])
        self.add("POST", r"/applications/(?P<key>[^/]+)/removePassword", self._remove_password, WRITE["applications"])
        # listing users needs no more than their basic profile; revoking sessions has its own permission
        self.add(
            "GET", "/users", lambda req, m: self._list(req, self.tenant.users), ("User.ReadBasic.All", *READ["users"])
        )
        self.add(
            "POST",
            r"/users/(?P<key>[^/]+)/revokeSignInSessions",
            self._revoke_sessions,
            ("User.RevokeSessions.All", *WRITE["users"]),
        )
        self.router.add("POST", API + r"/\$batch", self._batch)

    def _collection_routes(self, name: str) -> None:
        read, write = READ[name], WRITE.get(name, ())
        self.add("GET", f"/{name}", lambda req, m: self._list(req, self.tenant.collection(name)), read)
        self.add("GET", f"/{name}/(?P<key>[^/()]+)", lambda req, m: self._get(req, name, m["key"]), read)
        if write:
            self.add("POST", f"/{name}", lambda req, m: self._create(req, name), write)
            self.add("PATCH", f"/{name}/(?P<key>[^/()]+)", lambda req, m: self._update(req, name, m["key"]), write)
            self.add("DELETE", f"/{name}/(?P<key>[^/()]+)", lambda req, m: self._delete(name, m["key"]), write)

    def _find(self, name: str, key: str) -> dict[str, Any] | None:
        for obj in self.tenant.collection(name):
            if obj["id"] == key or (name == "users" and obj["userPrincipalName"].casefold() == key.casefold()):
                return obj
        return None

    # -- handlers ------------------------------------------------------------------------------------
    def _list(self, req: Request, items: list[dict[str, Any]]) -> Response:
        wanted = parse_filter(req.query.get("$filter"), _advanced_query(req))  # refused even when nothing matches
        matched = [o for o in items if wanted(o)]
        size = min(int(req.query.get("$top") or self.page_size), self.page_size)
        start = int(req.query.get("$skiptoken") or 0)
        page = matched[start : start + size]
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}{API}/$metadata#{req.path.rsplit('/', 1)[-1]}",
            "value": [select(o, req.query.get("$select")) for o in page],
        }
        if start + size < len(matched):
            query = {k: v for k, v in req.query.items() if k != "$skiptoken"} | {"$skiptoken": str(start + size)}
            body["@odata.nextLink"] = f"{self.base_url}{req.path}?{urlencode(query, safe='$,()')}"
        return Response(200, body)

    def _get(self, req: Request, name: str, key: str) -> Response:
        obj = self._find(name, key)
        return Response(200, select(obj, req.query.get("$select"))) if obj else not_found(key)

    def _get_by_app_id(self, req: Request, m: re.Match[str]) -> Response:
        obj = next((o for o in self.tenant.collection(m["c"]) if o["appId"].casefold() == m["key"].casefold()), None)
        return Response(200, select(obj, req.query.get("$select"))) if obj else not_found(m["key"])

    def _create(self, req: Request, name: str) -> Response:
        obj = {**req.json(), "id": str(uuid.uuid4()) if name != "oauth2PermissionGrants" else uuid.uuid4().hex}
        if name == "applications":
            obj.setdefault("appId", str(uuid.uuid4()))
            obj.setdefault("passwordCredentials", [])
        self.tenant.collection(name).append(obj)
        return Response(201, obj)

    def _update(self, req: Request, name: str, key: str) -> Response:
        obj = self._find(name, key)
        if obj is None:
            return not_found(key)
        obj.update(req.json())
        return Response(204)

    def _delete(self, name: str, key: str) -> Response:
        obj = self._find(name, key)
        if obj is None:
            return not_found(key)
        self.tenant.collection(name).remove(obj)
        return Response(204)

    def _license_details(self, req: Request, m: re.Match[str]) -> Response:
        user = self._find("users", m["key"])
        return self._list(req, self.tenant.license_details[user["id"]]) if user else not_found(m["key"])

    def _sp_grants(self, req: Request, m: re.Match[str]) -> Response:
        return self._list(req, [g for g in self.tenant.grants if g["clientId"] == m["key"]])

    def _owners(self, req: Request, m: re.Match[str]) -> Response:
        if self._find(m["c"], m["key"]) is None:
            return not_found(m["key"])
        kinds = {o["id"]: "user" for o in self.tenant.users} | {
            o["id"]: "servicePrincipal" for o in self.tenant.service_principals
        }
        owners = [
            {"@odata.type": f"#microsoft.graph.{kinds.get(i, 'user')}", "id": i}
            for i in self.tenant.owners.get(m["key"], [])
        ]
        return self._list(req, owners)

    def _authorization_policy(self, req: Request, m: re.Match[str]) -> Response:
        return Response(200, select(self.tenant.authorization_policy, req.query.get("$select")))

    def _my_roles(self, req: Request, m: re.Match[str]) -> Response:
        claims = self.claims(req)
        if claims.get("idtyp") != "user":
            return graph_error(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
        if not _advanced_query(req):  # an OData cast on a directory relationship is an advanced query
            return graph_error(
                400,
                "Request_UnsupportedQuery",
                "OData cast on transitiveMemberOf needs the ConsistencyLevel header set to eventual and $count=true.",
            )
        return self._list(req, self.tenant.directory_roles.get(claims["oid"], []))

    def _add_password(self, req: Request, m: re.Match[str]) -> Response:
        app = self._find("applications", m["key"])
        if app is None:
            return not_found(m["key"])
        asked = req.json().get("passwordCredential") or {}
        value = f"fake~{uuid.uuid4().hex}"
        cred = {
            **self.tenant.secret(asked.get("displayName") or "", _date(asked.get("endDateTime")), value),
            "secretText": None,
        }
        app["passwordCredentials"].append(cred)
        return Response(200, {**cred, "secretText": value})

    def _remove_password(self, req: Request, m: re.Match[str]) -> Response:
        app = self._find("applications", m["key"])
        if app is None:
            return not_found(m["key"])
        key_id = req.json().get("keyId")
        app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != key_id]
        return Response(204)

    def _revoke_sessions(self, req: Request, m: re.Match[str]) -> Response:
        """Entra moves the user's signInSessionsValidFromDateTime to now: older refresh tokens stop working."""
        from datetime import datetime, timezone

        user = self._find("users", m["key"])
        if user is None:
            return not_found(m["key"])
        user["signInSessionsValidFromDateTime"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response(200, {"@odata.context": f"{self.base_url}{API}/$metadata#Edm.Boolean", "value": True})

    # -- JSON batching -------------------------------------------------------------------------------
    def _batch(self, req: Request, m: re.Match[str]) -> Response:
        denied = self._check_token(req, ())
        if denied is not None:
            return denied
        try:
            items = req.json()["requests"]
        except (ValueError, KeyError, TypeError):
            return graph_error(400, "BadRequest", "Invalid batch payload format.")
        problem = _batch_problem(items)
        if problem:
            return graph_error(400, "BadRequest", problem)
        responses = [self._sub_response(req, item) for item in items]
        return Response(200, {"responses": responses[::-1]})  # Graph does not keep the request order

    def _sub_response(self, outer: Request, item: dict[str, Any]) -> dict[str, Any]:
        parts = urlsplit(item["url"])
        sub = Request(
            method=item["method"].upper(),
            path=API + unquote(parts.path),
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={
                "authorization": outer.headers.get("authorization", ""),
                **{k.lower(): v for k, v in (item.get("headers") or {}).items()},
            },
            body=json.dumps(item["body"]).encode() if "body" in item else b"",
            batched=True,
        )
        resp = self.router.dispatch(sub)
        out: dict[str, Any] = {"id": item["id"], "status": resp.status, "headers": dict(resp.headers)}
        if isinstance(resp.body, bytes):  # Graph base64-encodes bodies it cannot embed as JSON
            out["headers"]["Content-Type"] = "application/json"
            out["body"] = base64.b64encode(resp.body).decode()
        elif resp.body is not None:
            out["headers"]["Content-Type"] = "application/json"
            out["body"] = resp.body
        return out


def _batch_problem(items: Any) -> str | None:
    """Why Graph would refuse this batch as a whole, if it would."""
    if not isinstance(items, list) or not items:
        return "Invalid batch payload format."
    if len(items) > MAX_BATCH:
        return f"Invalid batch payload format: {len(items)} requests; a batch holds at most {MAX_BATCH}."
    ids = [str(i.get("id")) for i in items if isinstance(i, dict)]
    if len(set(ids)) != len(items):
        return "Invalid batch payload format: request ids must be present and unique."
    for item in items:
        url = str(item.get("url", ""))
        if not item.get("method") or not url.startswith("/") or re.match(r"^/(v1\.0|beta)/", url):
            return f"Invalid batch payload format: url '{url}' must be relative to the API version."
    return None


def _advanced_query(req: Request) -> bool:
    """Graph's advanced query capabilities are switched on by `ConsistencyLevel: eventual` with `$count=true`."""
    return req.headers.get("consistencylevel", "").lower() == "eventual" and req.query.get("$count") == "true"


def _date(value: str | None) -> date:
    return date.fromisoformat(value[:10]) if value else date(2099, 1, 1)
