"""Prove Microsoft Graph mail access with the signed-in user's token, through the project's Graph client.

Reading: GET /me/mailFolders/inbox. Sending (only with --send-test-to): POST /me/sendMail without
keeping a copy. The requests themselves are `mailoauth.graph.mailbox`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from mailoauth.base.style import count
from mailoauth.desired.model import Stack
from mailoauth.graph import mailbox
from mailoauth.graph.errors import GraphError
from mailoauth.graph.session import GraphSession, Retry, open_session
from mailoauth.graph.target import Target
from mailoauth.verify.mail import TEST_BODY, TEST_SUBJECT, Outcome
from mailoauth.verify.oauth import Tokens

RETRY = Retry(delay=1.0, max_retries=2)
MISSING_EXTRA = "the Graph check needs msgraph-sdk and azure-identity: pip install 'mailoauth[graph]'"


def read_inbox(target: Target, tokens: Tokens, stack: Stack) -> Outcome:
    async def inbox(graph: GraphSession) -> str:
        folder = await mailbox.inbox(graph)
        return (
            f"GET /me/mailFolders/inbox: {folder.get('displayName')}, {_messages(folder.get('totalItemCount'))}, "
            f"{folder.get('unreadItemCount')} unread"
        )

    return _run(target, tokens, stack, inbox)


def send_test_message(target: Target, tokens: Tokens, stack: Stack, recipient: str) -> Outcome:
    async def send(graph: GraphSession) -> str:
        await mailbox.send_text_message(graph, TEST_SUBJECT, TEST_BODY, recipient)
        return f"POST /me/sendMail: test message sent to {recipient}"

    return _run(target, tokens, stack, send)


def _run(target: Target, tokens: Tokens, stack: Stack, work: Callable[[GraphSession], Awaitable[str]]) -> Outcome:
    credential = mailbox.UserToken(tokens.access_token, tokens.expires_in)

    async def main() -> str:
        async with open_session(target, credential=credential, stack=(stack.name, stack.file), retry=RETRY) as g:
            return await work(g)

    try:
        return Outcome(True, asyncio.run(main()))
    except GraphError as exc:
        return Outcome(False, str(exc))
    except ImportError:
        return Outcome(False, MISSING_EXTRA)


def _messages(total: object) -> str:
    return count(total, "message") if isinstance(total, int) else f"{total} messages"
