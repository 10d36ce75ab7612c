"""Shared pieces for router tests: a fast-SLA config, submission and event reading."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from services.router.app import build_app
from shared import codec
from shared.config import Config, TierSla, UrgencySla, load_config
from shared.events import Category, Classification, Grievance, Urgency, Worker
from shared.ids import new_action_id, new_grievance_id, tracking_no
from shared.redis.scripts import Scripts
from shared.settings import RouterSettings
from shared.store import accept, body_hash
from shared.streams import Keys

ROOT = Path(__file__).resolve().parents[2]
KEYS = Keys()


def fast_config(ack: int = 1, resolve: int = 3, **sla: Any) -> Config:
    """Return the demo config with second-scale SLAs for every urgency and tier."""
    config = load_config(ROOT / "config" / "demo.yaml")
    table = UrgencySla(
        member=TierSla(ack=ack, resolve=resolve),
        branch=TierSla(ack=ack, resolve=resolve),
        committee=TierSla(ack=ack, resolve=resolve),
    )
    policy = config.sla.model_copy(
        update={"urgency": dict.fromkeys(Urgency, table), "categories": {}, **sla}
    )
    return config.model_copy(update={"sla": policy})


def member_breach_config(member_ack: int) -> Config:
    """Return a config where only the member's ack is short (one escalation, then quiet)."""
    config = fast_config()
    table = UrgencySla(
        member=TierSla(ack=member_ack, resolve=3600),
        branch=TierSla(ack=3600, resolve=7200),
        committee=TierSla(ack=3600, resolve=7200),
    )
    return config.model_copy(
        update={"sla": config.sla.model_copy(update={"urgency": dict.fromkeys(Urgency, table)})}
    )


def router_settings(redis_url: str, **overrides: Any) -> RouterSettings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "reclaim_idle_ms": 1000,
        "poll_ms": 20,
        "timer_idle_s": 0.02,
        "consumer_name": "router-test",
        **overrides,
    }
    return RouterSettings(**values)


@asynccontextmanager
async def running_router(redis_url: str, config: Config, **overrides: Any) -> AsyncIterator[None]:
    """Run a router in-process (consumers + timer poller) for the block's duration."""
    app = build_app(router_settings(redis_url, **overrides), config)
    async with app.router.lifespan_context(app):
        yield


def make_grievance(**worker: Any) -> Grievance:
    now = datetime.now(UTC)
    fields = {
        "id": "w-1001",
        "industry": "express_delivery",
        "platform": "中通",
        "region": "城东区",
    }
    return Grievance(
        id=new_grievance_id(),
        tracking_no=tracking_no(now),
        source="test",
        channel="http",
        submitted_at=now,
        worker=Worker(**{**fields, **worker}),
        category=Category.ROAD_ACCESS,
        urgency=Urgency.NORMAL,
        classification=Classification(category_reason="given", urgency_reason="given"),
        description="小区物业禁止快递员进入，进不了小区送件",
    )


async def submit(redis: Redis, grievance: Grievance) -> None:
    """Accept a grievance the way intake does (record + zt:submitted in one script)."""
    result = await accept(
        redis, Scripts(redis), KEYS, grievance, idempotency_key=None, digest=body_hash({})
    )
    assert result.outcome == "accepted"


async def act(redis: Redis, grievance_id: str, **action: Any) -> str:
    """Publish an action on zt:actions as intake does; return its action id."""
    action_id = new_action_id()
    body = {"action_id": action_id, "grievance_id": grievance_id, "source": "test", **action}
    await redis.xadd(KEYS.actions, codec.fields(body))
    return action_id


async def events_of(redis: Redis, grievance_id: str) -> list[dict[str, Any]]:
    """Return every zt:events payload for one grievance, in stream order."""
    entries = await redis.xrange(KEYS.events)
    events = [json.loads(fields[b"payload"]) for _, fields in entries]
    return [e for e in events if e["grievance_id"] == grievance_id]


async def state_of(redis: Redis, grievance_id: str) -> dict[str, str]:
    raw = await redis.hgetall(KEYS.grievance(grievance_id))
    return {k.decode(): v.decode() for k, v in raw.items()}
