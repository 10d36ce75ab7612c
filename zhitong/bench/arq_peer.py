"""Part 3b, the arq peer: deferred no-op jobs due at once, the same sizes as our timers.

arq runs at its best settings found here: a sweep of ``max_jobs`` × ``poll_delay`` on a
short burst (its defaults, 10 and 0.5 s, cap it near 200 jobs/s), then the best pair runs
the timers' sizes (``due`` due at one instant among ``pending``) on a fresh
``redis-server`` configured as ours.  Jobs are written exactly as
``ArqRedis.enqueue_job`` writes them, pipelined (its WATCH/MULTI per job would make the
set-up, not the run, the slow part).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from zhitong.bench.common import start_redis
from zhitong.bench.report import Row, fmt, percentile

# (max_jobs, poll_delay seconds): the default first, then what arq's docs let one tune.
SWEEP = ((10, 0.5), (10, 0.05), (100, 0.05), (2000, 0.05), (2000, 0.01))
SWEEP_JOBS = 5_000
ARQ_PIN = "arq==0.28.0"


async def run_once(
    scratch: Path, name: str, pending: int, due: int, settings: tuple[int, float]
) -> tuple[float, list[float]]:
    """Run one arq burst on a fresh redis-server; return executed/s and lateness (ms)."""
    from arq.connections import RedisSettings, create_pool  # noqa: PLC0415 - optional
    from arq.jobs import serialize_job  # noqa: PLC0415
    from arq.worker import Worker, func  # noqa: PLC0415

    max_jobs, poll_delay = settings
    server = start_redis(scratch, name)
    try:
        pool = await create_pool(RedisSettings(host="127.0.0.1", port=server.port))
        lateness: list[float] = []

        async def noop(_ctx: dict[str, Any], due_ms: int) -> None:
            lateness.append(time.time() * 1000 - due_ms)

        enqueued = int(time.time() * 1000)

        async def write(first: int, last: int, at: int) -> None:
            for start in range(first, last, 5000):
                async with pool.pipeline(transaction=False) as pipe:
                    for i in range(start, min(last, start + 5000)):
                        payload = serialize_job("noop", (at,), {}, None, enqueued)
                        pipe.psetex(f"arq:job:bench{i}", at - enqueued + 86_400_000, payload)
                        pipe.zadd("arq:queue", {f"bench{i}": at})
                    await pipe.execute()

        # The jobs due later first; their pace sets the margin the due ones need to be
        # written before they fall due (a fixed margin fails on a busy machine).
        began = time.monotonic()
        await write(due, pending, enqueued + 30 * 86_400_000)
        per_job_ms = (time.monotonic() - began) * 1000 / max(pending - due, 1)
        due_ms = int(time.time() * 1000) + 2000 + int(2 * per_job_ms * due)
        await write(0, due, due_ms)
        if time.time() * 1000 > due_ms:
            raise RuntimeError("arq jobs became due before they were all written")
        worker = Worker(
            functions=[func(noop, name="noop")],
            redis_pool=pool,
            burst=True,
            max_burst_jobs=due,  # the far jobs stay queued: stop once the due ones ran
            handle_signals=False,
            keep_result=0,
            max_jobs=max_jobs,
            poll_delay=poll_delay,
        )
        await worker.main()
        await worker.close()
    finally:
        server.stop()
    return len(lateness) / max(max(lateness, default=0) / 1000, 0.001), lateness


async def bench_arq(scratch: Path, pending: int, due: int, timers_rate: float) -> list[Row]:
    """Sweep arq's settings on a short burst, then run the best at the timers' sizes."""
    try:
        import arq  # noqa: F401, PLC0415 - optional
    except ImportError:
        return [
            Row("arq peer", f"not run: pip install --no-deps {ARQ_PIN} (make bench does)", "n/a")
        ]
    sweep_n = min(SWEEP_JOBS, due)
    sweep: dict[tuple[int, float], float] = {}
    for jobs, delay in SWEEP:
        name = f"redis-arq-{jobs}-{delay}"
        # Twice as many pending as due: the ones due later pace the write margin.
        sweep[jobs, delay] = (await run_once(scratch, name, 2 * sweep_n, sweep_n, (jobs, delay)))[0]
    best = max(sweep, key=lambda k: sweep[k])
    rate, lateness = await run_once(scratch, "redis-arq", pending, due, best)
    ratio = timers_rate / rate if rate else math.nan
    tried = ", ".join(f"{j}×{d}s: {fmt(r, '/s')}" for (j, d), r in sweep.items())
    return [
        Row(
            "arq peer",
            f"sweep, {sweep_n:,} due among {2 * sweep_n:,}: executed/s by max_jobs × poll_delay",
            tried,
        ),
        Row(
            "arq peer",
            f"{due:,} due at once among {pending:,} pending, max_jobs {best[0]}, "
            f"poll_delay {best[1]} s: executed/s",
            fmt(rate, "/s"),
        ),
        Row(
            "arq peer",
            "… lateness p50 / p99",
            f"{fmt(percentile(lateness, 50), ' ms')} / {fmt(percentile(lateness, 99), ' ms')}",
        ),
        Row(
            "arq peer",
            "Zhitong timers fired/s ÷ arq executed/s (same sizes)",
            fmt(ratio, "×", 1),
            "≥ 30×",
            ratio >= 30,
        ),
    ]
