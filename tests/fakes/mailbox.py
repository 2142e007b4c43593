"""The signed-in user's mailbox on the fake Graph: GET /me/mailFolders/{id} and POST /me/sendMail.

Delegated tokens only, as Graph answers /me. A user without an Exchange Online licence has no
mailbox Graph can serve (404 MailboxNotEnabledForRESTAPI); sent messages are kept on the tenant
(`tenant.sent_mail`) so tests can read them.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.graph import FakeGraph, graph_error, not_found
from tests.fakes.odata import select
from tests.fakes.server import Request, Response

# Delegated permissions each route accepts (Graph API reference: mailFolder get, user sendMail).
MAIL_FOLDER_READ = ("Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite")
MAIL_SEND = ("Mail.Send",)
ME_ONLY = "/me request is only valid with delegated authentication flow."


def add_mailbox_routes(graph: FakeGraph) -> None:
    def user_of(req: Request) -> tuple[dict[str, Any] | None, Response | None]:
        claims = graph.claims(req)
        if claims.get("idtyp") != "user":
            return None, graph_error(400, "BadRequest", ME_ONLY)
        user = next((u for u in graph.tenant.users if u["id"] == claims["oid"]), None)
        if user is None or not graph.tenant.license_details.get(user["id"]):
            message = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."
            return None, graph_error(404, "MailboxNotEnabledForRESTAPI", message)
        return user, None

    def mail_folder(req: Request, m: re.Match[str]) -> Response:
        user, refused = user_of(req)
        if user is None:
            return refused  # type: ignore[return-value]
        if m["key"].casefold() != "inbox":
            return not_found(m["key"])
        folder = {
            "id": f"AAMkAD{user['id'].replace('-', '')}AAA=",
            "displayName": "Inbox",
            "parentFolderId": "AAMkADroot=",
            "childFolderCount": 0,
            "unreadItemCount": 1,
            "totalItemCount": 3,
            "isHidden": False,
        }
        return Response(200, select(folder, req.query.get("$select")))

    def send_mail(req: Request, m: re.Match[str]) -> Response:
        user, refused = user_of(req)
        if user is None:
            return refused  # type: ignore[return-value]
        graph.tenant.sent_mail.append({**req.json(), "from": user["id"]})
        return Response(202)

    graph.add("GET", r"/me/mailFolders/(?P<key>[^/]+)", mail_folder, MAIL_FOLDER_READ)
    graph.add("POST", r"/me/sendMail", send_mail, MAIL_SEND)
