"""One grievance the whole way: intake → router → notifier, all on real Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from redis.asyncio import Redis

from services.intake.app import build_app as build_intake
from services.notifier.app import build_app as build_notifier
from services.router.app import build_app as build_router
from shared import codec
from shared.config import Config
from shared.settings import IntakeSettings, NotifierSettings, RouterSettings
from tests.helpers import eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer zt-demo-key"}
BODY = {
    "worker": {
        "id": "w-2001",
        "name": "张三",
        "phone": "13800138000",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    },
    "description": "小区物业禁止快递员进入，进不了小区送件，每天要多走两公里",
}


def _log_only(node: Any) -> Any:
    """Return the config tree with every webhook channel removed (no receiver here)."""
    if isinstance(node, dict):
        return {k: _log_only(v) for k, v in node.items()}
    if isinstance(node, list):
        kept = [v for v in node if not (isinstance(v, dict) and v.get("type") == "webhook")]
        return [_log_only(v) for v in kept]
    return node


def _config() -> Config:
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    return Config.model_validate(_log_only(raw))


@pytest.fixture(name="stack")
async def fixture_stack(redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run intake, router and notifier in-process; yield an HTTP client for intake."""
    config = _config()
    common = {"redis_url": redis_url, "reclaim_idle_ms": 1000, "poll_ms": 20}
    apps: list[FastAPI] = [
        build_intake(IntakeSettings(**common, consumer_name="intake-e2e"), config),
        build_router(RouterSettings(**common, consumer_name="router-e2e"), config),
        build_notifier(NotifierSettings(**common, consumer_name="notifier-e2e"), config),
    ]
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=apps[0])
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


async def _deliveries(redis: Redis, grievance_id: str) -> list[dict[str, Any]]:
    entries = await redis.xrange("zt:deliveries")
    records = [json.loads(fields[b"payload"]) for _, fields in entries]
    return [r for r in records if r.get("grievance_id") == grievance_id]


async def test_post_is_assigned_and_notified(stack: httpx.AsyncClient, redis: Redis) -> None:
    """POST → 202 with id and tracking number → assigned to a member → log delivery sent."""
    reply = await stack.post("/v1/grievances", json=BODY, headers=AUTH)
    assert reply.status_code == 202, reply.text
    accepted = reply.json()
    assert accepted["tracking_no"].startswith("ZT-")
    gid = accepted["id"]

    async def assigned() -> dict[str, Any] | None:
        view = (await stack.get(f"/v1/grievances/{gid}", headers=AUTH)).json()
        return view if view.get("state") == "assigned" else None

    view = await eventually(assigned, timeout=10)
    assert view["assignee"]["id"] in {"m-wang", "m-li"}
    assert [e["type"] for e in view["timeline"]] == ["grievance.assigned"]

    async def sent() -> list[dict[str, Any]]:
        records = [r for r in await _deliveries(redis, gid) if r.get("status") == "sent"]
        return records if len(records) >= 2 else []

    delivered = await eventually(sent, timeout=10)
    assert {r["channel"] for r in delivered} == {"log"}
    assert {r["recipient"] for r in delivered} == {"worker:w-2001", view["assignee"]["id"]}


async def test_stream_entry_travels_and_bad_entry_is_rejected(
    stack: httpx.AsyncClient, redis: Redis
) -> None:
    """An XADD to zt:intake is assigned; a malformed one lands in zt:intake.rejected."""
    del stack  # the services run; this test talks to Redis like an upstream app would
    bad = {"payload": '{"worker": {}, "description": ""}'}
    bad_id = (await redis.xadd("zt:intake", bad)).decode()
    good = {**BODY, "source": "kiosk-7"}
    await redis.xadd("zt:intake", codec.fields(good))

    async def rejected() -> list[dict[str, Any]]:
        entries = await redis.xrange("zt:intake.rejected")
        return [json.loads(f[b"payload"]) for _, f in entries]

    (rejection,) = await eventually(rejected, timeout=10)
    assert rejection["entry_id"] == bad_id
    reasons = " ".join(rejection["reasons"])
    assert "worker.id" in reasons
    assert "description" in reasons

    async def assigned_events() -> list[dict[str, Any]]:
        entries = await redis.xrange("zt:events")
        events = [json.loads(f[b"payload"]) for _, f in entries]
        return [e for e in events if e["type"] == "grievance.assigned"]

    (event,) = await eventually(assigned_events, timeout=10)
    record = await redis.hget(f"zt:g:{{{event['grievance_id']}}}", "source")
    assert record == b"kiosk-7"


async def test_invalid_post_is_422_with_field_errors(stack: httpx.AsyncClient) -> None:
    """A body without worker.id and with an unknown category is a 422 naming both fields."""
    body = {"worker": {"industry": "express_delivery"}, "description": "x", "category": "nope"}
    reply = await stack.post("/v1/grievances", json=body, headers=AUTH)
    assert reply.status_code == 422
    fields = {e["field"] for e in reply.json()["detail"]}
    assert {"worker.id", "category"} <= fields


async def test_redelivered_submission_produces_no_second_event(
    stack: httpx.AsyncClient, redis: Redis
) -> None:
    """Replaying the zt:submitted entry (a redelivery) yields no second assigned event."""
    reply = await stack.post("/v1/grievances", json=BODY, headers=AUTH)
    gid = reply.json()["id"]

    async def events() -> list[dict[str, Any]]:
        entries = await redis.xrange("zt:events")
        return [json.loads(f[b"payload"]) for _, f in entries]

    await eventually(events, timeout=10)
    ((_, fields),) = await redis.xrange("zt:submitted")
    await redis.xadd("zt:submitted", fields)

    async def drained() -> bool:
        groups = await redis.xinfo_groups("zt:submitted")
        return all(g["pending"] == 0 and g["lag"] == 0 for g in groups)

    await eventually(drained, timeout=10)
    assigned = [e for e in await events() if e["type"] == "grievance.assigned"]
    assert [e["grievance_id"] for e in assigned] == [gid]
    deliveries = await _deliveries(redis, gid)
    sent = [
        (d["event_id"], d["recipient"], d["channel"]) for d in deliveries if d["status"] == "sent"
    ]
    assert len(sent) == len(set(sent))
