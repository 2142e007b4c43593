"""A deployed stack, a mailbox user and the mail servers, for `mailoauth verify` tests.

The stack file is real (stacks/Pulumi.verify.yaml in a copy of the project); `FakeTenant.deploy`
registers its apps as `pulumi up` would; the stack outputs piped into `--outputs -` come from the
program's own `app_output`. IMAP and SMTP run over TLS with the fake cloud's CA and accept exactly
the tokens the fake login issued to the signed-in user with the right permission.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mailoauth import cli
from mailoauth.base.tree import WorkTree
from mailoauth.desired import catalogue
from mailoauth.desired.model import Stack
from mailoauth.project import loader
from mailoauth.project.context import ProjectContext
from tests.fakes.browser import UserBrowser
from tests.fakes.cloud import TENANT_ID, FakeCloud
from tests.fakes.signin import Account
from tests.fakes.tenant import Deployed
from tests.mailfakes import EXCHANGE_PERMISSION, FakeImap, FakeSmtp, Mailboxes, exchange_tokens
from tests.projectcopy import copy_project

SECRET = "fake~verify-app-secret-Qx7"  # the deployed apps' client secret; must never be printed
USER = "support@contoso.example"
TODAY = "2026-11-27"
STACK = f"""\
# Apps to verify: browser flow (helpdesk, mailin, partner, notifier), device code (kiosk), neither (outbound).
config:
  azuread:tenantId: {TENANT_ID}
  mailoauth:apps:
    helpdesk:
      displayName: Helpdesk mail
      redirectUris: [https://helpdesk.example.com/oauth/callback, http://127.0.0.1/mailoauth-verify]
      scopeSets: [imap, smtp, graph-read]
      adminConsent: true
      secret: {{description: helpdesk, expires: 2027-06-30}}
    mailin:
      displayName: Mail in
      redirectUris: [https://mailin.example.com/cb, http://localhost/verify]
      scopeSets: [imap, graph-read]
      secret: {{description: mailin, expires: 2027-06-30}}
    kiosk:
      displayName: Kiosk mail
      redirectUris: [https://kiosk.example.com/cb]
      scopeSets: [imap, smtp]
      allowPublicClientFlows: true
      adminConsent: true
      secret: {{description: kiosk, expires: 2027-06-30}}
    partner:
      displayName: Partner mail
      audience: multi-tenant
      allowWideAudience: true
      redirectUris: [https://partner.example.com/cb, http://127.0.0.1/partner]
      scopeSets: [imap]
      secret: {{description: partner, expires: 2027-06-30}}
    notifier:
      displayName: Notifier
      redirectUris: [http://127.0.0.1:8400/cb]
      scopes: [Mail.Send]
      adminConsent: true
      secret: {{description: notifier, expires: 2027-06-30}}
    outbound:
      displayName: Outbound
      redirectUris: [https://out.example.com/cb]
      scopeSets: [smtp]
      secret: {{description: outbound, expires: 2027-06-30}}
"""


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.out)

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.doc["steps"] if s["step"] == name)

    def statuses(self) -> list[tuple[str, str]]:
        return [(s["step"], s["status"]) for s in self.doc["steps"]]


@dataclass
class Deployment:
    """The verify stack deployed into the fake tenant, and the mail servers `verify` is pointed at."""

    cloud: FakeCloud
    project: Path
    imap: FakeImap
    smtp: FakeSmtp
    deployed: dict[str, Deployed] = field(default_factory=dict, init=False)

    @property
    def stack(self) -> Stack:
        tree = WorkTree(self.project)
        return loader.load_stack(tree, "verify", ProjectContext(catalogue.load(tree)))

    def deploy(self) -> dict[str, Deployed]:
        self.deployed = self.cloud.tenant.deploy(self.stack)
        for deployed in self.deployed.values():
            self.cloud.signin.register(deployed, SECRET)
        return self.deployed

    def outputs(self, **secrets: str) -> dict[str, Any]:
        """What `pulumi stack output --show-secrets --json` prints for the deployed stack."""
        from mailoauth.deploy.program import app_output

        stack = self.stack
        apps = {k: app_output(stack, stack.apps[k], d.application["appId"]) for k, d in self.deployed.items()}
        values = {k: secrets.get(k, SECRET) for k in apps}
        return {
            "apps": apps,
            "clientSecrets": values,
            "clientSecretSlots": {k: {"secret": v} for k, v in values.items()},
        }

    def args(self, app: str, *extra: str) -> list[str]:
        return [
            "-C",
            str(self.project),
            "verify",
            "--stack",
            "verify",
            "--app",
            app,
            "--imap",
            f"127.0.0.1:{self.imap.port}",
            "--smtp",
            f"127.0.0.1:{self.smtp.port}",
            "--graph-url",
            self.cloud.graph_url,
            "--format",
            "json",
            "--timeout",
            "5",
            *extra,
        ]


@dataclass
class World(Deployment):
    """A Deployment with its mailbox user, whose browser the test plays, and an in-process CLI runner."""

    user: dict[str, Any]
    account: Account
    browser: UserBrowser
    imap_boxes: Mailboxes
    smtp_boxes: Mailboxes
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(self, app: str, *extra: str, outputs: Any = "deployed", argv: list[str] | None = None) -> Result:
        """`mailoauth verify` in this process with the outputs piped to stdin (`outputs=None`: no --outputs)."""
        stdin = json.dumps(self.outputs() if outputs == "deployed" else outputs)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        piped = ["--outputs", "-"] if outputs is not None else []
        code = cli.main(argv or [*self.args(app, *extra), *piped])
        out, err = self.capsys.readouterr()
        return Result(code, out, err)


def verify_project(folder: Path) -> Path:
    copy_project(folder, "Pulumi.yaml", "scopes")
    (folder / "stacks").mkdir()
    (folder / "stacks" / "Pulumi.verify.yaml").write_text(STACK)
    return folder


@pytest.fixture
def world(
    fake_cloud: FakeCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[World]:
    monkeypatch.setenv("MAILOAUTH_TODAY", TODAY)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake_cloud.authority)
    monkeypatch.setenv("SSL_CERT_FILE", fake_cloud.ca_path)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    for name in ("MAILOAUTH_CLIENT_ID", "MAILOAUTH_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    user = fake_cloud.tenant.add_user(USER)
    account = fake_cloud.signin.account(user)
    browser = UserBrowser(fake_cloud.ca_path, fake_cloud.signin.session(account))
    monkeypatch.setattr("webbrowser.open", browser.open)
    imap_boxes = Mailboxes(tokens=exchange_tokens(fake_cloud.book.claims, EXCHANGE_PERMISSION["imap"]))
    smtp_boxes = Mailboxes(tokens=exchange_tokens(fake_cloud.book.claims, EXCHANGE_PERMISSION["smtp"]))
    with ExitStack() as servers:
        imap = servers.enter_context(FakeImap(fake_cloud.tls.server_context(), imap_boxes))
        smtp = servers.enter_context(FakeSmtp(fake_cloud.tls.server_context(), smtp_boxes))
        found = World(
            fake_cloud,
            verify_project(tmp_path),
            imap,
            smtp,
            user,
            account,
            browser,
            imap_boxes,
            smtp_boxes,
            monkeypatch,
            capsys,
        )
        found.deploy()
        yield found
