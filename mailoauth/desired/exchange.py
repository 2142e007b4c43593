"""Exchange Online facts (service plans, EWS dates, SMTP AUTH basic-auth retirement), read from `exchange.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from mailoauth.base import yamlio


@dataclass(frozen=True)
class ExchangeOnline:
    service_plans: dict[str, str]  # servicePlanId (lower case) -> service plan string id
    ews_blocked: date  # blocked unless the tenant allow-lists the app
    ews_shutdown: date
    smtp_basic_auth_notice: str  # the Message Center id
    smtp_basic_auth_off: str  # when basic auth for SMTP AUTH is off by default, as Microsoft words it


@cache
def exchange_online() -> ExchangeOnline:
    raw = yamlio.load(
        resources.files("mailoauth.desired").joinpath("exchange.yaml").read_text(encoding="utf-8"), "exchange.yaml"
    )
    return ExchangeOnline(
        service_plans={str(k).lower(): str(v) for k, v in raw["servicePlans"].items()},
        ews_blocked=raw["ews"]["blocked"],
        ews_shutdown=raw["ews"]["shutdown"],
        smtp_basic_auth_notice=raw["smtpBasicAuth"]["notice"],
        smtp_basic_auth_off=raw["smtpBasicAuth"]["offByDefault"],
    )
