"""Graceful SIGTERM of each service under load, repeatedly: exit 0, nothing left pending."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.chaos.harness import (
    CONSUMED,
    SERVICES,
    Load,
    backlog,
    drain,
    record,
    running_stack,
    verdict,
)
from tests.checker import Acknowledged
from tests.helpers import eventually

pytestmark = pytest.mark.chaos


async def _pending_of(client: Redis, consumer: str) -> int:
    """Return how many entries ``consumer`` holds unacknowledged across every group."""
    held = 0
    for stream in CONSUMED:
        if not await client.exists(stream):
            continue
        for group in await client.xinfo_groups(stream):
            for member in await client.xinfo_consumers(stream, group["name"]):
                if member["name"].decode() == consumer:
                    held += int(member["pending"])
    return held


async def test_sigterm_each_service_under_load_exits_zero_and_leaves_no_pel(
    tmp_path: Path,
) -> None:
    """SIGTERM each service twice mid-load: exit 0, the stopped consumer holds nothing, none lost.

    Entries a stopping consumer took (a read or claim cut short, a batch read after the stop
    began) must be finished or released before exit, not left to a 15 s reclaim.
    """
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)  # printed with the figures, so a failing run can be replayed
    start = time.monotonic()
    async with running_stack(tmp_path) as (stack, client):
        loads: list[Load] = []
        tasks: list[asyncio.Task[Acknowledged]] = []
        stops: list[dict[str, object]] = []
        for name in [*rng.sample(SERVICES, 3), *rng.sample(SERVICES, 3)]:
            # Each stop under a fresh load, once a random share of it was acknowledged:
            # mid-load whatever the machine's speed.
            load = Load(stack, client, grievances=1000, offset=1000 * len(loads))
            loads.append(load)
            tasks.append(asyncio.create_task(load.run()))
            share = rng.uniform(0.1, 0.5)

            async def under_way(load: Load = load, share: float = share) -> bool:
                return load.acked.submissions >= share * load.grievances

            await eventually(under_way, timeout=60, interval=0.005)
            consumer = stack.procs[name].consumer
            in_flight = bool(await backlog(client)) or not tasks[-1].done()
            code = await stack.restart(name, graceful=True)
            stops.append(
                {
                    "service": name,
                    "exit_code": code,
                    "in_flight": in_flight,
                    "left_pending": await _pending_of(client, consumer),
                }
            )
        acked = await tasks[0]
        for task in tasks[1:]:
            acked.merge(await task)
        drained_s = await drain(client, within_s=60)
        result = await verdict(client, acked)
        record(
            tmp_path,
            "graceful_stop",
            {
                "seed": seed,
                "stops": stops,
                "grievances_acked": acked.submissions,
                "drain_s": round(drained_s, 1),
                "total_s": round(time.monotonic() - start, 1),
                **result.counts(),
            },
        )
    assert [s["exit_code"] for s in stops] == [0] * 6, stops
    assert all(s["in_flight"] for s in stops), stops
    assert [s["left_pending"] for s in stops] == [0] * 6, stops
    assert result.ok, result.summary()
