"""The fake Microsoft cloud a test talks to: a login server and a Graph server sharing one tenant.

Both are real HTTPS servers on 127.0.0.1 with a certificate from a throwaway CA (trustme); clients
trust it through `ca_path` (azure-identity's `connection_verify`, httpx's `verify`) or, for the CLI,
through SSL_CERT_FILE / REQUESTS_CA_BUNDLE in `env()`.
"""

from __future__ import annotations

import ssl
import tempfile
import uuid
from pathlib import Path
from typing import Any

import trustme

from tests.fakes.graph import FakeGraph
from tests.fakes.login import Client, FakeLogin, TokenBook
from tests.fakes.mailbox import add_mailbox_routes
from tests.fakes.server import HttpsServer, Router
from tests.fakes.signin import FakeSignIn
from tests.fakes.tenant import FakeTenant

TENANT_ID = "5e1f0c9a-3d2b-4c8e-9f7a-6b5d4c3b2a10"
OTHER_TENANT_ID = "0a0b0c0d-1111-4222-8333-944444444444"
CLIENT_ID = "c11e0d1e-7b5a-4d2c-9e8f-1a2b3c4d5e6f"
CLIENT_SECRET = "fake~Sw0rdfish-client-secret-value"  # tests assert it never appears in output
# What the deploying/auditing service principal is granted by default: everything the live commands read.
DEFAULT_ROLES = (
    "Application.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "LicenseAssignment.Read.All",
    "User.Read.All",
)


class TLS:
    """A CA, a server certificate for 127.0.0.1 and the CA as a PEM file clients can trust."""

    def __init__(self, folder: Path):
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1")
        self.ca_path = str(folder / "fake-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(ctx)
        return ctx


class FakeCloud:
    """Login + Graph servers; `reset()` gives each test a fresh tenant, default client and no faults."""

    def __init__(self, folder: Path | None = None):
        self._tmp = None if folder else tempfile.TemporaryDirectory(prefix="fake-cloud-")
        self.tls = TLS(folder or Path(self._tmp.name))  # type: ignore[union-attr]
        self.book = TokenBook()
        self.login_router, self.graph_router = Router(), Router()
        self.tenant = FakeTenant(TENANT_ID)
        self.login = FakeLogin(self.login_router, self.book, [TENANT_ID, OTHER_TENANT_ID])
        self.graph = FakeGraph(self.graph_router, self.book, self.tenant)
        self.signin = FakeSignIn(self.login_router, self.login, lambda: self.tenant)
        add_mailbox_routes(self.graph)
        self.login_server = HttpsServer(self.login_router, self.tls.server_context())
        self.graph_server = HttpsServer(self.graph_router, self.tls.server_context())
        self.login.base_url = self.authority
        self.graph.base_url = self.graph_url
        self.reset()

    @property
    def authority(self) -> str:
        """What azure-identity takes as `authority` / AZURE_AUTHORITY_HOST."""
        return self.login_server.url

    @property
    def graph_url(self) -> str:
        """What `--graph-url` takes (without /v1.0)."""
        return self.graph_server.url

    @property
    def ca_path(self) -> str:
        return self.tls.ca_path

    def start(self) -> FakeCloud:
        self.login_server.start()
        self.graph_server.start()
        return self

    def stop(self) -> None:
        self.login_server.stop()
        self.graph_server.stop()
        if self._tmp:
            self._tmp.cleanup()

    def reset(self) -> FakeTenant:
        self.login_router.reset()
        self.graph_router.reset()
        self.book.tokens.clear()
        self.tenant = FakeTenant(TENANT_ID)
        self.graph.tenant = self.tenant
        self.graph.page_size = 100
        self.login.clients.clear()
        self.signin.reset()
        self.sp = self.tenant.add_service_principal(CLIENT_ID, "mailoauth deployer")
        self.client = self.login.add_client(
            Client(CLIENT_ID, CLIENT_SECRET, TENANT_ID, self.sp["id"], roles=list(DEFAULT_ROLES))
        )
        return self.tenant

    def add_client(
        self,
        roles: list[str] | tuple[str, ...] = DEFAULT_ROLES,
        tenant_id: str = TENANT_ID,
        user_id: str | None = None,
        scopes: tuple[str, ...] = (),
    ) -> Client:
        """Another confidential client (a different tenant, fewer roles, or acting as a signed-in user)."""
        client_id = str(uuid.uuid4())
        sp = self.tenant.add_service_principal(client_id, "another client")
        return self.login.add_client(
            Client(client_id, f"fake~{uuid.uuid4().hex}", tenant_id, sp["id"], list(roles), user_id, list(scopes))
        )

    def credential(self, client: Client | None = None) -> Any:
        """A real azure-identity ClientSecretCredential pointed at the fake login."""
        from azure.identity import ClientSecretCredential

        client = client or self.client
        return ClientSecretCredential(
            client.tenant_id,
            client.client_id,
            client.secret,
            authority=self.authority,
            disable_instance_discovery=True,
            connection_verify=self.ca_path,
        )

    def env(self, client: Client | None = None) -> dict[str, str]:
        """Environment variables under which the CLI signs in here (EnvironmentCredential) and trusts the CA."""
        client = client or self.client
        return {
            "AZURE_TENANT_ID": client.tenant_id,
            "AZURE_CLIENT_ID": client.client_id,
            "AZURE_CLIENT_SECRET": client.secret,
            "AZURE_AUTHORITY_HOST": self.authority,
            "SSL_CERT_FILE": self.ca_path,
            "REQUESTS_CA_BUNDLE": self.ca_path,
        }
