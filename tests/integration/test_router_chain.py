"""Chains shorter than three units on real Redis: no unit ever escalates to itself."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from tests.helpers import eventually
from tests.integration.router_support import (
    events_of,
    fast_config,
    make_grievance,
    running_router,
    state_of,
    submit,
)

pytestmark = pytest.mark.integration


async def _first_missed_deadline(redis: Redis, gid: str) -> list[dict[str, Any]]:
    """Return the grievance's events once its first missed deadline was acted on."""

    async def probe() -> list[dict[str, Any]]:
        events = await events_of(redis, gid)
        done = {"grievance.escalated", "grievance.overdue"}
        return events if any(e["type"] in done for e in events) else []

    return await eventually(probe, timeout=15)


def _stored_units(record: dict[str, str]) -> list[str]:
    return [record[f"c{tier}u"] for tier in (1, 2, 3) if record.get(f"c{tier}u")]


async def test_fallback_alone_is_the_top_tier_and_a_missed_ack_is_overdue(
    redis_url: str, redis: Redis
) -> None:
    """No committee matched: the fallback holds tier 3 at once; its missed ack is overdue."""
    grievance = make_grievance(industry="other")
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=1, resolve=30, overdue_repeat=3600)):
        await submit(redis, grievance)
        events = await _first_missed_deadline(redis, gid)
        record = await state_of(redis, gid)
    assigned = next(e for e in events if e["type"] == "grievance.assigned")
    assert (assigned["tier"], assigned["assignee"]) == (3, "u-liangxin")
    missed = [e for e in events if e["type"] in {"grievance.escalated", "grievance.overdue"}]
    assert [(e["type"], e["tier"], e["reason"]) for e in missed] == [
        ("grievance.overdue", 3, "ack_overdue")
    ]
    assert _stored_units(record) == ["u-liangxin"]


async def test_fallback_below_a_committee_escalates_straight_to_it(
    redis_url: str, redis: Redis
) -> None:
    """No branch matched: the fallback holds tier 2, its missed ack escalates to the committee."""
    grievance = make_grievance(platform="某平台", region="外区")
    gid = grievance.id
    async with running_router(redis_url, fast_config(ack=1, resolve=30, overdue_repeat=3600)):
        await submit(redis, grievance)
        events = await _first_missed_deadline(redis, gid)
        record = await state_of(redis, gid)
    assigned = next(e for e in events if e["type"] == "grievance.assigned")
    assert (assigned["tier"], assigned["assignee"]) == (2, "u-liangxin")
    escalated = next(e for e in events if e["type"] == "grievance.escalated")
    assert (escalated["tier"], escalated["assignee"]) == (3, "c-express")
    assert _stored_units(record) == ["u-liangxin", "c-express"]
