"""The router's chain on real Redis: escalation, actions, reopen, close — each event once."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.router_support import (
    act,
    events_of,
    fast_config,
    make_grievance,
    running_router,
    state_of,
    submit,
)

pytestmark = pytest.mark.integration

WORKER = {"id": "w-1001", "role": "worker"}


async def _wait_for(redis: Redis, gid: str, etype: str, count: int = 1) -> list[dict[str, object]]:
    async def probe() -> list[dict[str, object]]:
        events = await events_of(redis, gid)
        return events if sum(e["type"] == etype for e in events) >= count else []

    return await eventually(probe, timeout=15)


def _first(events: list[dict[str, object]], kind: str) -> dict[str, object]:
    return next(e for e in events if e["type"] == f"grievance.{kind}")


async def test_full_chain_walks_member_branch_committee_and_closes(
    redis_url: str, redis: Redis
) -> None:
    """No ack escalates to the branch; a rating of 1 reopens at the committee; 5 closes."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=1, resolve=30)):
        await submit(redis, grievance)
        assigned = (await _wait_for(redis, gid, "grievance.assigned"))[0]
        assert assigned["tier"] == 1
        assert assigned["assignee"] in {"m-wang", "m-li"}

        escalated = next(
            e
            for e in await _wait_for(redis, gid, "grievance.escalated")
            if e["type"] == "grievance.escalated"
        )
        assert (escalated["tier"], escalated["assignee"]) == (2, "b-zto-east")
        assert escalated["reason"] == "ack_overdue"
        assert escalated["previous_assignee"] == assigned["assignee"]

        branch = {"id": "b-zto-east", "role": "branch"}
        await act(redis, gid, type="acknowledge", actor=branch)
        await _wait_for(redis, gid, "grievance.acknowledged")
        await act(redis, gid, type="resolve", actor=branch, resolution="已协调物业开放快递通道")
        await _wait_for(redis, gid, "grievance.feedback_requested")
        await act(redis, gid, type="feedback", actor=WORKER, rating=1, comment="还是进不去")
        reopened = next(
            e
            for e in await _wait_for(redis, gid, "grievance.reopened")
            if e["type"] == "grievance.reopened"
        )
        assert (reopened["tier"], reopened["assignee"]) == (3, "c-express")

        committee = {"id": "c-express", "role": "committee"}
        await act(redis, gid, type="acknowledge", actor=committee)
        await _wait_for(redis, gid, "grievance.acknowledged", count=2)
        await act(redis, gid, type="resolve", actor=committee, resolution="联席会议后已开放通道")
        await _wait_for(redis, gid, "grievance.feedback_requested", count=2)
        await act(redis, gid, type="feedback", actor=WORKER, rating=5)
        await _wait_for(redis, gid, "grievance.closed")

    events = await events_of(redis, gid)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["event_id"] for e in events}) == len(events)
    lifecycle = [e["type"] for e in events if e["type"] != "grievance.sla_warning"]
    assert lifecycle == [
        "grievance.assigned",
        "grievance.escalated",
        "grievance.acknowledged",
        "grievance.resolved",
        "grievance.feedback_requested",
        "grievance.reopened",
        "grievance.acknowledged",
        "grievance.resolved",
        "grievance.feedback_requested",
        "grievance.closed",
    ]
    record = await state_of(redis, gid)
    assert record["state"] == "closed"
    assert record["rating"] == "5"
    assert record["timers"] == ""
    assert await redis.zcard("zt:timers") == 0


async def test_refused_action_changes_nothing_and_is_an_event(redis_url: str, redis: Redis) -> None:
    """A wrong actor and a wrong state are refused with reasons; state stays as it was."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=60, resolve=600)):
        await submit(redis, grievance)
        await _wait_for(redis, gid, "grievance.assigned")
        before = await state_of(redis, gid)
        await act(
            redis,
            gid,
            type="resolve",
            actor={"id": "m-zhao", "role": "member"},
            resolution="不是我的",
        )
        await act(redis, gid, type="feedback", actor=WORKER, rating=5)
        await act(redis, gid, type="withdraw", actor={"id": "w-other", "role": "worker"})
        refusals = [
            e
            for e in await _wait_for(redis, gid, "action.refused", count=3)
            if e["type"] == "action.refused"
        ]
    after = await state_of(redis, gid)
    assert {k: v for k, v in after.items() if k != "seq"} == {
        k: v for k, v in before.items() if k != "seq"
    }
    reasons = [e["reason"] for e in refusals]
    assert "neither the current assignee" in reasons[0]
    assert "resolved" in reasons[1]
    assert "only the worker" in reasons[2]
    assert [e["data"]["refused_action"] for e in refusals] == ["resolve", "feedback", "withdraw"]


async def test_redelivered_submission_and_action_yield_no_second_event(
    redis_url: str, redis: Redis
) -> None:
    """The same zt:submitted entry and the same action id twice produce one event each."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=60, resolve=600)):
        await submit(redis, grievance)
        await _wait_for(redis, gid, "grievance.assigned")
        # Replay the submitted entry as a redelivery would.
        ((_, fields),) = await redis.xrange("zt:submitted")
        await redis.xadd("zt:submitted", fields)
        record = await state_of(redis, gid)
        body = {
            "action_id": "ack-once",
            "grievance_id": gid,
            "type": "acknowledge",
            "actor": {"id": record["assignee"], "role": "member"},
        }
        from shared import codec

        await redis.xadd("zt:actions", codec.fields(body))
        await redis.xadd("zt:actions", codec.fields(body))
        await act(redis, gid, type="add_note", actor=WORKER, note="补充：物业电话已提供")
        await _wait_for(redis, gid, "grievance.note_added")
        groups = await redis.xinfo_groups("zt:submitted")
        await eventually(lambda: _drained(redis))
        assert groups
    types = [e["type"] for e in await events_of(redis, gid)]
    assert types.count("grievance.assigned") == 1
    assert types.count("grievance.acknowledged") == 1


async def _drained(redis: Redis) -> bool:
    for stream in ("zt:submitted", "zt:actions"):
        for group in await redis.xinfo_groups(stream):
            if group["pending"] or group["lag"]:
                return False
    return True
