"""JSON batching (POST /$batch): up to 20 requests per HTTP round trip, with per-step retries.

msgraph-core's own batch classes are not used: in msgraph-core 1.5 they import a package it does
not declare (`deprecated`) and send absolute step URLs, which Graph rejects (msgraph-sdk-python-core
#1116). Steps are built from the SDK's request builders, sent through the same client (token,
retry middleware), and each step's body is deserialised into the SDK's model type.

Graph answers throttled steps inside a 200 batch with their own 429/503 and Retry-After; those
steps are sent again (in a new batch) after the longest Retry-After, up to `Retry.max_retries`.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailoauth.graph.errors import GraphError, refused
from mailoauth.graph.session import GraphSession, query_config, relative_url, request_info_url

MAX_STEPS = 20
# Graph's advanced query capabilities (OData casts, $search, some $filter) need this header and `count=True`
# (learn.microsoft.com/graph/aad-advanced-queries); every page of such a query carries the header.
ADVANCED_QUERY = {"ConsistencyLevel": "eventual"}
RETRY_STATUSES = (429, 503, 504)
MAX_WAIT = 120.0


@dataclass
class Step:
    """One request of a batch: a kiota RequestInformation, the model type of its body, and (for
    collections) the request builder that follows @odata.nextLink."""

    request: Any
    parse: Any = None  # a Parsable class (ApplicationCollectionResponse, ...), `dict` for plain JSON, None: no body
    builder: Any = None
    tag: Any = None  # caller's label, handed back in the result

    @classmethod
    def get(
        cls, builder: Any, parse: Any, tag: Any = None, headers: Mapping[str, str] | None = None, **query: Any
    ) -> Step:
        """A GET through a request builder with OData options (`filter=`, `select=`, `top=`, `count=`) and
        request headers (`ADVANCED_QUERY` for Graph's advanced queries)."""
        info = builder.to_get_request_information(query_config(builder, **query))
        for name, value in (headers or {}).items():
            info.headers.add(name, value)
        return cls(info, parse, builder, tag)


@dataclass
class StepResult:
    step: Step
    status: int
    value: Any = None  # the body as an SDK model or dict (the first page, for collections)
    items: list[Any] = field(default_factory=list)  # every item of every page, for collections
    error: GraphError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def run_batch(session: GraphSession, steps: Sequence[Step]) -> list[StepResult]:
    """Results in the order of `steps`; a failed step carries its GraphError instead of raising."""
    results: dict[int, StepResult] = {}
    pending = list(range(len(steps)))
    for attempt in range(session.retry.max_retries + 1):
        throttled: list[tuple[int, float]] = []
        for start in range(0, len(pending), MAX_STEPS):
            chunk = pending[start : start + MAX_STEPS]
            answers = await _post(session, {i: steps[i] for i in chunk})
            for i in chunk:
                answer = answers.get(str(i)) or {"status": 500, "body": {"error": {"code": "missing"}}}
                if answer.get("status") in RETRY_STATUSES and attempt < session.retry.max_retries:
                    throttled.append((i, _retry_after(answer, session.retry.delay)))
                else:
                    results[i] = await _result(session, steps[i], answer)
        if not throttled:
            break
        await asyncio.sleep(min(MAX_WAIT, max(wait for _, wait in throttled)))
        pending = [i for i, _ in throttled]
    return [results[i] for i in range(len(steps))]


def step_json(session: GraphSession, key: str, step: Step) -> dict[str, Any]:
    info = step.request
    method = getattr(info.http_method, "value", info.http_method)
    out: dict[str, Any] = {
        "id": key,
        "method": str(method).upper(),
        "url": relative_url(request_info_url(info, session.target.api_url), session.target.api_url),
    }
    headers = {k: v for k, v in (info.request_headers or {}).items() if k.lower() != "accept"}
    if info.content:
        out["body"] = json.loads(info.content)
        headers.setdefault("Content-Type", "application/json")
    if headers:
        out["headers"] = headers
    return out


async def _post(session: GraphSession, steps: dict[int, Step]) -> dict[str, dict[str, Any]]:
    """One POST /$batch; the answers by step id."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation

    payload = {"requests": [step_json(session, str(i), step) for i, step in steps.items()]}
    info = RequestInformation(Method.POST, "{+baseurl}/$batch")
    info.path_parameters["baseurl"] = session.target.api_url
    info.set_stream_content(json.dumps(payload).encode(), "application/json")
    answer = await session.send_json(info, "POST", "/$batch")
    try:
        return {str(r["id"]): r for r in answer["responses"]}
    except (KeyError, TypeError) as exc:
        raise GraphError(f"Microsoft Graph sent a malformed response to POST /$batch: missing {exc}") from None


def _retry_after(answer: dict[str, Any], fallback: float) -> float:
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return fallback


async def _result(session: GraphSession, step: Step, answer: dict[str, Any]) -> StepResult:
    status = int(answer.get("status") or 0)
    method = str(getattr(step.request.http_method, "value", step.request.http_method)).upper()
    path = session.path_of(step.request)
    try:
        body = _body(answer.get("body"))
    except ValueError as exc:
        return StepResult(
            step, status, error=GraphError(f"Microsoft Graph sent a malformed response to {method} {path}: {exc}")
        )
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {"code": error}
        code, message = str(error.get("code") or "error"), str(error.get("message") or "")
        return StepResult(step, status, error=refused(method, path, status, code, message, session.principal.kind))
    if step.parse is None or body is None:
        return StepResult(step, status)
    value = body if step.parse is dict else _parse(body, step.parse)
    paged = (isinstance(value, dict) and "value" in value) or hasattr(value, "odata_next_link")
    items = await session.rest_of(step.builder, value, dict(step.request.request_headers or {})) if paged else []
    return StepResult(step, status, value, items)


def _body(body: Any) -> Any:
    """A step body: JSON inline, or base64 of JSON when Graph could not embed it."""
    if isinstance(body, str):
        return json.loads(base64.b64decode(body, validate=True))
    return body


def _parse(body: Any, parse: Any) -> Any:
    from kiota_serialization_json.json_parse_node import JsonParseNode

    return JsonParseNode(body).get_object_value(parse)
