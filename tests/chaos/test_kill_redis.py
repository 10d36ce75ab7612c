"""kill -9 of redis-server mid-load, restarted from its AOF: what survives each fsync policy.

With ``appendfsync always`` Redis fsyncs before it replies, so every 202 (and every XADD id)
must survive.  With ``everysec`` a crash of the *machine* may lose up to about a second of
writes (two when fsync stalls); a kill -9 of the *process* leaves written data in the page
cache, so what this test can observe is the process-crash window — it measures and records
it rather than asserting it is zero, and records the acknowledgement rate that bounds the
machine-crash window.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import Load, Stack, drain, record, running_stack, verdict
from tests.helpers import eventually

pytestmark = pytest.mark.chaos

GRIEVANCES = 800


async def _kill_redis_under_load(stack: Stack, load: Load, rng: random.Random) -> dict[str, Any]:
    """Run ``load``; kill -9 Redis once mid-way and restart it from its AOF."""
    task = asyncio.create_task(load.run())
    # Kill mid-load whatever the machine's speed: once a random share has been acknowledged.
    share = rng.uniform(0.2, 0.6)

    async def under_way() -> bool:
        return load.acked.submissions >= share * GRIEVANCES

    await eventually(under_way, timeout=60, interval=0.005)
    acked_before = load.acked.submissions
    window_start = time.monotonic()
    assert stack.redis is not None
    await asyncio.to_thread(stack.redis.kill)
    down_at = time.monotonic()
    await asyncio.sleep(rng.uniform(0.2, 0.5))
    await asyncio.to_thread(stack.start_redis)
    up_at = time.monotonic()
    assert not task.done(), "the load finished before Redis was killed: raise GRIEVANCES"
    await task
    elapsed = load.finished_at - load.started_at
    return {
        "acked_before_kill": acked_before,
        "down_s": round(up_at - down_at, 2),
        "kill_at_s": round(window_start - load.started_at, 2),
        "acks_per_s": round((load.acked.submissions) / elapsed, 1),
    }


async def _run(tmp_path: Path, appendfsync: str) -> tuple[dict[str, Any], Any, Load]:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)  # printed with the figures, so a failing run can be replayed
    start = time.monotonic()
    async with running_stack(tmp_path, appendfsync=appendfsync) as (stack, client):
        load = Load(stack, client, grievances=GRIEVANCES)
        figures = await _kill_redis_under_load(stack, load, rng)
        drained_s = await drain(client, within_s=60)
        result = await verdict(client, load.acked)
        lost_202 = [
            item for item in result.lost if "got a 202" in item or "neither accepted" in item
        ]
        figures = {
            "appendfsync": appendfsync,
            "seed": seed,
            **figures,
            "grievances_acked": load.acked.submissions,
            "actions_acked": len(load.acked.actions),
            "lost_acknowledged_submissions": len(lost_202),
            "drain_s": round(drained_s, 1),
            "total_s": round(time.monotonic() - start, 1),
            **result.counts(),
        }
        record(tmp_path, f"kill_redis_{appendfsync}", figures)
    return figures, result, load


async def test_redis_kill_with_appendfsync_always_loses_no_acknowledgement(
    tmp_path: Path,
) -> None:
    """kill -9 Redis mid-load with fsync always: every 202 and XADD survives; checker zero."""
    figures, result, load = await _run(tmp_path, "always")
    assert figures["grievances_acked"] == GRIEVANCES
    assert not load.acked.indeterminate_keys
    assert figures["lost_acknowledged_submissions"] == 0
    assert result.ok, result.summary()


async def test_redis_kill_with_appendfsync_everysec_window_is_measured(tmp_path: Path) -> None:
    """kill -9 Redis mid-load with fsync everysec: count lost 202s and record the window."""
    figures, result, _load = await _run(tmp_path, "everysec")
    # Not asserted to be zero: everysec trades up to ~1 s of writes for speed.  What must
    # hold is that the measurement ran and nothing was *doubled* by the restart.
    assert figures["grievances_acked"] > figures["acked_before_kill"] > 0
    assert figures["lost_acknowledged_submissions"] >= 0
    assert not result.duplicated, result.summary()
