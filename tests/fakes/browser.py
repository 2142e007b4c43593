"""The mailbox user's browser in tests: follows a sign-in URL through the fake login to the app's redirect.

`UserBrowser(ca_path, cookie).open(url)` has webbrowser.open's signature, so a test can put it in
place of the real browser; run as a script (`python -m tests.fakes.browser URL`, with the session
cookie in FAKE_BROWSER_COOKIE and the CA in SSL_CERT_FILE) it serves as $BROWSER for a CLI run in
a subprocess. It keeps every page it ended on, so a test can read an error page the app never sees.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

MAX_HOPS = 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Page:
    url: str
    status: int
    text: str


@dataclass
class UserBrowser:
    ca_path: str
    cookie: str | None = None
    pages: list[Page] = field(default_factory=list)

    def open(self, url: str, *args: Any, **kwargs: Any) -> bool:
        opener = urllib.request.build_opener(
            _NoRedirect, urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=self.ca_path))
        )
        for _ in range(MAX_HOPS):
            request = urllib.request.Request(url, headers={"Cookie": self.cookie} if self.cookie else {})
            try:
                with opener.open(request, timeout=10) as response:
                    status, headers, body = response.status, response.headers, response.read()
            except urllib.error.HTTPError as exc:
                status, headers, body = exc.code, exc.headers, exc.read()
            if status in (301, 302, 303, 307) and headers.get("Location"):
                url = urljoin(url, headers["Location"])
                continue
            self.pages.append(Page(url, status, body.decode("utf-8", errors="replace")))
            return True
        return False


if __name__ == "__main__":
    browser = UserBrowser(os.environ["SSL_CERT_FILE"], os.environ.get("FAKE_BROWSER_COOKIE"))
    sys.exit(0 if browser.open(sys.argv[1]) else 1)
