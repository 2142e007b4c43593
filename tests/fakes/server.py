"""A small HTTPS server on 127.0.0.1 with a route table, fault injection and a request log.

The fake Microsoft endpoints are built on it. Handlers take a `Request` and return a `Response`;
routes are regular expressions over the path, so tests and other fakes can add their own.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    batched: bool = False  # a sub-request of a JSON batch

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    @property
    def target(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode("utf-8")


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str


@dataclass
class Fault:
    """A canned response for the next `times` requests whose target matches `pattern`."""

    pattern: re.Pattern[str]
    response: Response
    times: int
    batched: bool | None  # None: direct and batched requests alike

    def matches(self, req: Request) -> bool:
        return bool(self.pattern.search(req.target)) and self.batched in (None, req.batched)


class Router:
    """Routes requests to handlers; faults take precedence; every request is logged."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self.lock = threading.RLock()

    def add(self, method: str, pattern: str, handler: Handler, name: str | None = None) -> None:
        """Register a handler; later registrations win, so tests can override a built-in route."""
        self.routes.insert(0, Route(method.upper(), re.compile(f"^{pattern}$"), handler, name or pattern))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return decorate

    def fail(
        self,
        pattern: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        batched: bool | None = None,
    ) -> None:
        """Answer the next `times` requests whose "METHOD /path" matches `pattern` (re.search) with this."""
        with self.lock:
            self.faults.append(Fault(re.compile(pattern), Response(status, body, dict(headers or {})), times, batched))

    def dispatch(self, req: Request) -> Response:
        with self.lock:
            self.log.append(req)
            fault = next((f for f in self.faults if f.matches(req)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.response
            for route in self.routes:
                match = route.pattern.match(req.path)
                if match and route.method == req.method:
                    return route.handler(req, match)
        return self.not_found(req)

    def not_found(self, req: Request) -> Response:
        return Response(404, {"error": "not_found", "error_description": f"no route for {req.target}"})

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.log.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    router: Router

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        req = Request(
            method=self.command,
            path=unquote(parts.path),
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        resp = self.router.dispatch(req)
        payload = resp.payload()
        self.send_response(resp.status)
        headers = {"Content-Type": "application/json", **resp.headers} if payload else dict(resp.headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve


class HttpsServer:
    """A threaded HTTPS server on 127.0.0.1 (any free port) serving one Router."""

    def __init__(self, router: Router, server_context: ssl.SSLContext):
        handler = type("Handler", (_Handler,), {"router": router})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = server_context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-https", daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> HttpsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
