"""Prove Microsoft Graph mail access with the signed-in user's token, through the project's Graph client.

Reading: GET /me/mailFolders/inbox. Sending (only with --send-test-to): POST /me/sendMail without
keeping a copy. msgraph-sdk and azure-core come from the `graph` extra and are imported here only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mailoauth.desired.model import Stack
from mailoauth.graph.errors import GraphError
from mailoauth.graph.session import GraphSession, Retry, open_session, query_config
from mailoauth.graph.target import Target
from mailoauth.verify.mail import TEST_BODY, TEST_SUBJECT, Outcome
from mailoauth.verify.oauth import Tokens

RETRY = Retry(delay=1.0, max_retries=2)
INBOX_FIELDS = ("displayName", "totalItemCount", "unreadItemCount")
MISSING_EXTRA = "the Graph check needs msgraph-sdk and azure-identity: pip install 'mailoauth[graph]'"


class UserToken:
    """A TokenCredential that hands out the signed-in user's Graph token (it cannot renew it)."""

    def __init__(self, tokens: Tokens):
        self._token = tokens.access_token
        self._expires_on = int(time.time()) + tokens.expires_in

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, self._expires_on)


def read_inbox(target: Target, tokens: Tokens, stack: Stack) -> Outcome:
    async def inbox(graph: GraphSession) -> str:
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        builder = graph.client.me.mail_folders.by_mail_folder_id("inbox")
        info = builder.to_get_request_information(query_config(builder, select=list(INBOX_FIELDS)))
        # Read as JSON: deserializing a MailFolder makes msgraph-sdk import about 1,300 model classes (seconds).
        raw = await graph.call(
            lambda: graph.adapter.send_primitive_async(info, "bytes", {"XXX": ODataError}),
            "GET",
            "/me/mailFolders/inbox",
        )
        folder = json.loads(raw or b"{}")
        return (
            f"GET /me/mailFolders/inbox: {folder.get('displayName')}, {folder.get('totalItemCount')} message(s), "
            f"{folder.get('unreadItemCount')} unread"
        )

    return _run(target, tokens, stack, inbox)


def send_test_message(target: Target, tokens: Tokens, stack: Stack, recipient: str) -> Outcome:
    async def send(graph: GraphSession) -> str:
        from msgraph.generated.models.body_type import BodyType
        from msgraph.generated.models.email_address import EmailAddress
        from msgraph.generated.models.item_body import ItemBody
        from msgraph.generated.models.message import Message
        from msgraph.generated.models.recipient import Recipient
        from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

        message = Message(
            subject=TEST_SUBJECT,
            body=ItemBody(content_type=BodyType.Text, content=TEST_BODY),
            to_recipients=[Recipient(email_address=EmailAddress(address=recipient))],
        )
        body = SendMailPostRequestBody(message=message, save_to_sent_items=False)
        await graph.call(lambda: graph.client.me.send_mail.post(body), "POST", "/me/sendMail")
        return f"POST /me/sendMail: test message sent to {recipient}"

    return _run(target, tokens, stack, send)


def _run(target: Target, tokens: Tokens, stack: Stack, work: Callable[[GraphSession], Awaitable[str]]) -> Outcome:
    async def main() -> str:
        async with open_session(target, credential=UserToken(tokens), stack=(stack.name, stack.file), retry=RETRY) as g:
            return await work(g)

    try:
        return Outcome(True, asyncio.run(main()))
    except GraphError as exc:
        return Outcome(False, str(exc))
    except ImportError:
        return Outcome(False, MISSING_EXTRA)
