"""The router's chain on real Redis: escalation, actions, reopen, close — each event once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.router_support import (
    KEYS,
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
    # Only the bookkeeping moves: the event counter and the record's version.
    assert {k: v for k, v in after.items() if k not in {"seq", "v"}} == {
        k: v for k, v in before.items() if k not in {"seq", "v"}
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


async def _no_due_timer(redis: Redis, gid: str) -> bool:
    """Return whether no timer of ``gid`` is due by the Redis clock (the poller took them)."""
    secs, micros = await redis.time()
    due = await redis.zrangebyscore(KEYS.timers, "-inf", secs * 1000 + micros // 1000)
    return not any(m.decode().startswith(f"{gid}|") for m in due)


def _alarms(events: list[dict[str, object]], reason: str) -> int:
    return sum(e["type"] == "grievance.overdue" and e["reason"] == reason for e in events)


async def test_missed_committee_deadline_is_alarmed_once_whatever_follows(
    redis_url: str, redis: Redis
) -> None:
    """Acknowledging, asking and hearing back on an overdue committee grievance re-alarm nothing."""
    grievance = make_grievance()
    gid = grievance.id
    committee = {"id": "c-express", "role": "committee"}
    async with running_router(redis_url, fast_config(ack=1, resolve=2, overdue_repeat=3600)):
        await submit(redis, grievance)
        probe = await _wait_for(redis, gid, "grievance.overdue", count=2)
        assert _alarms(probe, "ack_overdue") == _alarms(probe, "resolve_overdue") == 1
        await act(redis, gid, type="acknowledge", actor=committee)
        await _wait_for(redis, gid, "grievance.acknowledged")
        await eventually(lambda: _no_due_timer(redis, gid))
        assert _alarms(await events_of(redis, gid), "resolve_overdue") == 1

        await act(redis, gid, type="request_info", actor=committee, note="请补充小区名称")
        await act(redis, gid, type="worker_reply", actor=WORKER, note="阳光花园")
        await _wait_for(redis, gid, "grievance.worker_replied")
        await eventually(lambda: _no_due_timer(redis, gid))
        record = await state_of(redis, gid)
    events = await events_of(redis, gid)
    assert _alarms(events, "resolve_overdue") == 1
    assert [e["tier"] for e in events if e["type"] == "grievance.overdue"] == [3, 3]
    assert (record["state"], record["overdue"]) == ("acknowledged", "1")
    # Still overdue, so oversight keeps hearing on the repeat interval, not at once.
    assert record["timers"].split() == ["od"]


async def test_acknowledging_a_missed_committee_ack_leaves_the_resolve_deadline_running(
    redis_url: str, redis: Redis
) -> None:
    """A late committee ack clears overdue; the resolve deadline then alarms exactly once."""
    grievance = make_grievance()
    gid = grievance.id
    committee = {"id": "c-express", "role": "committee"}
    async with running_router(redis_url, fast_config(ack=1, resolve=4, overdue_repeat=3600)):
        await submit(redis, grievance)
        await _wait_for(redis, gid, "grievance.overdue")
        await act(redis, gid, type="acknowledge", actor=committee)
        acked = _first(await _wait_for(redis, gid, "grievance.acknowledged"), "acknowledged")
        assert (await state_of(redis, gid))["overdue"] == "0"
        await _wait_for(redis, gid, "grievance.overdue", count=2)
        await eventually(lambda: _no_due_timer(redis, gid))
    events = await events_of(redis, gid)
    assert [e["reason"] for e in events if e["type"] == "grievance.overdue"] == [
        "ack_overdue",
        "resolve_overdue",
    ]
    resolve_alarm = next(e for e in events if e.get("reason") == "resolve_overdue")
    assert str(resolve_alarm["at"]) >= str(acked["resolve_due_at"])
    assert (await state_of(redis, gid))["overdue"] == "1"


async def test_rating_window_close_is_on_every_event_while_it_is_open(
    redis_url: str, redis: Redis
) -> None:
    """grievance.resolved and the first rating request carry feedback_closes_at; closed not."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=60, resolve=600)):
        await submit(redis, grievance)
        assignee = (await _wait_for(redis, gid, "grievance.assigned"))[0]["assignee"]
        member = {"id": assignee, "role": "member"}
        await act(redis, gid, type="resolve", actor=member, resolution="已协调物业开放快递通道")
        events = await _wait_for(redis, gid, "grievance.feedback_requested")
        record = await state_of(redis, gid)
        closes_ms = await redis.zscore(KEYS.timers, f"{gid}|fb|{record['gen']}")
        await act(redis, gid, type="feedback", actor=WORKER, rating=5)
        closed = _first(await _wait_for(redis, gid, "grievance.closed"), "closed")
    resolved, asked = _first(events, "resolved"), _first(events, "feedback_requested")
    closes_at = datetime.fromisoformat(str(resolved["feedback_closes_at"]))
    assert asked["feedback_closes_at"] == resolved["feedback_closes_at"]
    assert closes_ms is not None
    assert closes_at == datetime.fromtimestamp(closes_ms / 1000, UTC)
    at = datetime.fromisoformat(str(resolved["at"]))
    assert closes_at - at == timedelta(hours=72)  # the default feedback window
    assert "feedback_closes_at" not in closed
    assert "feedback_closes_at" not in _first(events, "assigned")


async def test_reclassify_from_the_stream_recounts_the_clock_and_tells_it(
    redis_url: str, redis: Redis
) -> None:
    """A committee reclassifies normal → critical: record, SLA, deadline and event all follow."""
    grievance = make_grievance()
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=600, resolve=3600)):
        await submit(redis, grievance)
        await _wait_for(redis, gid, "grievance.assigned")
        before = await state_of(redis, gid)
        await act(
            redis,
            gid,
            type="reclassify",
            actor={"id": "c-express", "role": "committee"},
            category="safety_hazard",
            urgency="critical",
            reason="现场闻到燃气味",
        )
        events = await _wait_for(redis, gid, "grievance.reclassified")
    after = await state_of(redis, gid)
    (event,) = [e for e in events if e["type"] == "grievance.reclassified"]
    assert (after["category"], after["urgency"]) == ("safety_hazard", "critical")
    assert event["data"]["previous_category"] == "road_access"
    assert event["reason"] == "现场闻到燃气味"
    # fast_config gives every urgency the same SLA, so the clock is recounted but unmoved.
    assert after["ack_due"] == before["ack_due"]
    assert event["data"]["deadline_moved"] is False
