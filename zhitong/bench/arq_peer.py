"""Part 3b, the arq peer: deferred no-op jobs due at once, on the timers' Redis."""

from __future__ import annotations

import math
import time
from typing import Any

from redis.asyncio import Redis

from zhitong.bench.report import Row, fmt, percentile


async def bench_arq(client: Redis, jobs: int, timers_rate: float) -> list[Row]:
    """Run ``jobs`` deferred no-op arq jobs due at one instant on the timers' Redis."""
    try:
        from arq.connections import RedisSettings, create_pool  # noqa: PLC0415 - optional
        from arq.jobs import serialize_job  # noqa: PLC0415
        from arq.worker import Worker, func  # noqa: PLC0415
    except ImportError:
        return [
            Row("arq peer", "not run: pip install --no-deps arq==0.28.0 (see BENCHMARKS.md)", "n/a")
        ]
    kwargs = client.connection_pool.connection_kwargs
    settings = RedisSettings(host=kwargs["host"], port=kwargs["port"])
    pool = await create_pool(settings)
    lateness: list[float] = []

    async def noop(_ctx: dict[str, Any], due_ms: int) -> None:
        lateness.append(time.time() * 1000 - due_ms)

    due_ms = int(time.time() * 1000) + 3000 + jobs // 20
    enqueued = int(time.time() * 1000)
    # What ArqRedis.enqueue_job writes per job, pipelined (its WATCH/MULTI per job would make
    # the set-up, not the run, the slow part).
    for start in range(0, jobs, 5000):
        async with pool.pipeline(transaction=False) as pipe:
            for i in range(start, min(jobs, start + 5000)):
                job_id = f"bench{i}"
                payload = serialize_job("noop", (due_ms,), {}, None, enqueued)
                pipe.psetex(f"arq:job:{job_id}", due_ms - enqueued + 86_400_000, payload)
                pipe.zadd("arq:queue", {job_id: due_ms})
            await pipe.execute()
    worker = Worker(
        functions=[func(noop, name="noop")],
        redis_pool=pool,
        burst=True,
        handle_signals=False,
        keep_result=0,
    )
    await worker.main()
    await worker.close()
    rate = len(lateness) / max(max(lateness, default=0) / 1000, 0.001)
    ratio = timers_rate / rate if rate else math.nan
    return [
        Row(
            "arq peer",
            f"{jobs:,} deferred no-op jobs due at once (same Redis): executed/s",
            fmt(rate, "/s"),
        ),
        Row(
            "arq peer",
            "… lateness p50 / p99",
            f"{fmt(percentile(lateness, 50), ' ms')} / {fmt(percentile(lateness, 99), ' ms')}",
        ),
        Row(
            "arq peer",
            "Zhitong timers fired/s ÷ arq executed/s",
            fmt(ratio, "×", 1),
            "≥ 40×",
            ratio >= 40,
        ),
    ]
