"""Limits on actions, answered by intake before anything is queued and kept by the router.

An extension may move the resolve deadline at most the SLA policy's ``max_extension`` past
the current one, and a grievance holds at most ``MAX_NOTES`` notes: over HTTP both are a 422
that names the limit (nothing reaches ``zt:actions``); published on the stream directly,
the router answers with ``action.refused``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.intake.app import build_app
from shared.config import Config
from shared.events import MAX_NOTES
from shared.streams import Keys
from tests.conftest import ROOT
from tests.helpers import eventually
from tests.integration.intake_support import (
    AUTH,
    BRANCH_AUTH,
    OVERSIGHT_AUTH,
    grievance_body,
    intake_settings,
)
from tests.integration.router_support import events_of, fast_config, running_router

pytestmark = pytest.mark.integration

KEYS = Keys()
MAX_EXTENSION_S = 3600


@pytest.fixture(name="config")
def fixture_config() -> Config:
    """Return the demo config with slow SLAs and a one-hour maximum extension."""
    return fast_config(ack=600, resolve=6000, max_extension=MAX_EXTENSION_S)


@pytest.fixture(name="stack")
async def fixture_stack(redis_url: str, config: Config) -> AsyncIterator[httpx.AsyncClient]:
    """Return a client on an in-process intake with a router behind it."""
    app = build_app(intake_settings(redis_url, ROOT / "config" / "demo.yaml"), config)
    async with running_router(redis_url, config), app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


async def assigned(client: httpx.AsyncClient) -> dict[str, Any]:
    """Submit a grievance as the demo app; return its view once a member holds it."""
    reply = await client.post("/v1/grievances", json=grievance_body(), headers=AUTH)
    gid = reply.json()["id"]

    async def probe() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/grievances/{gid}", headers=OVERSIGHT_AUTH)).json()
        return view if view.get("state") == "assigned" else None

    return await eventually(probe)


def extension(view: dict[str, Any], past_current: timedelta) -> dict[str, Any]:
    """Return an extend action moving ``view``'s resolve deadline ``past_current`` later."""
    due = datetime.fromisoformat(view["resolve_due_at"])
    member = {"id": view["assignee"]["id"], "role": "member"}
    return {
        "type": "extend",
        "actor": member,
        "reason": "需协调物业",
        "new_deadline": (due + past_current).isoformat(),
    }


async def test_extension_past_the_policy_maximum_is_422_naming_the_limit(
    stack: httpx.AsyncClient, redis: Redis
) -> None:
    """max_extension 1h: +1h01m is a 422 naming the limit with nothing queued; +59m applies."""
    view = await assigned(stack)
    gid, url = view["id"], f"/v1/grievances/{view['id']}/actions"
    too_far = extension(view, timedelta(seconds=MAX_EXTENSION_S + 60))
    reply = await stack.post(url, json=too_far, headers=BRANCH_AUTH)
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert "max_extension (1h)" in detail
    assert f"current resolve deadline {view['resolve_due_at'][:19]}Z" in detail
    assert "nothing was queued" in detail
    assert await redis.xlen(KEYS.actions) == 0

    within = extension(view, timedelta(seconds=MAX_EXTENSION_S - 60))
    assert (await stack.post(url, json=within, headers=BRANCH_AUTH)).status_code == 202

    async def extended() -> dict[str, Any] | None:
        events = await events_of(redis, gid)
        return next((e for e in events if e["type"] == "grievance.extended"), None)

    moved = datetime.fromisoformat((await eventually(extended))["data"]["new_deadline"])
    assert abs(moved - datetime.fromisoformat(within["new_deadline"])) < timedelta(seconds=1)


async def test_note_past_the_limit_is_422_before_anything_is_queued(
    stack: httpx.AsyncClient, redis: Redis
) -> None:
    """With MAX_NOTES notes on the timeline, the next note is a 422 and zt:actions is unchanged."""
    view = await assigned(stack)
    gid, url = view["id"], f"/v1/grievances/{view['id']}/actions"
    worker = {"id": "w-1001", "role": "worker"}
    for i in range(MAX_NOTES):
        note = {"type": "add_note", "actor": worker, "note": f"补充第{i}条"}
        assert (await stack.post(url, json=note, headers=AUTH)).status_code == 202

    async def all_noted() -> bool:
        events = await events_of(redis, gid)
        return sum(e["type"] == "grievance.note_added" for e in events) == MAX_NOTES

    await eventually(all_noted, timeout=20)
    queued = await redis.xlen(KEYS.actions)
    note = {"type": "add_note", "actor": worker, "note": "再补充一条"}
    reply = await stack.post(url, json=note, headers=AUTH)
    assert reply.status_code == 422, reply.text
    assert f"this grievance already has {MAX_NOTES} notes" in reply.json()["detail"]
    assert await redis.xlen(KEYS.actions) == queued
