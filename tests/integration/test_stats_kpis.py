"""KPIs on real Redis through the running router: the issue's two examples (an early
withdrawal, a reopened rating), windows by submission day, names, the rebuild, the API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis

from shared.events import Grievance
from shared.kpi import kpi_writes, tally
from shared.stats import compute, load_records, rebuild_counters, stored_counters
from tests.helpers import eventually
from tests.integration.intake_support import (
    OVERSIGHT_AUTH,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
)
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
NAMES = {"m-wang": "党员快递员王师傅", "m-li": "党员快递员李师傅", "b-zto-east": "城东快递网点"}


async def _assignee(redis: Redis, gid: str) -> str:
    async def probe() -> str:
        return (await state_of(redis, gid)).get("assignee", "")

    return await eventually(probe)


async def _has(redis: Redis, gid: str, etype: str) -> None:
    async def probe() -> bool:
        return any(e["type"] == etype for e in await events_of(redis, gid))

    await eventually(probe)


async def _recount(redis: Redis) -> dict[str, Counter[str]]:
    return tally(KEYS, (await load_records(redis, KEYS)).values())


async def test_withdrawn_a_minute_after_filing_is_not_a_missed_response(
    redis_url: str, redis: Redis
) -> None:
    """One acknowledged in SLA, one withdrawn a minute after filing: response rate 1.0."""
    answered, withdrawn = make_grievance(), make_grievance(id="w-2")
    withdrawn.submitted_at -= timedelta(minutes=1)
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
    assert stats["overall"]["counts"]["response_due"] == 1  # the withdrawn one was never due
    assert stats["overall"]["resolution_rate"] == 0.0  # the answered one is still owed
    assert stats["by_unit"][holder]["response_rate"] == (1.0 if holder == member else None)
    assert stats["by_state"] == {"acknowledged": 1, "withdrawn": 1}
    assert await stored_counters(redis, KEYS) == await _recount(redis)


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
    stats = await compute(redis, KEYS, names=NAMES)
    by_member, branch = stats["by_unit"][member["id"]], stats["by_unit"]["b-zto-east"]
    assert (by_member["satisfaction_rate"], by_member["resolution_rate"]) == (0.0, 1.0)
    assert by_member["name"] == NAMES[member["id"]]
    assert (branch["satisfaction_rate"], branch["open"]) == (None, 1)
    assert stats["by_tier"]["1"]["satisfaction_rate"] == 0.0
    assert stats["by_tier"]["2"]["satisfaction_rate"] is None
    assert await stored_counters(redis, KEYS) == await _recount(redis)


def _filed(days_ago: int) -> Grievance:
    grievance = make_grievance()
    grievance.submitted_at = datetime.now(UTC) - timedelta(days=days_ago)
    return grievance


async def test_windows_count_the_grievances_submitted_in_them(redis_url: str, redis: Redis) -> None:
    """Filed today, yesterday and 3 days ago (UTC days): each window holds its cohort."""
    grievances = [_filed(0), _filed(1), _filed(3)]
    async with running_router(redis_url, member_breach_config(3600)):
        for grievance in grievances:
            await submit(redis, grievance)
        member = await _assignee(redis, grievances[1].id)
        await act(
            redis, grievances[1].id, type="acknowledge", actor={"id": member, "role": "member"}
        )
        await _has(redis, grievances[1].id, "grievance.acknowledged")
        for grievance in grievances:
            await _assignee(redis, grievance.id)
    today = datetime.now(UTC).date()
    if grievances[0].submitted_at.date() != today:  # midnight passed meanwhile: try again
        pytest.skip("the UTC day changed during the test")
    days = [g.submitted_at.date() for g in grievances]

    async def total(since: date | None, until: date | None = None) -> int:
        stats = await compute(redis, KEYS, since=since, until=until)
        return int(stats["overall"]["total"])

    assert await total(None) == 3
    assert await total(days[0]) == 1  # until left out: up to today included
    assert await total(days[1], days[0]) == 1
    assert await total(days[2], days[0]) == 2
    assert await total(days[2] - timedelta(days=30), days[2]) == 0
    yesterday = await compute(redis, KEYS, since=days[1], until=days[0])
    assert yesterday["overall"]["response_rate"] == 1.0
    assert yesterday["window"] == {
        "since": days[1].isoformat(),
        "until": days[0].isoformat(),
        "cohort": "submitted",
        "timezone": "UTC",
    }
    assert await stored_counters(redis, KEYS) == await _recount(redis)


async def test_rebuild_recomputes_lost_or_stale_counters(redis_url: str, redis: Redis) -> None:
    """Counters deleted or wrong (grievances stored before them) are rebuilt from records."""
    grievances = [_filed(0), _filed(2)]
    async with running_router(redis_url, member_breach_config(3600)):
        for grievance in grievances:
            await submit(redis, grievance)
        member = await _assignee(redis, grievances[0].id)
        resolver = {"id": member, "role": "member"}
        await act(redis, grievances[0].id, type="resolve", actor=resolver, resolution="已解决")
        await _has(redis, grievances[0].id, "grievance.resolved")
        await _assignee(redis, grievances[1].id)
    kept = await stored_counters(redis, KEYS)
    before = await compute(redis, KEYS)
    await redis.delete(KEYS.kpi_all)
    await redis.hset(KEYS.kpi_day("2001-01-01"), "all|total", 7)
    await redis.hincrby(KEYS.kpi_day(grievances[1].submitted_at.date().isoformat()), "all|open", 5)
    assert await compute(redis, KEYS) != before
    assert await rebuild_counters(redis, KEYS) == 2
    assert await stored_counters(redis, KEYS) == kept
    assert await compute(redis, KEYS) == before


async def test_stats_api_reads_a_window_and_refuses_a_wrong_one(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """since/until are dates; a window must be ordered, bounded and start somewhere: else 422.
    Units carry their names from the directory."""
    await submit(redis, _filed(0))
    held = {"state": "assigned", "tier": "1", "assignee": "m-wang", "submitted_at": "1"}
    for command, key, args in kpi_writes(KEYS, {}, held):  # as a writer of the record would
        await redis.execute_command(command, key, *args)
    today = datetime.now(UTC).date()
    ok = await http.get("/v1/stats", params={"since": today.isoformat()}, headers=OVERSIGHT_AUTH)
    assert ok.status_code == 200, ok.text
    assert ok.json()["window"]["since"] == today.isoformat()
    assert ok.json()["overall"]["total"] in {0, 1}  # 0 only if midnight passed in between
    everything = (await http.get("/v1/stats", headers=OVERSIGHT_AUTH)).json()
    assert everything["by_unit"]["m-wang"]["name"] == "党员快递员王师傅"
    for params in (
        {"since": "2024-13-01"},
        {"since": "yesterday"},
        {"until": "2024-05-01"},
        {"since": "2024-05-02", "until": "2024-05-01"},
        {"since": "2020-01-01", "until": "2024-01-01"},
    ):
        reply = await http.get("/v1/stats", params=params, headers=OVERSIGHT_AUTH)
        assert reply.status_code == 422, (params, reply.text)
