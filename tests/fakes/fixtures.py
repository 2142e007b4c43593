"""pytest fixtures for the fake Microsoft cloud (loaded by tests/conftest.py).

`fake_cloud` is one pair of servers per test session (msgraph's first response costs ~2 s of
imports, so servers and imports are paid once) reset to a fresh tenant before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.cloud import TENANT_ID, FakeCloud

ROOT = Path(__file__).resolve().parents[2]


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
