"""Secret lifecycle: lifetimes, which slots a rotation keeps, and the expiry report across stacks.

Pure functions over the desired state (no YAML writing, no Pulumi), shared by `secrets rotate`,
`secrets retire` and `secrets report`. An app holds at most two slots, so a rotation adds a slot
next to the one in use and the downstream app can switch before the old one goes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mailoauth.base.style import count, paint
from mailoauth.desired.model import App, SecretSlot, Stack
from mailoauth.guardrails.rules import MAX_SECRET_MONTHS, add_months

MAX_SLOTS = 2
DURATION = re.compile(r"^\s*(?P<count>[0-9]{1,4})\s*(?P<unit>[dwmy])\s*$")
LONGEST = {"d": 36525, "w": 5218, "m": 1200, "y": 100}  # 100 years per unit: later dates overflow the calendar


@dataclass(frozen=True)
class Duration:
    """A span such as 90d, 6w, 12m or 1y; months and years are calendar months from a given day."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: str, shortest: int = 1) -> Duration:
        """`shortest` 0 allows a zero span (a report window of 0d: what has expired by today)."""
        match = DURATION.match(text)
        if not match or int(match["count"]) < shortest:
            raise ValueError(f"'{text}' is not a duration; use a number and d, w, m or y (90d, 6m, 12m, 1y)")
        count, unit = int(match["count"]), match["unit"]
        if count > LONGEST[unit]:
            raise ValueError(f"'{text}' is longer than 100 years; at most {LONGEST[unit]}{unit}")
        return cls(count, unit)

    def after(self, day: date) -> date:
        if self.unit == "d":
            return day + timedelta(days=self.count)
        if self.unit == "w":
            return day + timedelta(weeks=self.count)
        return add_months(day, self.count * (12 if self.unit == "y" else 1))

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


class RotationError(ValueError):
    """The requested rotation cannot be expressed in the stack file (the message says why and what to do)."""


def new_expiry(lifetime: Duration, today: date) -> date:
    """Expiry of a slot created today; longer than Entra's 24 months is refused."""
    expires = lifetime.after(today)
    limit = add_months(today, MAX_SECRET_MONTHS)
    if expires > limit:
        raise RotationError(
            f"--lifetime {lifetime}: a secret may live at most {MAX_SECRET_MONTHS} months (until "
            f"{limit.isoformat()}), Entra's limit; Microsoft recommends 12m or less"
        )
    return expires


@dataclass(frozen=True)
class Rotation:
    """What one rotation does to an app's slots (indices are positions in the stack file)."""

    app: str
    drop: tuple[int, ...]
    add: SecretSlot | None


def rotate(app: App, expires: date, today: date, description: str | None = None, drop_oldest: bool = False) -> Rotation:
    """Add a slot expiring on `expires` and drop expired slots. A slot that has not expired is dropped only
    with `drop_oldest` (two valid slots are already there): the mail handler may still use it. An adopted
    slot is dropped from the file without asking: `pulumi up` never deletes it from Entra ID."""
    live = sorted((i for i, s in enumerate(app.secrets) if s.expires > today), key=lambda i: app.secrets[i].expires)
    keep = live[-(MAX_SLOTS - 1) :]
    newest = app.newest_secret
    if expires <= newest.expires:
        raise RotationError(
            f"app {app.key}: the new secret would expire on {expires.isoformat()}, not after the newest slot "
            f"'{newest.name}' (expires {newest.expires.isoformat()}); choose a longer --lifetime"
        )
    valid_dropped = [app.secrets[i] for i in live if i not in keep and not app.secrets[i].adopted]  # adopted: stays
    if valid_dropped and not drop_oldest:
        raise RotationError(still_valid(app, valid_dropped[0], app.secrets[keep[0]], today))
    slot = SecretSlot(f"secret-{expires.isoformat()}", description or newest.description, expires)
    return Rotation(app.key, tuple(i for i in range(len(app.secrets)) if i not in keep), slot)


def still_valid(app: App, oldest: SecretSlot, kept: SecretSlot, today: date) -> str:
    """Why a rotation that would remove a slot still in its lifetime is refused, and the two ways on."""
    return (
        f"app {app.key} already has {MAX_SLOTS} valid secret slots, and a new one would remove '{oldest.name}' "
        f"(expires {oldest.expires.isoformat()}, {(oldest.expires - today).days} days left), which the mail handler "
        f"may still use; once it uses '{kept.name}', run `mailoauth secrets retire` first, or pass --drop-oldest "
        "to remove it in this rotation"
    )


def retire(app: App) -> Rotation:
    """Keep only the newest slot: the step after the downstream app has switched to it."""
    newest = app.secrets.index(app.newest_secret)
    return Rotation(app.key, tuple(i for i in range(len(app.secrets)) if i != newest), None)


def describe(rotation: Rotation, slots: tuple[SecretSlot, ...]) -> list[str]:
    """One line per change, for the command's output."""
    gone = [slots[i] for i in rotation.drop]
    lines = [f"- {rotation.app}: removed slot '{s.name}' (expires {s.expires.isoformat()}){_kept(s)}" for s in gone]
    if rotation.add:
        lines.append(f"+ {rotation.app}: added slot '{rotation.add.name}' (expires {rotation.add.expires.isoformat()})")
    return lines


