"""Fleets of stacks on GitHub Actions: the job list, each stack's sign-in target, the nightly report.

- `job_list` splits any number of stacks into chunks of at most one matrix's worth of jobs (GitHub
  runs at most `matrixJobs` jobs per matrix, `github.yaml`). The deploy and nightly workflows run
  a matrix over the chunks, one chunk at a time, and each chunk runs a matrix over its stacks with a
  bounded number at once: one job per stack, so each keeps its GitHub environment and lock.
- `deployer_client_id` picks the client id a stack's deploy signs in with, for the tenant its stack
  file names (`deployers.yaml`, or the stack's GitHub environment).
- `merge_reports` turns the per-stack outputs of `audit` and `secrets report` into one document.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mailoauth.base import yamlio
from mailoauth.base.problems import InvalidInput, Problems
from mailoauth.base.style import count, word
from mailoauth.base.tree import Tree
from mailoauth.desired.model import GUID_PATTERN

DEPLOYERS_FILE = "deployers.yaml"
MARKDOWN_ROWS = 100  # stacks listed in a job summary or issue; the JSON holds every one
CELL_TEXT = 400  # characters of one table cell (an issue body holds at most 65,536)
GUID = re.compile(GUID_PATTERN)
CLIENT_ID = "expected the deployer app's client id (a GUID)"


@cache
def matrix_limit() -> int:
    """The most jobs one GitHub Actions matrix generates (github.yaml, with its source)."""
    text = resources.files("mailoauth.review").joinpath("github.yaml").read_text(encoding="utf-8")
    return int(yamlio.load(text, "github.yaml")["matrixJobs"]["value"])


def job_list(stacks: list[str], chunk_size: int | None = None) -> list[dict[str, Any]]:
    """Stacks in chunks of at most one matrix each; at most one matrix of chunks (limit x limit stacks)."""
    limit = matrix_limit()
    size = chunk_size or limit
    if not 1 <= size <= limit:
        raise ValueError(f"a chunk holds 1 to {limit} stacks (one GitHub matrix); got {size}")
    if math.ceil(len(stacks) / size) > limit:
        raise ValueError(
            f"{len(stacks)} stacks need more than {limit} chunks of {size}; the workflows run at most "
            f"{limit * limit} stacks a run: split the repository"
        )
    total = len(stacks)
    return [
        {"name": f"stacks {i + 1}-{min(i + size, total)} of {total}", "stacks": stacks[i : i + size]}
        for i in range(0, total, size)
    ]


@dataclass(frozen=True)
class Deployers:
    """Deployer client id per tenant (`tenants:`), and one for every other tenant (`default:`)."""

    tenants: dict[str, str]
    default: str | None = None


def load_deployers(tree: Tree) -> Deployers | None:
    """deployers.yaml, checked; None when the project has none."""
    text = tree.read_text(DEPLOYERS_FILE)
    if text is None:
        return None
    found = Problems(DEPLOYERS_FILE)
    doc = yamlio.load(text, DEPLOYERS_FILE)
    if not isinstance(doc, dict):
        found.error((), "expected a mapping with 'tenants:' and/or 'default:'", doc)
        doc = {}
    for key in doc:
        if key not in ("tenants", "default"):
            found.error((key,), "unknown key", hint="keys: tenants (tenant GUID: client id), default (client id)")
    tenants = doc.get("tenants") or {}
    if not isinstance(tenants, dict):
        found.error(("tenants",), "expected a mapping of tenant GUID to the deployer's client id", tenants)
        tenants = {}
    for tenant, client in tenants.items():
        if not _is_guid(tenant):
            found.error(("tenants", tenant), "expected a tenant GUID as the key", tenant)
        elif not _is_guid(client):
            found.error(("tenants", tenant), CLIENT_ID, client)
    if "default" in doc and not _is_guid(doc["default"]):
        found.error(("default",), CLIENT_ID, doc["default"])
    if found.errors:
        raise InvalidInput(yamlio.with_lines(found.items, text))
    default = doc.get("default")
    return Deployers({str(t).lower(): str(c).lower() for t, c in tenants.items()}, default and str(default).lower())


def _is_guid(value: Any) -> bool:
    return isinstance(value, str) and GUID.match(value) is not None


def deployer_client_id(
    tenant: str, deployers: Deployers | None, environment_client_id: str | None, stack_client_id: str | None = None
) -> str | None:
    """The client id to sign in with: the stack file's own `azuread:clientId` (the provider would use it
    anyway), else deployers.yaml's entry for the tenant, else the stack's GitHub environment's, else
    deployers.yaml's default; None when none is known."""
    if stack_client_id:
        return stack_client_id
    if deployers and tenant in deployers.tenants:
        return deployers.tenants[tenant]
    return environment_client_id or (deployers.default if deployers else None)


