"""The edges of consumption on real Redis: start order, Redis emptied, shutdown, Redis away."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from services.intake.app import build_app as build_intake
from services.notifier.app import build_app as build_notifier
from services.router.app import build_app as build_router
from shared import codec
from shared.config import Config
from shared.consumer import Entry, Failures, StreamConsumer
from shared.logging import BROKER_LOGGER
from shared.settings import CommonSettings, IntakeSettings, NotifierSettings, RouterSettings
from shared.streams import Keys
from tests.helpers import eventually
from tests.integration.test_end_to_end import _config
from zhitong.redis_server import RedisServer

pytestmark = pytest.mark.integration

KEYS = Keys()
AUTH = {"Authorization": "Bearer zt-demo-key"}
FAST = {"reclaim_idle_ms": 1000, "poll_ms": 20}


def _app(name: str, redis_url: str, config: Config) -> FastAPI:
    common: dict[str, Any] = {"redis_url": redis_url, "consumer_name": f"{name}-edge", **FAST}
    if name == "intake":
        return build_intake(IntakeSettings(**common), config)
    if name == "router":
        return build_router(RouterSettings(**common), config)
    return build_notifier(NotifierSettings(**common), config)


def _entry(n: int) -> dict[bytes, bytes]:
    """Return a ``zt:intake`` entry an upstream app would publish (keyed, so retry-safe)."""
    return codec.fields(
        {
            "source": "edge-kiosk",
            "idempotency_key": f"edge-{n}",
            "worker": {
                "id": f"w-edge-{n}",
                "industry": "express_delivery",
                "platform": "中通",
                "region": "城东区",
            },
            "description": f"第{n}号：小区物业禁止快递员进入，进不了小区送件",
        }
    )


async def _payloads(redis: Redis, stream: str) -> list[dict[str, Any]]:
    return [json.loads(fields[b"payload"]) for _, fields in await redis.xrange(stream)]


async def _delivered_grievances(redis: Redis) -> set[str]:
    """Return the grievances whose ``grievance.assigned`` reached the worker (log channel)."""
    return {
        d["grievance_id"]
        for d in await _payloads(redis, KEYS.deliveries)
        if d["event_type"] == "grievance.assigned" and d["status"] == "sent"
    }


async def _assigned_grievances(redis: Redis) -> set[str]:
    events = await _payloads(redis, KEYS.events)
    return {e["grievance_id"] for e in events if e["type"] == "grievance.assigned"}


@pytest.mark.parametrize("order", list(itertools.permutations(("intake", "router", "notifier"))))
async def test_every_start_order_processes_work_queued_before_each_service(
    redis_url: str, redis: Redis, order: Sequence[str]
) -> None:
    """Entries queued before each service starts (in any order) are all assigned and notified."""
    config = _config()
    queued = 0
    async with AsyncExitStack() as stack:
        for name in order:
            await redis.xadd(KEYS.intake, _entry(queued))
            queued += 1
            app = _app(name, redis_url, config)
            await stack.enter_async_context(app.router.lifespan_context(app))
        await redis.xadd(KEYS.intake, _entry(queued))
        queued += 1

        async def all_delivered() -> bool:
            return len(await _delivered_grievances(redis)) == queued

        await eventually(all_delivered, timeout=15)
    assert len(await _assigned_grievances(redis)) == queued
    assert await redis.xlen(KEYS.intake_rejected) == 0


@pytest.fixture(name="stack")
async def fixture_stack(redis_url: str) -> AsyncIterator[list[FastAPI]]:
    """Run intake, router and notifier in-process on the test Redis."""
    config = _config()
    apps = [_app(name, redis_url, config) for name in ("intake", "router", "notifier")]
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield apps


async def _ready(app: FastAPI) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        return (await http.get("/readyz")).status_code


async def _post(app: FastAPI, n: int) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        body = {
            "worker": {
                "id": f"w-flush-{n}",
                "industry": "express_delivery",
                "platform": "中通",
                "region": "城东区",
            },
            "description": f"第{n}号：小区物业禁止快递员进入",
        }
        reply = await http.post("/v1/grievances", json=body, headers=AUTH)
        assert reply.status_code == 202, reply.text
        gid: str = reply.json()["id"]
        return gid


async def test_flushall_under_a_running_stack_revives_every_consumer(
    stack: list[FastAPI], redis: Redis
) -> None:
    """After FLUSHALL, new work (HTTP and stream) is assigned and notified; all ready again."""
    first = await _post(stack[0], 1)
    await eventually(lambda: _has(redis, first), timeout=10)
    await redis.flushall()
    second = await _post(stack[0], 2)
    await redis.xadd(KEYS.intake, _entry(3))

    async def both_delivered() -> bool:
        return len(await _delivered_grievances(redis)) == 2

    await eventually(both_delivered, timeout=20)
    assert second in await _delivered_grievances(redis)
    for app in stack:
        assert await eventually(lambda app=app: _is_ready(app), timeout=5)  # type: ignore[misc]


async def _has(redis: Redis, grievance_id: str) -> bool:
    return grievance_id in await _delivered_grievances(redis)


async def _is_ready(app: FastAPI) -> bool:
    return await _ready(app) == 200


async def test_a_stopped_subscriber_makes_readyz_503_until_revived(
    stack: list[FastAPI], redis: Redis
) -> None:
    """A consumer whose subscriber stopped reports 503 with its name; the watch revives it."""
    router = stack[1]
    consumer = router.state.service.consumers[0]
    await consumer._subscribers[0].stop()
    transport = httpx.ASGITransport(app=router)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        reply = await http.get("/readyz")
    # The watch may already have revived it; either way it must never be "ready" while stopped.
    assert reply.status_code == 503 or not consumer.stopped, reply.text
    if reply.status_code == 503:
        assert consumer.name in reply.json()["reason"]
    assert await eventually(lambda: _is_ready(router), timeout=5)
    assert not consumer.stopped


class _Recorder:
    """Return a batch handler that records what it saw and fails the ids it is told to."""

    def __init__(self, fail: frozenset[bytes] = frozenset()) -> None:
        self.seen: list[str] = []
        self.fail = fail

    async def __call__(self, entries: Sequence[Entry]) -> Failures:
        self.seen.extend(e.id for e in entries)
        return {e.id: RuntimeError("boom") for e in entries if e.fields[b"n"] in self.fail}


async def _pending(redis: Redis, consumer: str) -> dict[str, int]:
    rows = await redis.xpending_range("s", "g", min="-", max="+", count=100, consumername=consumer)
    return {r["message_id"].decode(): int(r["times_delivered"]) for r in rows}


async def test_hand_back_finishes_entries_a_cut_short_read_took(redis: Redis) -> None:
    """Entries read but never handled (a cancelled read) are handled at exit: none left."""
    settings = CommonSettings(consumer_name="c1")
    handler = _Recorder()
    consumer = StreamConsumer(redis, settings, "s", "g", handler)
    await consumer.ensure_group()
    ids = [(await redis.xadd("s", {"n": str(i)})).decode() for i in range(5)]
    await redis.xreadgroup("g", "c1", {"s": ">"}, count=5)  # the read whose reply was lost
    assert await consumer.hand_back(within_s=5) == (5, 0)
    assert handler.seen == ids
    assert await _pending(redis, "c1") == {}


async def test_hand_back_keeps_failures_and_releases_what_it_cannot_finish(redis: Redis) -> None:
    """A failed entry stays for the reclaimer; an unfinished one is released, count restored."""
    settings = CommonSettings(consumer_name="c1", reclaim_idle_ms=60_000)
    failing = _Recorder(fail=frozenset({b"0"}))
    consumer = StreamConsumer(redis, settings, "s", "g", failing)
    await consumer.ensure_group()
    first = (await redis.xadd("s", {"n": "0"})).decode()
    await redis.xreadgroup("g", "c1", {"s": ">"}, count=1)
    await consumer._run([Entry(first, {b"n": b"0"})])  # fails: the reclaimer's business
    second = (await redis.xadd("s", {"n": "1"})).decode()
    await redis.xreadgroup("g", "c1", {"s": ">"}, count=1)

    async def too_slow(_entries: Sequence[Entry]) -> Failures:
        await eventually(_never, timeout=60)
        return {}

    consumer.handler = too_slow
    assert await consumer.hand_back(within_s=0.2) == (0, 1)
    pending = await _pending(redis, "c1")
    assert pending == {first: 1, second: 0}
    # Released: idle already past reclaim_idle_ms, so a peer's XAUTOCLAIM takes it at once.
    _next, claimed, *_ = await redis.xautoclaim("s", "g", "peer", 60_000, "0-0", count=10)
    assert [c[0].decode() for c in claimed] == [second]


async def _never() -> bool:
    return False


async def test_redis_away_answers_503_json_with_retry_after(
    tmp_path: Path, demo_config_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With Redis gone, POST and GET answer 503 JSON + Retry-After; /readyz is 503; no trace."""
    server = RedisServer(data_dir=tmp_path / "redis").start()
    try:
        settings = IntakeSettings(redis_url=server.url, consumer_name="i-away", **FAST)
        app = build_intake(settings, _config())
        async with app.router.lifespan_context(app):
            server.stop()
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
                with caplog.at_level(logging.ERROR):
                    post = await http.post(
                        "/v1/grievances",
                        json={
                            "worker": {"id": "w1", "industry": "express_delivery"},
                            "description": "站点扣了我三天的工资",
                        },
                        headers=AUTH,
                    )
                    get = await http.get("/v1/grievances/ZT-000000-AAAAAAAA", headers=AUTH)
                    ready = await http.get("/readyz")
        for reply in (post, get):
            assert reply.status_code == 503, reply.text
            assert reply.headers["retry-after"].isdigit()
            assert reply.headers["content-type"].startswith("application/json")
            assert "retry" in reply.json()["detail"]
        assert ready.status_code == 503
        # FastStream's own consume loop logs its fetch errors (5 s apart); no request may.
        broker = ("faststream", BROKER_LOGGER)  # the consume loop's own fetch errors
        traced = [r.name for r in caplog.records if r.exc_info and not r.name.startswith(broker)]
        assert not traced, f"a request logged a traceback: {traced}"
    finally:
        server.stop()
