"""The result of `mailoauth verify`: one row per step with pass/fail/skip, as a table or JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def render_text(self) -> str:
        lines = [
            f"verify stack {self.stack}, app {self.app}: client {self.client_id}, tenant {self.tenant_id} "
            f"({self.cloud}); credentials from {self.credentials}",
            "",
        ]
        width = max((len(s.name) for s in self.steps), default=4)
        lines.append(f"{'step':<{width}}  result  detail")
        for s in self.steps:
            lines.append(f"{s.name:<{width}}  {s.status.upper():<6}  {s.detail}")
            if s.explanation:
                pad = " " * (width + 10)
                e = s.explanation
                lines += [f"{pad}means:  {e.meaning}", f"{pad}fix:    {e.fix}", f"{pad}source: {e.reference}"]
        lines += ["", *(f"note: {n}" for n in self.notes), f"refresh token: {self.refresh_token}"]
        failed = sum(s.status == FAIL for s in self.steps)
        lines.append(f"result: {'all steps passed' if not failed else f'{failed} of {len(self.steps)} step(s) failed'}")
        return "\n".join(lines) + "\n"
