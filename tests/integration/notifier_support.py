"""Shared pieces for notifier tests: a config pointing at a test receiver, seeding, reading."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.types import ASGIApp

from services.notifier.app import build_app
from shared import codec
from shared.config import Config
from shared.settings import NotifierSettings
from shared.streams import GROUP_NOTIFIER, Keys
from tests.helpers import eventually
from zhitong.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
KEYS = Keys()
SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXpoaXRvbmctd2ViaG9va3M="
TRACKING_NO = "ZT-261123-7K3F9QX2"


def receiver() -> Receiver:
    """Return an in-process receiver holding the demo webhook secret."""
    return Receiver([SECRET])


def config_for(url: str) -> Config:
    """Return the demo config with its webhook pointing at ``url``."""
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    raw["channels"]["webhooks"]["demo"]["url"] = url
    return Config.model_validate(raw)


def settings(redis_url: str, **overrides: Any) -> NotifierSettings:
    """Return notifier settings with second-scale retries and fast polling."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "retry_base_s": 0.05,
        "retry_max_s": 0.5,
        "http_timeout_s": 2.0,
        "poll_ms": 20,
        "reclaim_idle_ms": 1000,
        "consumer_name": "notifier-test",
        **overrides,
    }
    return NotifierSettings(**values)


@asynccontextmanager
async def running_notifier(
    redis: Redis, redis_url: str, config: Config, **overrides: Any
) -> AsyncIterator[FastAPI]:
    """Run a notifier in-process for the block (yield its app) once its group reads zt:events."""
    app = build_app(settings(redis_url, **overrides), config)
    async with app.router.lifespan_context(app):

        async def group_ready() -> bool:
            groups = await redis.xinfo_groups(KEYS.events)
            return any(g["name"] == GROUP_NOTIFIER.encode() for g in groups)

        await eventually(group_ready)
        yield app


async def seed_grievance(redis: Redis, grievance_id: str = "g1", **doc: Any) -> None:
    """Store a minimal grievance record as the router would (the notifier reads ``doc``)."""
    body = {
        "id": grievance_id,
        "tracking_no": TRACKING_NO,
        "worker": {"id": "w-1001", "name": "刘小哥", "phone": "13800138000"},
        "anonymous": False,
        "locale": "zh-CN",
        "category": "road_access",
        "urgency": "normal",
        "description": "小区物业禁止快递员进入",
        **doc,
    }
    await redis.hset(KEYS.grievance(grievance_id), mapping={"state": "assigned"})
    await redis.set(KEYS.document(grievance_id), json.dumps(body, ensure_ascii=False))


def assigned_event(event_id: str = "e1", assignee: str = "m-wang", **fields: Any) -> dict[str, Any]:
    """Return a grievance.assigned event body as the router writes it."""
    now = datetime.now(UTC)
    return {
        "event_id": event_id,
        "grievance_id": "g1",
        "seq": 1,
        "type": "grievance.assigned",
        "at": now.isoformat(),
        "state": "assigned",
        "tier": 1,
        "assignee": assignee,
        "ack_due_at": (now + timedelta(hours=4)).isoformat(),
        "resolve_due_at": (now + timedelta(days=3)).isoformat(),
        "tracking_no": TRACKING_NO,
        **fields,
    }


async def publish(redis: Redis, event: dict[str, Any]) -> str:
    """XADD ``event`` to zt:events as plain JSON in ``payload``; return the entry id."""
    entry_id: bytes = await redis.xadd(KEYS.events, codec.fields(event))
    return entry_id.decode()


async def stream_payloads(redis: Redis, stream: str) -> list[dict[str, Any]]:
    """Return every payload on ``stream`` in order."""
    return [codec.decode(fields) for _id, fields in await redis.xrange(stream)]


async def outcomes(redis: Redis, **match: Any) -> list[dict[str, Any]]:
    """Return the zt:deliveries records whose fields equal ``match``."""
    return [
        r
        for r in await stream_payloads(redis, KEYS.deliveries)
        if all(r.get(k) == v for k, v in match.items())
    ]


def config_with(url: str, **channels: Any) -> Config:
    """Return ``config_for(url)`` with ``channels`` merged in and an ``ops`` API key.

    The ops key is ``zt-ops-key`` (source ``ops-desk``); the demo app key lacks ``ops``.
    """
    raw = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8"))
    raw["channels"]["webhooks"]["demo"]["url"] = url
    raw["channels"].update(channels)
    raw["api_keys"].append(
        {
            "source": "ops-desk",
            "key_sha256": hashlib.sha256(b"zt-ops-key").hexdigest(),
            "scopes": ["ops"],
        }
    )
    return Config.model_validate(raw)


@asynccontextmanager
async def serving_app(app: ASGIApp, port: int) -> AsyncIterator[str]:
    """Run any ASGI ``app`` with uvicorn in this event loop; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server, task))
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # surface the bind error
    return bool(server.started)
