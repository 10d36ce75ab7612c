"""Part 3, SLA timers: memory per timer, a burst due at once, and a paced stream of them."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from services.router.engine import Engine
from shared.config import Config
from shared.events import Category, Classification, Grievance, Urgency, Worker
from shared.ids import new_grievance_id, tracking_no
from shared.settings import RouterSettings
from zhitong.bench.common import (
    DESCRIPTION,
    KEYS,
    ROOT,
    WORKER,
    start_redis,
    used_memory,
)
from zhitong.bench.report import Profile, Row, fmt, percentile
from zhitong.redis_server import RedisServer


def bench_grievance(n: int) -> Grievance:
    now = datetime.now(UTC)
    return Grievance(
        id=new_grievance_id(),
        tracking_no=tracking_no(now),
        source="bench",
        channel="stream",
        submitted_at=now,
        worker=Worker(id=f"t-{n}", **WORKER),
        category=Category.ROAD_ACCESS,
        urgency=Urgency.NORMAL,
        description=DESCRIPTION,
        classification=Classification(category_reason="given", urgency_reason="given"),
    )


async def redis_ms(client: Redis) -> int:
    seconds, micros = await client.time()
    return int(seconds) * 1000 + int(micros) // 1000


@dataclass(slots=True)
class Drain:
    """What the pollers saw: lateness of each fired timer and when the last fired."""

    lateness: list[int]
    stale: int = 0
    last_ms: float = 0.0
    calls: int = 0


# The router's own defaults (RouterSettings.timer_batch / timer_idle_s), as deployed.
BATCH = RouterSettings.model_fields["timer_batch"].default
IDLE_S = RouterSettings.model_fields["timer_idle_s"].default


async def pollers(
    engine: Engine,
    stop_when: Callable[[Drain], bool],
    count: int = 3,
    batch: int = BATCH,
    idle_s: float = IDLE_S,
) -> Drain:
    """Run ``count`` pollers the way TimerPoller does until ``stop_when`` says so."""
    drain = Drain(lateness=[])

    async def poll() -> None:
        while not stop_when(drain):
            result = await engine.fire_due(batch)
            drain.calls += 1
            drain.stale += result.stale
            if result.fired:
                drain.lateness.extend(result.lateness_ms)
                drain.last_ms = time.time() * 1000
            if result.fired + result.stale < batch:
                await asyncio.sleep(idle_s * (0.5 + random.random()))  # noqa: S311

    await asyncio.gather(*(poll() for _ in range(count)))
    return drain


async def pinger(client: Redis, done: asyncio.Event) -> list[float]:
    """Return round-trip ms of a PING every 1 ms: what other clients feel during a drain."""
    rtts: list[float] = []
    while not done.is_set():
        t0 = time.perf_counter()
        await client.ping()
        rtts.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.001)
    return rtts


async def bench_timers(
    scratch: Path, profile: Profile
) -> tuple[list[Row], Redis, RedisServer, float]:
    """Return the timer rows, the still-running Redis (for the arq peer) and fired/s."""
    server = start_redis(scratch, "redis-timers")
    client = Redis.from_url(server.url, max_connections=32)
    engine = Engine(client, KEYS, _long_sla_config())
    due_n = profile.timer_due
    base = await used_memory(client)
    gids: list[str] = []
    for start in range(0, due_n, 1000):
        batch = [bench_grievance(i) for i in range(start, min(due_n, start + 1000))]
        await engine.assign(batch)
        gids += [g.id for g in batch]
    per_grievance = (await used_memory(client) - base) / due_n
    fillers = profile.timer_pending - await client.zcard(KEYS.timers)
    base = await used_memory(client)
    far = await redis_ms(client) + 30 * 86_400_000
    for start in range(0, fillers, 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for i in range(start, min(fillers, start + 10_000)):
                # Shaped like real members (ULID|kind|gen) but with no grievance behind them.
                pipe.zadd(KEYS.timers, {f"{new_grievance_id()}|res|1": far + i})
            await pipe.execute()
    per_timer = (await used_memory(client) - base) / max(fillers, 1)
    pending = await client.zcard(KEYS.timers)
    rows = [
        Row(
            "memory",
            "Redis per open grievance (router state: hash, timeline, 4 timers, index, event)",
            fmt(per_grievance, " B"),
            "≤ 2 KB",
            per_grievance <= 2048,
        ),
        Row(
            "memory",
            "Redis per pending timer (sorted-set member)",
            fmt(per_timer, " B"),
            "≤ 150 B",
            per_timer <= 150,
        ),
    ]
    burst_rows, fired_rate = await _burst(client, engine, gids, pending)
    rows += burst_rows
    rows += await _timers_paced(client, engine, gids, profile.paced_s)
    return rows, client, server, fired_rate


def _long_sla_config() -> Config:
    """Return the demo config: its SLAs are hours long, so nothing falls due by itself."""
    from shared.config import load_config  # noqa: PLC0415 - keeps the module import light

    return load_config(ROOT / "config" / "demo.yaml")


async def _move(client: Redis, members: Sequence[str], scores: Callable[[int], int]) -> None:
    """Re-score existing timer ``members`` to ``scores(i)`` (ZADD XX: never create one)."""
    for start in range(0, len(members), 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for i, member in enumerate(members[start : start + 10_000], start):
                pipe.zadd(KEYS.timers, {member: scores(i)}, xx=True)
            await pipe.execute()


async def _burst(
    client: Redis, engine: Engine, gids: Sequence[str], pending: int
) -> tuple[list[Row], float]:
    """Make every grievance's tier-1 ack timer due at one instant and drain with 3 pollers."""
    due_at = await redis_ms(client) + 2000 + len(gids) // 20
    moved = len(gids)
    await _move(client, [f"{g}|ack|1" for g in gids], lambda _i: due_at)
    await client.slowlog_reset()
    await client.config_set("slowlog-log-slower-than", 0)
    await client.config_set("slowlog-max-len", 100_000)
    done = asyncio.Event()
    ping_client = Redis.from_url(_url_of(client))
    ping_task = asyncio.create_task(pinger(ping_client, done))
    drain = await pollers(engine, lambda d: len(d.lateness) + d.stale >= moved)
    done.set()
    rtts = await ping_task
    await ping_client.aclose()
    calls = [
        e["duration"] / 1000
        for e in await client.slowlog_get(100_000)
        if e["command"].startswith(b"EVALSHA")
    ]
    await client.config_set("slowlog-log-slower-than", 10_000)
    span = max(drain.last_ms - due_at, 1) / 1000
    rate = len(drain.lateness) / span
    p99 = percentile(drain.lateness, 99)
    worst = max(calls, default=math.nan)
    return [
        Row(
            "timers",
            f"{moved:,} due at once among {pending:,} pending, 3 pollers × batch {BATCH}: fired/s",
            fmt(rate, "/s"),
            "≥ 40,000/s",
            rate >= 40_000,
        ),
        Row("timers", "… fired with effect / stale", f"{len(drain.lateness):,} / {drain.stale:,}"),
        Row("timers", "… lateness p50", fmt(percentile(drain.lateness, 50), " ms")),
        Row("timers", "… lateness p99", fmt(p99, " ms"), "≤ 2,500 ms", p99 <= 2500),
        Row(
            "timers",
            "… script calls (due_timers, commit_many): mean / p99 / max (SLOWLOG)",
            f"{fmt(sum(calls) / max(len(calls), 1), ' ms', 2)} / "
            f"{fmt(percentile(calls, 99), ' ms', 2)} / {fmt(worst, ' ms', 2)}",
            "max ≤ 5 ms",
            worst <= 5,
        ),
        Row(
            "timers",
            "… another client's PING round trip p99 / max during the drain",
            f"{fmt(percentile(rtts, 99), ' ms', 1)} / {fmt(max(rtts, default=math.nan), ' ms', 1)}",
        ),
    ], rate


def _url_of(client: Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


async def _timers_paced(
    client: Redis, engine: Engine, gids: Sequence[str], seconds: int, rate: int = 1000
) -> list[Row]:
    """Spread the tier-2 ack timers (set by the escalations) at ``rate`` per second."""
    start = await redis_ms(client) + 1000
    members = [f"{g}|ack|2" for g in gids[: seconds * rate]]
    await _move(client, members, lambda i: start + i * 1000 // rate)
    drain = await pollers(engine, lambda d: len(d.lateness) + d.stale >= len(members))
    p99 = percentile(drain.lateness, 99)
    return [
        Row(
            "timers",
            f"{rate:,} due per second for {seconds} s: lateness p50",
            fmt(percentile(drain.lateness, 50), " ms"),
        ),
        Row(
            "timers",
            f"{rate:,} due per second: lateness p99",
            fmt(p99, " ms"),
            "≤ 200 ms",
            p99 <= 200,
        ),
    ]
