"""Safe stream trimming, dead-consumer pruning and retention anonymisation on real Redis."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from services.router.retention import anonymise_expired
from shared import stats
from shared.janitor import prune_consumers, safe_trim
from tests.helpers import eventually
from tests.integration.router_support import (
    KEYS,
    act,
    events_of,
    fast_config,
    make_grievance,
    running_router,
    submit,
)

pytestmark = pytest.mark.integration


async def _ids(redis: Redis, stream: str) -> list[bytes]:
    return [entry_id for entry_id, _ in await redis.xrange(stream)]


async def test_trim_never_deletes_pending_or_unread_entries(redis: Redis) -> None:
    """Only entries every group has acknowledged are trimmed, whatever their age."""
    ids = [await redis.xadd("s", {"payload": str(i)}) for i in range(10)]
    await redis.xgroup_create("s", "g", id="0")
    await redis.xreadgroup("g", "c1", {"s": ">"}, count=6)
    await redis.xack("s", "g", *ids[:3])
    assert await safe_trim(redis, "s", keep_ms=0) == 3
    assert await _ids(redis, "s") == ids[3:]
    await redis.xack("s", "g", *ids[3:6])
    assert await safe_trim(redis, "s", keep_ms=0) == 3
    assert await _ids(redis, "s") == ids[6:]  # never read: kept


async def test_a_group_that_read_nothing_protects_everything(redis: Redis) -> None:
    """A second group at the start of the stream blocks trimming of what it has not read."""
    ids = [await redis.xadd("s", {"payload": str(i)}) for i in range(4)]
    await redis.xgroup_create("s", "fast", id="$")
    await redis.xgroup_create("s", "slow", id="0")
    assert await safe_trim(redis, "s", keep_ms=0) == 0
    assert await _ids(redis, "s") == ids


async def test_recent_entries_are_kept_for_the_retention_age(redis: Redis) -> None:
    """Acknowledged entries younger than the keep window stay for late readers."""
    ids = [await redis.xadd("s", {"payload": str(i)}) for i in range(3)]
    await redis.xgroup_create("s", "g", id="$")
    assert await safe_trim(redis, "s", keep_ms=3_600_000) == 0
    assert await _ids(redis, "s") == ids


async def test_idle_consumers_without_pending_entries_are_pruned(redis: Redis) -> None:
    """A dead consumer with nothing pending is forgotten; one with pending entries is kept."""
    await redis.xadd("s", {"payload": "1"})
    await redis.xgroup_create("s", "g", id="0")
    await redis.xreadgroup("g", "holder", {"s": ">"}, count=1)
    await redis.xgroup_createconsumer("s", "g", "dead")
    await redis.xgroup_createconsumer("s", "g", "me")

    async def pruned() -> list[str]:
        return await prune_consumers(redis, "s", idle_ms=0, keep="me")

    assert await eventually(pruned) == ["dead"]
    names = {c["name"] for c in await redis.xinfo_consumers("s", "g")}
    assert names == {b"holder", b"me"}


async def test_retention_anonymises_closed_grievances_and_keeps_stats(
    redis_url: str, redis: Redis
) -> None:
    """After retention, name/phone/id and numbers in the text are gone; KPIs are unchanged."""
    grievance = make_grievance(id="w-张伟", name="张伟", phone="13912345678")
    grievance.description = "我的电话13912345678，身份证11010519491231002X，工资被拖欠"
    async with running_router(redis_url, fast_config(ack=600, resolve=6000)):
        await submit(redis, grievance)

        async def assigned() -> list[dict[str, object]]:
            return await events_of(redis, grievance.id)

        (event,) = await eventually(assigned)
        await act(redis, grievance.id, type="withdraw",
                  actor={"id": "w-张伟", "role": "worker"})  # fmt: skip

        async def ended() -> bool:
            return await redis.zscore(KEYS.closed_index, grievance.id) is not None

        await eventually(ended)
    before = await stats.compute(redis, KEYS)
    assert await anonymise_expired(redis, KEYS, retention_s=0) == 1
    raw = await redis.hgetall(KEYS.grievance(grievance.id))
    record = {k.decode(): v.decode() for k, v in raw.items()}
    text = json.dumps(record, ensure_ascii=False)
    for secret in ("张伟", "13912345678", "11010519491231002X"):
        assert secret not in text
    assert record["worker_id"].startswith("anon-")
    assert await stats.compute(redis, KEYS) == before
    assert await anonymise_expired(redis, KEYS, retention_s=0) == 0
    assert event["type"] == "grievance.assigned"
