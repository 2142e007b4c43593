"""pytest fixtures for the fake Microsoft cloud (loaded by tests/conftest.py).

`fake_cloud` is one pair of servers per test session (msgraph's first response costs ~2 s of
imports, so servers and imports are paid once) reset to a fresh tenant before each test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.cloud import TENANT_ID, FakeCloud


@pytest.fixture(scope="session")
def fake_cloud_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCloud]:
    cloud = FakeCloud(tmp_path_factory.mktemp("fake-cloud")).start()
    yield cloud
    cloud.stop()


@pytest.fixture
def fake_cloud(fake_cloud_servers: FakeCloud) -> FakeCloud:
    """The fake cloud with a fresh tenant, the default client and no injected faults."""
    fake_cloud_servers.reset()
    return fake_cloud_servers


@pytest.fixture
def graph_target(fake_cloud: FakeCloud):  # -> mailoauth.graph.target.Target
    from mailoauth.graph.target import Target

    return Target(TENANT_ID, fake_cloud.authority, fake_cloud.graph_url, fake_cloud.ca_path)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def live_env(fake_cloud: FakeCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCloud:
    """The process environment of a CI job signed in to the fake cloud through AZURE_* variables.

    Other credentials cannot leak in: ARM_*/AZURE_* of the host are removed, `az` is not on PATH and
    managed identity asks the fake login (which has no identity to give unless a test sets one)
    instead of 169.254.169.254.
    """
    for name in list(os.environ):
        if name.startswith(("AZURE_", "ARM_", "MSI_", "IDENTITY_")) or name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            monkeypatch.delenv(name)
    for name, value in fake_cloud.env().items():
        monkeypatch.setenv(name, value)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake_cloud.authority)
    return fake_cloud


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `mailoauth ARGS...` in-process; returns exit code, stdout and stderr."""
    from mailoauth.cli import main

    def run(*argv: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
