"""Working time through the running router on real Redis: the Redis clock cannot be set, so
the calendar's UTC offset puts *now* at 21:00 local, after the day's 09:00–18:00."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from services.router import working_time
from services.router.working_time import Calendar
from shared.config import Config, TierSla, UrgencySla, WorkingHours
from shared.events import Urgency
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

HOUR = 3600
MEMBER = {"id": "m-wang", "role": "member"}
WORKER = {"id": "w-1001", "role": "worker"}


def _evening_hours() -> WorkingHours:
    """Return every-day 09:00–18:00 hours in the offset where it is 21:00 now."""
    now = datetime.now(UTC)
    offset = (21 * 60 - (now.hour * 60 + now.minute)) % 1440
    return WorkingHours(days=list(range(1, 8)), utc_offset_minutes=offset - 1440 * (offset > 840))


def _config(hours: WorkingHours) -> Config:
    config = fast_config()
    tiers = TierSla(ack=2 * HOUR, resolve=6 * HOUR)
    table = UrgencySla(member=tiers, branch=tiers, committee=tiers)
    policy = config.sla.model_copy(
        update={"urgency": dict.fromkeys(Urgency, table), "calendar": hours}
    )
    return config.model_copy(update={"sla": policy})


async def _timers(redis: Redis, gid: str) -> dict[str, int]:
    """Return the grievance's pending timers by kind, with their due times (ms)."""
    rows = await redis.zrange(KEYS.timers, 0, -1, withscores=True)
    return {
        member.decode().split("|")[1]: int(score)
        for member, score in rows
        if member.decode().startswith(f"{gid}|")
    }


async def _after(redis: Redis, gid: str, event: str) -> dict[str, str]:
    async def seen() -> bool:
        return event in [e["type"] for e in await events_of(redis, gid)]

    await eventually(seen)
    return await state_of(redis, gid)


async def test_deadlines_pauses_and_extensions_land_inside_working_hours(
    redis_url: str, redis: Redis
) -> None:
    """Assigned, paused and resumed at 21:00 local: every deadline and timer is a working
    instant, and the evening's pause moves the resolve deadline by nothing."""
    hours = _evening_hours()
    calendar = Calendar.of(hours)
    grievance = make_grievance()
    async with running_router(redis_url, _config(hours)):
        await submit(redis, grievance)
        record = await _after(redis, grievance.id, "grievance.assigned")
        assigned = await _timers(redis, grievance.id)
        await act(redis, grievance.id, type="acknowledge", actor=MEMBER)
        await _after(redis, grievance.id, "grievance.acknowledged")
        await act(redis, grievance.id, type="request_info", actor=MEMBER, note="照片?")
        paused = await _after(redis, grievance.id, "grievance.info_requested")
        await act(redis, grievance.id, type="worker_reply", actor=WORKER, note="已补充")
        resumed = await _after(redis, grievance.id, "grievance.worker_replied")
        after_reply = await _timers(redis, grievance.id)
        # Due tomorrow 15:00 local; asked for the day after at 21:00, after hours.
        night = int(resumed["resolve_due"]) + 30 * HOUR * 1000
        at_night = datetime.fromtimestamp(night / 1000, UTC).isoformat()
        extension = {"reason": "需物业配合", "new_deadline": at_night}
        await act(redis, grievance.id, type="extend", actor=MEMBER, **extension)
        extended = await _after(redis, grievance.id, "grievance.extended")
        after_extension = await _timers(redis, grievance.id)
    assert set(assigned) == {"ack", "wa", "res", "wr"}
    instants: list[Any] = [*assigned.values(), *after_reply.values(), *after_extension.values()]
    instants += [int(record["ack_due"]), int(record["resolve_due"]), int(extended["resolve_due"])]
    assert all(working_time.at_work(t, calendar) == t for t in instants), instants
    assert paused["paused_remaining"] == str(6 * HOUR * 1000)
    assert resumed["resolve_due"] == record["resolve_due"]  # the evening pause cost nothing
    assert after_reply["res"] == int(record["resolve_due"])
    assert int(extended["resolve_due"]) == night + 12 * HOUR * 1000  # the next 09:00
