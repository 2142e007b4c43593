"""How GitHub Actions decides which jobs of a workflow run, for the subset of expressions our workflows use.

A job runs when its `if:` holds; without a status function (`always()`, `success()`, `failure()`,
`cancelled()`) in it, GitHub adds `success()`: every job it needs succeeded. A job that does not run
is "skipped", and a skipped required check counts as passed: that is what these helpers let a test see.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

STATUS_FUNCTIONS = re.compile(r"\b(always|success|failure|cancelled)\(\)")
CONTEXT = re.compile(r"\bneeds\.([\w-]+)\.(result|outputs\.([\w-]+))")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
Outputs = Mapping[str, Mapping[str, str]]


def evaluate(expression: str, results: Mapping[str, str], outputs: Outputs, needs: list[str]) -> Any:
    """An `if:` or `${{ }}` expression made of needs contexts, string literals, ==, !=, &&, || and !."""

    def context(match: re.Match[str]) -> str:
        job, field, output = match.groups()
        return repr(results.get(job, "") if field == "result" else outputs.get(job, {}).get(output, ""))

    python = CONTEXT.sub(context, expression)
    python = python.replace("&&", " and ").replace("||", " or ")
    python = re.sub(r"!(?!=)", " not ", python)
    python = python.replace("always()", "True")
    python = python.replace("success()", repr(all(results.get(n) == "success" for n in needs)))
    python = python.replace("failure()", repr(any(results.get(n) == "failure" for n in needs)))
    python = python.replace("cancelled()", "False")
    return eval(python, {"__builtins__": {}})  # only what the substitutions above produced


def job_runs(job: dict[str, Any], results: Mapping[str, str], outputs: Outputs) -> bool:
    condition = str(job.get("if", "success()"))
    if not STATUS_FUNCTIONS.search(condition):
        condition = f"success() && ({condition})"
    return bool(evaluate(condition, results, outputs, needs_of(job)))


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def run_shell_step(step: dict[str, Any], job: dict[str, Any], results: Mapping[str, str], outputs: Outputs) -> str:
    """Run a `run:` step with its `env:` expressions filled in; 'success' or 'failure'."""

    def fill(match: re.Match[str]) -> str:
        return str(evaluate(match.group(1), results, outputs, needs_of(job)))

    env = {name: EXPRESSION.sub(fill, value) for name, value in step.get("env", {}).items()}
    done = subprocess.run(["bash", "-e", "-c", step["run"]], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True)
    return "success" if done.returncode == 0 else "failure"


def simulate(
    jobs: dict[str, dict[str, Any]],
    results: dict[str, str],
    outputs: Outputs,
    decide: Callable[[str, dict[str, str]], str],
) -> dict[str, str]:
    """The result of every job not in `results`, in file order: 'skipped' when its condition fails,
    else what `decide(job_name, results so far)` says (a shell-only job may be run with `run_shell_step`)."""
    results = dict(results)
    for name, job in jobs.items():
        if name not in results:
            results[name] = decide(name, results) if job_runs(job, results, outputs) else "skipped"
    return results
