"""``/console``: a read-only status page for the people who watch the service.

The page itself (``static/console.html`` + a small script, no build step) is public and
holds no data.  Its numbers come from ``GET /console/data``, which needs an oversight key
with the ``read`` scope (it lists every open grievance): the page asks for it once and
keeps it in ``sessionStorage`` (gone when the tab closes).  The data carries no personal
details — ids, tracking numbers, units, states, deadlines and the KPIs of ``shared.stats``
(the same numbers as ``GET /v1/stats``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import FileResponse, JSONResponse
from redis.asyncio import Redis

from services.intake.auth import OVERSIGHT_ONLY, KeyRing
from shared import stats, views
from shared.i18n import DEFAULT_LOCALE, TABLES
from shared.redis.client import as_text
from shared.streams import PAYLOAD_FIELD, Keys

STATIC = Path(__file__).resolve().parent / "static"
_ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}
# The page loads only its own script and style and talks only to this origin.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ESCALATION_FIELDS = (
    "grievance_id",
    "tracking_no",
    "at",
    "tier",
    "assignee",
    "previous_assignee",
    "reason",
)
MAX_OPEN = 200
MAX_ESCALATIONS = 10
EVENTS_SCANNED = 1000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def countdown(row: views.GrievanceRow) -> dict[str, Any]:
    """Return what the page shows of an open grievance: no personal data, times in ms."""
    return {
        "id": row.id,
        "tracking_no": row.tracking_no,
        "state": row.state.value,
        "reopened": row.reopened,
        "tier": row.tier,
        "assignee": row.assignee.id if row.assignee else None,
        "assignee_name": row.assignee.name if row.assignee else None,
        "category": row.category.value,
        "urgency": row.urgency.value,
        "overdue": row.overdue,
        "breaches": row.breaches,
        "awaiting_rating": row.awaiting_rating,
        "ack_due_ms": _ms(row.ack_due_at),
        "resolve_due_ms": _ms(row.resolve_due_at),
        "feedback_closes_ms": _ms(row.feedback_closes_at),
    }


async def _open_grievances(
    client: Redis, keys: Keys, units: Mapping[str, views.UnitRef]
) -> list[dict[str, Any]]:
    """Return the oldest open grievances with their deadlines (the read model's rows)."""
    ids = [as_text(i) for i in await client.zrange(keys.open_index, 0, MAX_OPEN - 1)]
    return [
        countdown(views.grievance_row(stored, reveal_worker=False, units=units))
        for stored in await views.read_stored(client, keys, ids)
        if stored is not None
    ]


async def _recent_escalations(
    client: Redis, keys: Keys, units: Mapping[str, views.UnitRef]
) -> list[dict[str, Any]]:
    """Return the latest escalations from ``zt:events``, newest first."""
    found = []
    entries: list[Any] = await client.xrevrange(keys.events, count=EVENTS_SCANNED) or []
    for _, fields in entries:
        try:
            event = json.loads(fields[PAYLOAD_FIELD.encode()])
        except (KeyError, ValueError):
            continue
        if event.get("type") != "grievance.escalated":
            continue
        escalation = {k: event.get(k) for k in ESCALATION_FIELDS}
        for field in ("assignee", "previous_assignee"):
            unit = units.get(str(event.get(field)))
            escalation[f"{field}_name"] = unit.name if unit else None
        found.append(escalation)
        if len(found) == MAX_ESCALATIONS:
            break
    return found


_PAGE_WORDS = ("state", "reason", "tier", "event", "deadline")


async def snapshot(
    client: Redis, keys: Keys, units: Mapping[str, views.UnitRef] | None = None
) -> dict[str, Any]:
    """Return what the console shows: KPIs, open grievances, recent escalations."""
    seconds, micros = await client.time()
    now_ms = seconds * 1000 + micros // 1000
    return {
        "now_ms": now_ms,
        "now": _iso(now_ms),
        "stats": await stats.compute(
            client, keys, names={u: ref.name for u, ref in (units or {}).items() if ref.name}
        ),
        "open": await _open_grievances(client, keys, units or {}),
        "escalations": await _recent_escalations(client, keys, units or {}),
        # The page's words come from the one vocabulary the CLI and the messages use.
        "words": {table: dict(TABLES[DEFAULT_LOCALE][table]) for table in _PAGE_WORDS},
    }


def console_router(
    keyring: KeyRing, client: Redis, keys: Keys, units: Mapping[str, views.UnitRef] | None = None
) -> APIRouter:
    """Return ``/console`` (page and assets, public) and ``/console/data`` (oversight, read)."""
    router = APIRouter(tags=["console"])

    @router.get("/console", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(
            STATIC / "console.html", media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS
        )

    @router.get("/console/static/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in _ASSETS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No console asset '{name}'")
        return FileResponse(STATIC / name, media_type=_ASSETS[name], headers=_PAGE_HEADERS)

    @router.get(
        "/console/data",
        dependencies=[Depends(keyring.require("read", oversight_only=True))],
        responses=OVERSIGHT_ONLY,
    )
    async def data() -> JSONResponse:
        """Return the status page's data: KPIs, open grievances' deadlines, escalations."""
        body = await snapshot(client, keys, units)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return router
