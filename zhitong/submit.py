"""File a grievance from the CLI: through intake's HTTP API, or straight onto ``zt:intake``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from redis.asyncio import Redis

from shared import codec
from shared.events import GrievanceIn, StreamGrievanceIn
from shared.redis.client import as_text
from shared.streams import Keys


class SubmitError(Exception):
    """Raise when a submission is invalid or refused; the message is one line for people."""


def read_body(file: Path | None, flags: dict[str, Any]) -> dict[str, Any]:
    """Return the grievance body: ``file``'s JSON object with the given flags laid over it."""
    body: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SubmitError(f"cannot read {file}: {exc.strerror}") from exc
        except ValueError as exc:
            raise SubmitError(f"{file} is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SubmitError(f"{file} must hold one JSON object (a grievance)")
        body = loaded
    worker = dict(body.get("worker") or {})
    for key in ("id", "name", "phone", "industry", "platform", "region", "station"):
        value = flags.pop(f"worker_{key}", None)
        if value is not None:
            worker[key] = value
    if worker:
        body["worker"] = worker
    body.update({k: v for k, v in flags.items() if v is not None})
    return body


def _field_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(body)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def validate(body: dict[str, Any], *, stream: bool) -> None:
    """Raise ``SubmitError`` listing every field error, before anything is published."""
    model = StreamGrievanceIn if stream else GrievanceIn
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise SubmitError(f"invalid grievance: {_field_errors(exc)}") from exc


async def to_stream(client: Redis, keys: Keys, body: dict[str, Any]) -> str:
    """XADD ``body`` (which names its ``source``) to ``zt:intake``; return the entry id."""
    validate(body, stream=True)
    return as_text(await client.xadd(keys.intake, codec.fields(body)))


def to_http(url: str, key: str, body: dict[str, Any], timeout_s: float = 10.0) -> dict[str, Any]:
    """POST ``body`` to intake's ``/v1/grievances``; return its reply (id, tracking_no…)."""
    validate(body, stream=False)
    endpoint = url.rstrip("/") + "/v1/grievances"
    try:
        reply = httpx.post(
            endpoint, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s
        )
    except httpx.HTTPError as exc:
        raise SubmitError(f"cannot reach {endpoint}: {exc}") from exc
    if reply.status_code not in (200, 202):
        try:
            detail = reply.json().get("message") or reply.json().get("detail")
        except ValueError:
            detail = reply.text
        raise SubmitError(f"intake refused the grievance ({reply.status_code}): {detail}")
    result: dict[str, Any] = reply.json()
    return result
