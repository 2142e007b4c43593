"""Microsoft clouds and their hosts, read from `clouds.yaml` beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from mailoauth.base import yamlio


@dataclass(frozen=True)
class MailEndpoint:
    host: str | None = None
    port: int | None = None
    security: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Cloud:
    name: str
    title: str
    login_host: str
    graph_url: str
    personal_accounts: bool
    azure_login: str  # the azure/login action's `environment` for this cloud
    token_audiences: dict[str, str]
    mail: dict[str, MailEndpoint]


@cache
def clouds() -> dict[str, Cloud]:
    text = resources.files("mailoauth.desired").joinpath("clouds.yaml").read_text(encoding="utf-8")
    raw = yamlio.load(text, "clouds.yaml")
    return {
        name: Cloud(
            name=name,
            title=c["title"],
            login_host=c["loginHost"],
            graph_url=c["graphUrl"],
            personal_accounts=c["personalAccounts"],
            azure_login=c["azureLogin"],
            token_audiences=dict(c["tokenAudiences"]),
            mail={proto: MailEndpoint(**ep) for proto, ep in c["mail"].items()},
        )
        for name, c in raw.items()
    }
