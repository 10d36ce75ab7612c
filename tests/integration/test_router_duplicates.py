"""Civic duplicates in the router: linked, told, and given the original's outcome."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from shared.events import Category
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


async def _types(redis: Redis, gid: str, want: str) -> list[str]:
    async def probe() -> list[str]:
        types = [e["type"] for e in await events_of(redis, gid)]
        return types if want in types else []

    return await eventually(probe, timeout=10)


async def _original_and_duplicate(redis: Redis) -> tuple[str, str]:
    original = make_grievance()
    original.category = Category.PUBLIC_FACILITY
    await submit(redis, original)
    await _types(redis, original.id, "grievance.assigned")
    duplicate = make_grievance(id="w-3003")
    duplicate.category = Category.PUBLIC_FACILITY
    duplicate.duplicate_of = original.id
    await submit(redis, duplicate)
    await _types(redis, duplicate.id, "grievance.duplicate_linked")
    return original.id, duplicate.id


async def test_duplicate_hears_the_original_resolution(redis_url: str, redis: Redis) -> None:
    """Both reporters are told of the link; resolving the original resolves the duplicate."""
    async with running_router(redis_url, fast_config(ack=600, resolve=6000)):
        original, duplicate = await _original_and_duplicate(redis)
        await _types(redis, original, "grievance.duplicate_linked")
        record = await state_of(redis, original)
        assignee = {"id": record["assignee"], "role": "member"}
        await act(redis, duplicate, type="acknowledge", actor=assignee)
        await act(redis, original, type="resolve", actor=assignee, resolution="水管已修复")
        types = await _types(redis, duplicate, "grievance.closed")
    assert types == [
        "grievance.duplicate_linked",
        "action.refused",
        "grievance.resolved",
        "grievance.closed",
    ]
    events = await events_of(redis, duplicate)
    assert events[0]["data"]["duplicate_of"] == original
    assert events[2]["data"]["resolution"] == "水管已修复"
    assert (await state_of(redis, duplicate))["timers"] == ""


async def test_withdrawn_original_promotes_its_duplicate(redis_url: str, redis: Redis) -> None:
    """If the original is withdrawn, the duplicate is routed on its own with a clock."""
    async with running_router(redis_url, fast_config(ack=600, resolve=6000)):
        original, duplicate = await _original_and_duplicate(redis)
        await act(redis, original, type="withdraw", actor={"id": "w-1001", "role": "worker"})
        await _types(redis, duplicate, "grievance.assigned")
    record = await state_of(redis, duplicate)
    assert record["state"] == "assigned"
    assert record["duplicate_of"] == ""
    assert len(record["timers"].split()) == 4
