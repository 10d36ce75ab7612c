"""The issue's two KPI examples on real Redis: early withdrawals and reopened ratings."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from shared.stats import compute
from tests.helpers import eventually
from tests.integration.router_support import (
    KEYS,
    act,
    events_of,
    make_grievance,
    member_breach_config,
    running_router,
    state_of,
    submit,
)

pytestmark = pytest.mark.integration

WORKER = {"id": "w-1001", "role": "worker"}


async def _assignee(redis: Redis, gid: str) -> str:
    async def probe() -> str:
        return (await state_of(redis, gid)).get("assignee", "")

    return await eventually(probe)


async def _has(redis: Redis, gid: str, etype: str) -> None:
    async def probe() -> bool:
        return any(e["type"] == etype for e in await events_of(redis, gid))

    await eventually(probe)


async def test_withdrawn_a_minute_after_filing_is_not_a_missed_response(
    redis_url: str, redis: Redis
) -> None:
    """One acknowledged in SLA, one withdrawn long before its deadline: response rate 1.0."""
    answered, withdrawn = make_grievance(), make_grievance(id="w-2")
    async with running_router(redis_url, member_breach_config(3600)):
        await submit(redis, answered)
        await submit(redis, withdrawn)
        member = await _assignee(redis, answered.id)
        holder = await _assignee(redis, withdrawn.id)
        await act(redis, answered.id, type="acknowledge", actor={"id": member, "role": "member"})
        await act(redis, withdrawn.id, type="withdraw", actor={"id": "w-2", "role": "worker"})
        await _has(redis, answered.id, "grievance.acknowledged")
        await _has(redis, withdrawn.id, "grievance.withdrawn")
    stats = await compute(redis, KEYS)
    assert stats["overall"]["response_rate"] == 1.0
    assert stats["overall"]["resolution_rate"] == 0.0  # the answered one is still owed
    assert stats["by_unit"][holder]["response_rate"] in {None, 1.0}
    assert stats["by_unit"][holder]["total"] >= 1


async def test_rating_after_reopen_is_credited_to_the_member_who_resolved(
    redis_url: str, redis: Redis
) -> None:
    """Member resolved, worker rated 1, reopened to the branch: the member holds the sample."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, member_breach_config(3600)):
        await submit(redis, grievance)
        member = {"id": await _assignee(redis, gid), "role": "member"}
        await act(redis, gid, type="resolve", actor=member, resolution="已协调物业开放快递通道")
        await _has(redis, gid, "grievance.feedback_requested")
        await act(redis, gid, type="feedback", actor=WORKER, rating=1, comment="还是进不去")
        await _has(redis, gid, "grievance.reopened")
    record = await state_of(redis, gid)
    assert (record["assignee"], record["tier"]) == ("b-zto-east", "2")
    stats = await compute(redis, KEYS)
    assert stats["by_unit"][member["id"]]["satisfaction_rate"] == 0.0
    assert stats["by_unit"][member["id"]]["resolution_rate"] == 1.0
    assert stats["by_unit"]["b-zto-east"]["satisfaction_rate"] is None
    assert stats["by_unit"]["b-zto-east"]["open"] == 1
    assert stats["by_tier"]["1"]["satisfaction_rate"] == 0.0
    assert stats["by_tier"]["2"]["satisfaction_rate"] is None