def render_jobs(stacks: list[str], chunks: list[dict[str, Any]], affected: dict[str, Any]) -> str:
    """Markdown for the deploy's job summary: what runs and why, and the removed stacks left standing."""
    lines = [f"## mailoauth: {count(len(stacks), 'stack')} to run in {count(len(chunks), 'chunk')}", ""]
    why = {e["stack"]: e.get("reasons", []) for e in affected["stacks"]}
    if why:
        lines += ["| stack | why |", "|---|---|"]
        lines += [
            f"| {_cell(f'`{n}`')} | {_cell(', '.join(_reason(r) for r in why[n]))} |" for n in stacks[:MARKDOWN_ROWS]
        ]
        if len(stacks) > MARKDOWN_ROWS:
            lines.append(f"| ... | and {len(stacks) - MARKDOWN_ROWS} more |")
    for entry in affected["removed"]:
        lines += [
            "",
            f"**`{entry['stack']}` was removed from stacks/ and is not destroyed.** Its registrations stay in "
            f"the tenant until someone runs `pulumi destroy --stack {entry['stack']}` and removes the stack.",
        ]
    return "\n".join(lines) + "\n"


def render_jobs_text(chunks: list[dict[str, Any]], removed: list[dict[str, Any]]) -> str:
    """The job list for a person: one line per chunk, then the removed stacks."""
    total = sum(len(c["stacks"]) for c in chunks)
    lines = [f"{count(total, 'stack')} in {count(len(chunks), 'chunk')}"]
    lines += [f"  {c['name']}: {', '.join(c['stacks'])}" for c in chunks]
    lines += [f"removed (not destroyed): {e['stack']}" for e in removed]
    return "\n".join(lines) + "\n"


def _reason(r: dict[str, Any]) -> str:
    kind = {"stack": "its stack file", "policy": "the policy file"}.get(r.get("kind", ""))
    if kind:
        return kind
    return f"{r.get('kind')} {r.get('name')}" if r.get("name") else str(r.get("kind"))


# The nightly report: each stack's job leaves, in a folder named after the stack, for each check
# (`audit`, `secrets`): CHECK.json (the command's --format json output), CHECK.exit (its exit status)
# and CHECK.err (its standard error). A check whose files are missing or unreadable is an error:
# a crashed or cancelled job never reads as "nothing to report".
CHECKS = ("audit", "secrets")
ERROR_TEXT = 300  # characters of a check's standard error quoted in the report


@dataclass(frozen=True)
class StackReport:
    stack: str
    drift: list[dict[str, str]]
    secrets: list[dict[str, Any]]
    errors: list[dict[str, str]]

    @property
    def needs_attention(self) -> bool:
        return bool(self.drift or self.secrets or self.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": "attention" if self.needs_attention else "ok",
            "drift": self.drift,
            "secrets": self.secrets,
            "errors": self.errors,
        }


def merge_reports(folder: Path, stacks: list[str]) -> dict[str, Any]:
    """One document over `stacks` (every stack the run should have checked), worst first."""
    reports = [_stack_report(folder / name, name) for name in stacks]
    known = set(stacks)
    found = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    unexpected = sorted(n for n in found if n not in known)
    reports.sort(key=lambda r: (not r.errors, not r.needs_attention, r.stack))
    return {
        "stacks": len(reports),
        "needsAttention": sum(r.needs_attention for r in reports),
        "counts": {
            "drift": sum(bool(r.drift) for r in reports),
            "secretsDue": sum(bool(r.secrets) for r in reports),
            "errors": sum(bool(r.errors) for r in reports),
        },
        "unexpected": unexpected,
        "results": [r.as_json() for r in reports],
    }


