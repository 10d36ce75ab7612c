"""The deployment edges as processes: random start order with work queued, Redis back empty."""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.chaos.harness import (
    CONSUMED,
    SERVICES,
    Load,
    Stack,
    drain,
    record,
    verdict,
)
from tests.checker import Acknowledged
from tests.helpers import eventually

pytestmark = pytest.mark.chaos


async def _all_ready(stack: Stack) -> bool:
    async with httpx.AsyncClient(timeout=1) as http:
        for proc in stack.procs.values():
            try:
                reply = await http.get(f"http://127.0.0.1:{proc.port}/readyz")
            except httpx.HTTPError:
                return False
            if reply.status_code != 200:
                return False
    return True


async def _groups_back(client: Redis) -> bool:
    """Return whether every consumed stream has its group again (drain cannot see lag before)."""
    for stream in CONSUMED:
        if not await client.exists(stream) or not await client.xinfo_groups(stream):
            return False
    return True


async def test_services_started_in_random_order_process_work_queued_before_each(
    tmp_path: Path,
) -> None:
    """Work XADDed (and POSTed once intake is up) before each start: all arrives, once."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)  # printed with the figures, so a failing run can be replayed
    order = rng.sample(SERVICES, 3)
    stack = Stack(tmp_path)
    try:
        await asyncio.to_thread(stack.start_redis)
        client = Redis.from_url(stack.url)
        loads: list[Load] = []
        running: list[asyncio.Task[Acknowledged]] = []
        for step, name in enumerate(order):
            # Before intake exists only the stream path can take work; after, HTTP too.
            share = 0.5 if "intake" in stack.procs else 0.0
            load = Load(stack, client, grievances=60, offset=60 * step, http_share=share)
            loads.append(load)
            task = asyncio.create_task(load.run())
            running.append(task)
            if share == 0.0:
                await task  # all of it queued in the stream before the next service starts
            await asyncio.to_thread(stack.start, name)
        # HTTP actions wait for their grievance to be routed (a unit key reads its subtree).
        await asyncio.gather(*running)
        drained_s = await drain(client, within_s=60)
        acked = loads[0].acked
        for load in loads[1:]:
            acked.merge(load.acked)
        result = await verdict(client, acked)
        record(
            tmp_path,
            "start_order",
            {
                "seed": seed,
                "order": order,
                "submissions": acked.submissions,
                "drain_s": round(drained_s, 1),
                **result.counts(),
            },
        )
        await client.aclose()
    finally:
        stack.stop()
    assert acked.submissions == 180
    assert result.ok, result.summary()


async def test_redis_restarted_empty_under_a_running_stack_resumes_within_seconds(
    tmp_path: Path,
) -> None:
    """Redis comes back with no data: services stay up, become ready, and new work flows."""
    stack = Stack(tmp_path)
    try:
        await stack.start_all()
        client = Redis.from_url(stack.url, socket_timeout=5, retry_on_timeout=True)
        first = Load(stack, client, grievances=50)
        await first.run()
        await drain(client, within_s=60)
        assert stack.redis is not None
        await asyncio.to_thread(stack.redis.kill)
        shutil.rmtree(stack.redis.data_dir)  # the restore from nothing
        await asyncio.to_thread(stack.start_redis)
        back_at = time.monotonic()
        second = Load(stack, client, grievances=100, offset=1000)
        await second.run()
        await eventually(lambda: _groups_back(client), timeout=30)
        drained_s = await drain(client, within_s=60)
        resumed_s = time.monotonic() - back_at
        await eventually(lambda: _all_ready(stack), timeout=15)
        alive = {
            n: p.process is not None and p.process.poll() is None for n, p in stack.procs.items()
        }
        result = await verdict(client, second.acked)
        record(
            tmp_path,
            "redis_back_empty",
            {
                "submissions_after": second.acked.submissions,
                "resumed_and_drained_s": round(resumed_s, 1),
                "drain_s": round(drained_s, 1),
                **result.counts(),
            },
        )
        await client.aclose()
    finally:
        stack.stop()
    assert all(alive.values()), alive
    assert second.acked.submissions == 100
    assert result.ok, result.summary()
