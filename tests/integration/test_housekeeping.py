"""Safe stream trimming, dead-consumer pruning and retention anonymisation on real Redis."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from services.router.retention import anonymise_expired
from shared import stats
from shared.janitor import prune_consumers, safe_trim
from shared.privacy import pseudonym
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


SECRET = "test-pseudonym-secret-0123456789"
PHONES = (
    "13912345678",
    "139 1234 5679",
    "139-1234-5670",
    "１３９１２３４５６７１",
    "0571-87654321",
)
IDS = ("11010519491231002X", "110105491231002", "110105 19491231 0031")


async def _closed_grievance(redis_url: str, redis: Redis) -> str:
    """Return the id of a grievance that went through notes, resolution and feedback."""
    grievance = make_grievance(id="w-张伟", name="张伟", phone="13912345678")
    grievance.description = "我的电话13912345678，身份证11010519491231002X，工资被拖欠3500元"
    worker = {"id": "w-张伟", "role": "worker"}
    async with running_router(redis_url, fast_config(ack=600, resolve=6000)):
        await submit(redis, grievance)
        (assigned,) = await eventually(lambda: events_of(redis, grievance.id))
        unit = {"id": assigned["assignee"], "role": "member"}
        await act(
            redis,
            grievance.id,
            type="add_note",
            actor=worker,
            note=f"也可以打 {PHONES[1]} 或 {PHONES[4]}，身份证 {IDS[1]}",
        )
        await act(redis, grievance.id, type="acknowledge", actor=unit)
        await act(
            redis,
            grievance.id,
            type="resolve",
            actor=unit,
            resolution=f"已联系 {PHONES[2]}（身份证 {IDS[2]}），补发3500元",
        )
        await act(
            redis,
            grievance.id,
            type="feedback",
            actor=worker,
            rating=5,
            comment=f"满意，我的新号 {PHONES[3]}",
        )

        async def ended() -> bool:
            return await redis.zscore(KEYS.ended_index, grievance.id) is not None

        await eventually(ended)
    return grievance.id


async def test_retention_anonymises_every_trace_of_the_worker_and_keeps_stats(
    redis_url: str, redis: Redis
) -> None:
    """After retention no name, id, phone or ID number is left in record, document or timeline."""
    gid = await _closed_grievance(redis_url, redis)
    before = await stats.compute(redis, KEYS)
    timeline_before = await redis.lrange(KEYS.timeline(gid), 0, -1)
    assert b"comment" in b"".join(timeline_before)  # the scenario reached feedback
    assert await anonymise_expired(redis, KEYS, retention_s=0, secret=SECRET) == 1
    record = {k.decode(): v.decode() for k, v in (await redis.hgetall(KEYS.grievance(gid))).items()}
    doc = (await redis.get(KEYS.document(gid)) or b"").decode()
    timeline = b"\n".join(await redis.lrange(KEYS.timeline(gid), 0, -1)).decode()
    text = json.dumps(record, ensure_ascii=False) + doc + timeline
    for secret in ("张伟", "w-张伟", *PHONES, *IDS, "13800138000"):
        assert secret not in text, secret
    alias = pseudonym(SECRET, "w-张伟")
    assert record["worker_id"] == alias
    assert alias != pseudonym("another-secret-0123456789", "w-张伟")  # keyed, not a bare hash
    actors = [json.loads(e).get("actor", {}) for e in await redis.lrange(KEYS.timeline(gid), 0, -1)]
    assert {a["id"] for a in actors if a.get("role") == "worker"} == {alias}
    assert "3500元" in timeline  # amounts are not personal data
    assert len(timeline_before) == timeline.count("\n") + 1
    assert await stats.compute(redis, KEYS) == before
    assert await anonymise_expired(redis, KEYS, retention_s=0, secret=SECRET) == 0