def _stack_report(folder: Path, stack: str) -> StackReport:
    errors: list[dict[str, str]] = []
    docs: dict[str, Any] = {}
    for check in CHECKS:
        doc, error = _check_output(folder, check)
        if error:
            errors.append({"check": check, "message": error})
        else:
            docs[check] = doc
    drift = [
        {"app": key, **finding}
        for key, app in (docs.get("audit") or {}).get("apps", {}).items()
        for finding in app.get("findings", [])
    ]
    due = [s for s in (docs.get("secrets") or {}).get("secrets", []) if s.get("status") in ("expired", "expiring")]
    return StackReport(stack, drift, [_slot(s) for s in due], errors)


def _slot(s: dict[str, Any]) -> dict[str, Any]:
    keep = ("app", "slot", "expires", "daysLeft", "status", "action")
    return {k: s.get(k) for k in keep}


def _check_output(folder: Path, check: str) -> tuple[Any, str | None]:
    """A check's JSON document, or why there is none (missing, crashed, unreadable)."""
    try:
        status = int((folder / f"{check}.exit").read_text().strip())
    except FileNotFoundError:
        return None, f"no result: the {check} step did not finish (cancelled, timed out or never run)"
    except ValueError:
        return None, f"{check}.exit does not hold an exit status"
    if status not in (0, 1):
        return None, f"exit {status}: {_stderr(folder / f'{check}.err')}"
    try:
        return json.loads((folder / f"{check}.json").read_text(encoding="utf-8")), None
    except (OSError, ValueError) as exc:
        return None, f"exit {status} but its JSON output cannot be read ({type(exc).__name__})"


def _stderr(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "no error output"
    last = text.splitlines()[-1] if text else "no error output"
    return last if len(last) <= ERROR_TEXT else last[: ERROR_TEXT - 3] + "..."


def render_markdown(doc: dict[str, Any], title: str = "mailoauth fleet report") -> str:
    """The job summary and the issue body: a headline, then one row per stack that needs a person."""
    n, c = doc["needsAttention"], doc["counts"]
    lines = [f"## {title}", ""]
    if not n:
        lines.append(f"All {count(doc['stacks'], 'stack')} clean: no drift, no secret due, no error.")
    else:
        lines.append(
            f"**{n} of {count(doc['stacks'], 'stack')} {word(n, 'needs', 'need')} a person**: {c['drift']} drifted, "
            f"{c['secretsDue']} with secrets due, {c['errors']} could not be checked."
        )
        lines += ["", "| stack | drift | secrets due | errors |", "|---|---|---|---|"]
        attention = [r for r in doc["results"] if r["status"] == "attention"]
        lines += [_row(r) for r in attention[:MARKDOWN_ROWS]]
        if len(attention) > MARKDOWN_ROWS:
            lines += [
                "",
                f"... and {count(len(attention) - MARKDOWN_ROWS, 'more stack', 'more stacks')}: see the JSON artifact.",
            ]
    if doc["unexpected"]:
        lines += ["", f"Reports for stacks not in this run were ignored: {', '.join(doc['unexpected'])}."]
    return "\n".join(lines) + "\n"


def _row(r: dict[str, Any]) -> str:
    drift = "<br>".join(f"{d['app']}: {d['message']}" for d in r["drift"])
    secrets = "<br>".join(f"{s['app']}/{s['slot']}: {s['status']} {s['expires']}" for s in r["secrets"])
    errors = "<br>".join(f"{e['check']}: {e['message']}" for e in r["errors"])
    return "| " + " | ".join(_cell(v) for v in (f"`{r['stack']}`", drift, secrets, errors)) + " |"


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ") or "-"
    return text if len(text) <= CELL_TEXT else text[: CELL_TEXT - 3] + "..."
