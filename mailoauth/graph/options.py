"""Command-line options every live command shares, and the session they describe.

Kept free of msgraph/azure imports so that registering the commands costs nothing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from mailoauth.desired.model import Stack

T = TypeVar("T")
CREDENTIALS = ("auto", "environment", "workload-identity", "azure-cli", "managed-identity")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a live command's async work; asyncio is imported here, off the start-up path of every command."""
    import asyncio

    return asyncio.run(coroutine)


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sign-in")
    group.add_argument(
        "--graph-url",
        metavar="URL",
        help="Microsoft Graph endpoint, overriding the stack's azuread:environment (e.g. an Azure Stack hub)",
    )
    group.add_argument(
        "--credential",
        choices=CREDENTIALS,
        default="auto",
        help="which azure-identity credential to use (default: the first available, see docs/live-checks.md)",
    )


def session(args: argparse.Namespace, stack: Stack | None) -> AbstractAsyncContextManager[Any]:
    """A signed-in GraphSession for the stack's tenant and cloud (checked against the token's tenant);
    without a stack, the tenant of AZURE_TENANT_ID / ARM_TENANT_ID (or the credential's own) in the global cloud."""
    from mailoauth.desired.clouds import clouds
    from mailoauth.graph.session import open_session
    from mailoauth.graph.target import resolve

    if stack is None:
        tenant = os.environ.get("AZURE_TENANT_ID") or os.environ.get("ARM_TENANT_ID") or ""
        target = resolve(tenant, clouds()["global"], args.graph_url)
        return open_session(target, credential_kind=args.credential)
    target = resolve(stack.tenant_id, stack.cloud, args.graph_url)
    return open_session(target, credential_kind=args.credential, stack=(stack.name, stack.file))
