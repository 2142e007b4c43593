"""The signed-in user's mailbox through Graph, for `verify`: the inbox counters, and a message sent without a copy.

msgraph-sdk and azure-core come from the `graph` extra and are imported inside the functions.
"""

from __future__ import annotations

import json
import time
from typing import Any

from mailoauth.graph.session import GraphSession, query_config

INBOX_FIELDS = ("displayName", "totalItemCount", "unreadItemCount")


class UserToken:
    """A TokenCredential that hands out a signed-in user's access token (it cannot renew it)."""

    def __init__(self, access_token: str, expires_in: int):
        self._token = access_token
        self._expires_on = int(time.time()) + expires_in

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, self._expires_on)


async def inbox(graph: GraphSession) -> dict[str, Any]:
    """GET /me/mailFolders/inbox: the INBOX_FIELDS of the user's inbox."""
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    builder = graph.client.me.mail_folders.by_mail_folder_id("inbox")
    info = builder.to_get_request_information(query_config(builder, select=list(INBOX_FIELDS)))
    # Read as JSON: deserializing a MailFolder makes msgraph-sdk import about 1,300 model classes (seconds).
    raw = await graph.call(
        lambda: graph.adapter.send_primitive_async(info, "bytes", {"XXX": ODataError}),
        "GET",
        "/me/mailFolders/inbox",
    )
    return json.loads(raw or b"{}")


async def send_text_message(graph: GraphSession, subject: str, body: str, recipient: str) -> None:
    """POST /me/sendMail: a plain-text message to one recipient, not saved to Sent Items."""
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    message = Message(
        subject=subject,
        body=ItemBody(content_type=BodyType.Text, content=body),
        to_recipients=[Recipient(email_address=EmailAddress(address=recipient))],
    )
    request = SendMailPostRequestBody(message=message, save_to_sent_items=False)
    await graph.call(lambda: graph.client.me.send_mail.post(request), "POST", "/me/sendMail")
