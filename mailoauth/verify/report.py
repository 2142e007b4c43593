"""The result of `mailoauth verify`: one row per step with pass/fail/skip, as a table or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailoauth.base.style import count, paint
from mailoauth.verify.explain import Explanation

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class ReportStep:
    name: str
    status: str
    detail: str
    explanation: Explanation | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status,
            "detail": self.detail,
            "explanation": self.explanation.as_json() if self.explanation else None,
        }


@dataclass
class VerifyReport:
    stack: str
    app: str
    client_id: str
    tenant_id: str
    cloud: str
    credentials: str  # where the client id and secret came from
    flow: str = ""
    mailbox: str | None = None
    refresh_token: str = "none obtained"
    notes: list[str] = field(default_factory=list)
    steps: list[ReportStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status != FAIL for s in self.steps)

    def add(self, step: ReportStep) -> ReportStep:
        self.steps.append(step)
        return step

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "stack": self.stack,
            "app": self.app,
            "clientId": self.client_id,
            "tenantId": self.tenant_id,
            "cloud": self.cloud,
            "credentials": self.credentials,
            "flow": self.flow,
            "mailbox": self.mailbox,
            "refreshToken": self.refresh_token,
            "notes": self.notes,
            "steps": [s.as_json() for s in self.steps],
        }

    def render_text(self, colour: bool = False) -> str:
        lines = [
            f"verify stack {self.stack}, app {self.app}: client {self.client_id}, tenant {self.tenant_id} "
            f"({self.cloud}); credentials from {self.credentials}",
            "",
        ]
        width = max((len(s.name) for s in self.steps), default=4)
        lines.append(f"{'step':<{width}}  result  detail")
        for s in self.steps:
            lines.append(f"{s.name:<{width}}  {paint(f'{s.status.upper():<6}', s.status, colour)}  {s.detail}")
            if s.explanation:
                pad = " " * (width + 10)
                e = s.explanation
                lines += [f"{pad}means:  {e.meaning}", f"{pad}fix:    {e.fix}", f"{pad}source: {e.reference}"]
        lines += ["", *(f"note: {n}" for n in self.notes), f"refresh token: {self.refresh_token}"]
        lines.append(f"result: {self.result}")
        return "\n".join(lines) + "\n"

    @property
    def result(self) -> str:
        failed = sum(s.status == FAIL for s in self.steps)
        return f"{failed} of {count(len(self.steps), 'step')} failed" if failed else "all steps passed"

    def render_markdown(self) -> str:
        out = [
            f"**mailoauth verify** stack `{self.stack}`, app `{self.app}`: {self.result}",
            "",
            f"client `{self.client_id}`, tenant `{self.tenant_id}` ({self.cloud}); credentials from {self.credentials}",
            "",
            "| step | result | detail |",
            "|---|---|---|",
            *(f"| {s.name} | {_badge(s.status)} | {_cell(s.detail)} |" for s in self.steps),
        ]
        for s in self.steps:
            if s.explanation:
                e = s.explanation
                out += ["", f"**{s.name}: {e.code}**", "", f"- means: {e.meaning}", f"- fix: {e.fix}"]
                out.append(f"- source: {e.reference}")
        out += ["", *(f"- note: {n}" for n in self.notes), f"- refresh token: {self.refresh_token}"]
        return "\n".join(out) + "\n"


BADGES = {PASS: ":white_check_mark: pass", FAIL: ":x: **fail**", SKIP: ":fast_forward: skip"}


def _badge(status: str) -> str:
    return BADGES.get(status, status)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
