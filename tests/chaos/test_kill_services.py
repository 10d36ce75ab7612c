"""kill -9 of intake, router and notifier at random moments under load: nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from tests.chaos.harness import (
    SERVICES,
    Load,
    backlog,
    drain,
    record,
    running_stack,
    verdict,
)

pytestmark = pytest.mark.chaos


async def test_kill_nine_each_service_under_load_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    """2,000 grievances + 1,200 actions while each service is kill -9'd twice → checker zero."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)  # printed with the figures, so a failing run can be replayed
    start = time.monotonic()
    async with running_stack(tmp_path) as (stack, client):
        load = Load(stack, client, grievances=2000)
        task = asyncio.create_task(load.run())
        kills: list[dict[str, object]] = []
        # Two rounds, each killing every service once in a random order.
        victims = [*rng.sample(SERVICES, 3), *rng.sample(SERVICES, 3)]
        for victim in victims:
            await asyncio.sleep(rng.uniform(0.2, 0.8))
            in_flight = bool(await backlog(client)) or not task.done()
            kills.append(
                {
                    "service": victim,
                    "at_s": round(time.monotonic() - start, 1),
                    "in_flight": in_flight,
                }
            )
            await stack.restart(victim)
        acked = await task
        drained_s = await drain(client, within_s=60)
        result = await verdict(client, acked)
        record(
            tmp_path,
            "kill_services",
            {
                "seed": seed,
                "kills": kills,
                "grievances_acked": acked.submissions,
                "actions_acked": len(acked.actions),
                "client_retries": load.failures,
                "load_s": round(load.finished_at - load.started_at, 1),
                "drain_s": round(drained_s, 1),
                "total_s": round(time.monotonic() - start, 1),
                **result.counts(),
            },
        )
    assert all(k["in_flight"] for k in kills[:3]), kills
    assert acked.submissions == 2000
    assert len(acked.actions) == 1200
    assert not acked.indeterminate_keys
    assert result.ok, result.summary()