def _kept(slot: SecretSlot) -> str:
    """An adopted secret is not deleted by pulumi up: say where it still is."""
    if not slot.adopted:
        return ""
    return (
        f"; it was adopted (keyId {slot.key_id}), so it stays in Entra ID until you delete it in the portal "
        "(Certificates & secrets) once nothing uses it"
    )


@dataclass(frozen=True)
class SlotReport:
    """One secret slot as the expiry report shows it."""

    stack: str
    file: str
    app: str
    slot: SecretSlot
    days_left: int
    due: bool  # expires within the window, or has expired
    action: str | None  # what fixes it: rotate (add a slot), retire (drop the old one), or nothing

    @property
    def status(self) -> str:
        return "expired" if self.days_left <= 0 else ("expiring" if self.due else "ok")


def _action(app: App, slot: SecretSlot, today: date, window_end: date) -> str | None:
    """`rotate` when the app's newest slot is due and is its only valid one; else `retire` the older slots
    (a rotation never removes a valid slot on its own, so retire comes first and rotate on the next run)."""
    if slot.expires > window_end:
        return None
    if app.newest_secret.expires > window_end:
        return "retire"
    return "retire" if sum(s.expires > today for s in app.secrets) >= MAX_SLOTS else "rotate"


def report_rows(stacks: dict[str, Stack], today: date, window_end: date) -> list[SlotReport]:
    """Every slot of every stack, expired and expiring first (fewest days left first)."""
    rows = [
        SlotReport(
            stack.name,
            stack.file,
            app.key,
            slot,
            (slot.expires - today).days,
            slot.expires <= window_end,
            _action(app, slot, today, window_end),
        )
        for stack in stacks.values()
        for app in stack.apps.values()
        for slot in app.secrets
    ]
    return sorted(rows, key=lambda r: (r.days_left, r.stack, r.app, r.slot.name))


def actions(rows: list[SlotReport]) -> list[dict[str, str]]:
    """One command per app that needs one, in report order (an app's slots share one action)."""
    chosen = {(r.stack, r.app): r.action for r in rows if r.action}
    return [{"stack": stack, "app": app, "action": action} for (stack, app), action in chosen.items()]


def report_document(rows: list[SlotReport], today: date, window: Duration, window_end: date) -> dict[str, Any]:
    """The JSON contract of `secrets report --format json` (no secret values: the files hold none)."""
    return {
        "today": today.isoformat(),
        "within": str(window),
        "windowEnd": window_end.isoformat(),
        "due": sum(r.due for r in rows),
        "expired": sum(r.status == "expired" for r in rows),
        "secrets": [
            {
                "stack": r.stack,
                "file": r.file,
                "app": r.app,
                "slot": r.slot.name,
                "description": r.slot.description,
                "expires": r.slot.expires.isoformat(),
                "daysLeft": r.days_left,
                "status": r.status,
                "action": r.action,
            }
            for r in rows
        ],
        "actions": actions(rows),
    }


def summary_line(doc: dict[str, Any]) -> str:
    stacks = len({s["stack"] for s in doc["secrets"]})
    return (
        f"{count(len(doc['secrets']), 'secret')} in {count(stacks, 'stack')}: {doc['expired']} expired, "
        f"{doc['due'] - doc['expired']} expiring by {doc['windowEnd']} (within {doc['within']} of {doc['today']})"
    )


def command_lines(doc: dict[str, Any]) -> list[str]:
    return [f"mailoauth secrets {a['action']} --stack {a['stack']} --app {a['app']}" for a in doc["actions"]]


COLUMNS = (
    ("expires", "EXPIRES"),
    ("daysLeft", "DAYS LEFT"),
    ("status", "STATUS"),
    ("stack", "STACK"),
    ("app", "APP"),
    ("slot", "SLOT"),
    ("action", "ACTION"),
)


def _cells(entry: dict[str, Any]) -> list[str]:
    return [str(entry[key]) if entry[key] is not None else "-" for key, _ in COLUMNS]


# Each column's alignment (days right-aligned, the rest left), and where the status column is (coloured on a terminal).
ALIGN = tuple(str.rjust if key == "daysLeft" else str.ljust for key, _ in COLUMNS)
STATUS = [key for key, _ in COLUMNS].index("status")


def _line(row: list[str], widths: list[int], colour: bool) -> str:
    cells = [align(cell, width) for cell, width, align in zip(row, widths, ALIGN, strict=True)]
    if colour:
        cells[STATUS] = paint(cells[STATUS], row[STATUS], True)
    return "  ".join(cells).rstrip()


def render_text(doc: dict[str, Any], colour: bool = False) -> str:
    table = [[title for _, title in COLUMNS], *(_cells(s) for s in doc["secrets"])]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = [_line(row, widths, colour) for row in table]
    todo = command_lines(doc)
    lines += ["", summary_line(doc)] + (["", "to fix:", *(f"  {c}" for c in todo)] if todo else [])
    return "\n".join(lines) + "\n"


def render_markdown(doc: dict[str, Any]) -> str:
    out = [f"**{summary_line(doc)}**", ""]
    out += ["| " + " | ".join(t.lower() for _, t in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(_cells(s)) + " |" for s in doc["secrets"]]
    todo = command_lines(doc)
    if todo:
        out += ["", "To fix, run and open a pull request:", "", "```sh", *todo, "```"]
    return "\n".join(out) + "\n"
