"""Durable SLA timers: exactly once across router replicas, late but once after downtime."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from redis.asyncio import Redis

from services.router.engine import Engine
from tests.helpers import eventually
from tests.integration.router_support import KEYS, make_grievance, member_breach_config
from tests.processes import ServiceProcess

pytestmark = pytest.mark.integration

TIMERS = 10_000


@pytest.fixture(name="config_file")
def fixture_config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    dumped = member_breach_config(2).model_dump(mode="json")
    path.write_text(yaml.safe_dump(dumped, allow_unicode=True))
    return path


@pytest.fixture(name="routers")
def fixture_routers(
    redis_url: str, config_file: Path, tmp_path: Path
) -> Iterator[list[ServiceProcess]]:
    procs = [
        ServiceProcess("router", redis_url, config_file, tmp_path, consumer=f"router-{i}")
        for i in range(3)
    ]
    yield procs
    for proc in procs:
        proc.kill()


async def _assign_many(redis: Redis, count: int) -> list[str]:
    engine = Engine(redis, KEYS, member_breach_config(2))
    ids: list[str] = []
    for start in range(0, count, 1000):
        batch = [make_grievance(id=f"w-{i}") for i in range(start, min(count, start + 1000))]
        outcomes = await engine.assign(batch)
        assert {o.status for o in outcomes} == {"assigned"}
        ids.extend(g.id for g in batch)
    return ids


async def _escalations(redis: Redis) -> Counter[str]:
    counts: Counter[str] = Counter()
    last = "-"
    while True:
        chunk = await redis.xrange(KEYS.events, min=last, count=5000)
        if last != "-":
            chunk = chunk[1:]
        if not chunk:
            return counts
        for _entry_id, fields in chunk:
            event = json.loads(fields[b"payload"])
            if event["type"] == "grievance.escalated":
                counts[event["grievance_id"]] += 1
        last = chunk[-1][0].decode()


async def test_three_routers_fire_ten_thousand_due_timers_exactly_once(
    redis: Redis, routers: list[ServiceProcess]
) -> None:
    """10,000 ack timers due in the same second, 3 router processes: each fires once."""
    for proc in routers:
        proc.start()
    ids = await _assign_many(redis, TIMERS)

    async def all_escalated() -> Counter[str] | None:
        counts = await _escalations(redis)
        return counts if len(counts) >= TIMERS else None

    counts = await eventually(all_escalated, timeout=60, interval=0.2)
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    # Each escalation left exactly the tier-2 timers; no tier-1 timer is still pending.
    remaining = await redis.zrange(KEYS.timers, 0, -1)
    assert all(m.split(b"|")[2] != b"1" for m in remaining)
    fired = [_fired_metric(p.port) for p in routers]
    # 10,000 ack breaches + 10,000 pre-breach warnings, shared by the replicas.
    assert sum(fired) == 2 * TIMERS


def _fired_metric(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("zhitong_timers_fired_total "):
            return float(line.split()[1])
    raise AssertionError("zhitong_timers_fired_total not exported")


async def test_router_down_fires_missed_timers_once_on_restart(
    redis: Redis, routers: list[ServiceProcess]
) -> None:
    """Timers that came due while the only router was dead fire once when it comes back."""
    router = routers[0].start()
    router.kill()
    ids = await _assign_many(redis, 500)

    async def clock_passed() -> bool:
        seconds, micros = await redis.time()
        now_ms = seconds * 1000 + micros // 1000
        return await redis.zcount(KEYS.timers, "-inf", now_ms) >= 2 * len(ids)

    await eventually(clock_passed, timeout=10, interval=0.1)
    assert await _escalations(redis) == Counter()
    router.start()

    async def all_escalated() -> Counter[str] | None:
        counts = await _escalations(redis)
        return counts if len(counts) >= len(ids) else None

    counts = await eventually(all_escalated, timeout=30, interval=0.2)
    assert set(counts.values()) == {1}
