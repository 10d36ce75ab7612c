"""Poison messages: after N deliveries they land in zt:dlq with the reason, never blocking."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from shared import codec
from tests.chaos.harness import (
    AUTH,
    COMMITTEE_AUTH,
    KEYS,
    drain,
    grievance_body,
    record,
    running_stack,
)
from tests.checker import Acknowledged, check, observe
from tests.helpers import eventually

pytestmark = pytest.mark.chaos

MAX_DELIVERIES = 2
# Long enough that the good entries are done well before the poison is given up on.
RECLAIM_IDLE_MS = 1500
POISON_GRIEVANCE = "poison-g"


async def _publish_poison(client: Redis) -> dict[str, str]:
    """Put one always-failing entry on each consumed stream; return stream → entry id."""
    # A hash key of the wrong type makes every act script call fail (WRONGTYPE).
    await client.set(KEYS.grievance(POISON_GRIEVANCE), "not a hash")
    actor = {"id": "c-express", "role": "committee"}
    action = {
        "action_id": "poison-act",
        "grievance_id": POISON_GRIEVANCE,
        "type": "acknowledge",
        "actor": actor,
    }
    entries = {
        KEYS.submitted: codec.fields({"id": "poison-submission"}),
        KEYS.actions: codec.fields(action),
        KEYS.events: codec.fields({"event_id": "poison-event"}),
    }
    return {stream: (await client.xadd(stream, body)).decode() for stream, body in entries.items()}


async def _dlq(client: Redis) -> dict[tuple[str, str], dict[str, Any]]:
    # Two streams can mint the same entry id in the same millisecond: key by both.
    return {
        (body["stream"], body["entry_id"]): body
        for body in (json.loads(f[b"payload"]) for _, f in await client.xrange(KEYS.dlq))
        if body.get("kind") == "poison"
    }


async def test_poison_entries_are_dead_lettered_with_reason_and_block_nothing(
    tmp_path: Path,
) -> None:
    """A poison entry on zt:submitted, zt:actions and zt:events ends in zt:dlq; others flow."""
    start = time.monotonic()
    env = {
        "ZHITONG_MAX_DELIVERIES": str(MAX_DELIVERIES),
        "ZHITONG_RECLAIM_IDLE_MS": str(RECLAIM_IDLE_MS),
    }
    async with running_stack(tmp_path, env=env) as (stack, client):
        start = time.monotonic()
        poison = await _publish_poison(client)
        acked = Acknowledged()
        async with httpx.AsyncClient(base_url=stack.intake_url, headers=AUTH) as http:
            for i in range(20):
                reply = await http.post("/v1/grievances", json=grievance_body(i))
                assert reply.status_code == 202, reply.text
                gid = reply.json()["id"]
                acked.grievances.add(gid)
                act = {"type": "acknowledge", "actor": {"id": "c-express", "role": "committee"}}

                async def queued(gid: str = gid, act: dict[str, Any] = act) -> str | None:
                    # The committee's key reads (and acts on) it once the router routed it.
                    reply = await http.post(
                        f"/v1/grievances/{gid}/actions", json=act, headers=COMMITTEE_AUTH
                    )
                    return str(reply.json()["action_id"]) if reply.status_code == 202 else None

                acked.actions[await eventually(queued, timeout=30)] = gid

        async def good_done() -> bool:
            seen = await observe(client, KEYS)
            sent = {d["event_id"] for d in seen.deliveries if d["status"] == "sent"}
            ours = [e for e in seen.events if e.get("grievance_id") in acked.grievances]
            return len(ours) >= 40 and {e["event_id"] for e in ours} <= sent

        await eventually(good_done, timeout=30, interval=0.1)
        good_at = time.monotonic() - start
        dead_before_good = await _dlq(client)

        async def all_dead() -> dict[tuple[str, str], dict[str, Any]] | None:
            dead = await _dlq(client)
            return dead if set(poison.items()) <= dead.keys() else None

        dead = await eventually(all_dead, timeout=30, interval=0.1)
        dead_at = time.monotonic() - start
        await drain(client, within_s=30)
        seen = await observe(client, KEYS)
        seen.events = [e for e in seen.events if e.get("event_id") != "poison-event"]
        result = check(acked, seen)
        record(
            tmp_path,
            "poison",
            {
                "good_done_s": round(good_at, 1),
                "all_poison_dead_lettered_s": round(dead_at, 1),
                "dead_letters": {s: dead[(s, e)]["deliveries"] for s, e in poison.items()},
                **result.counts(),
            },
        )
    assert not set(poison.items()) & dead_before_good.keys(), "good entries waited for poison"
    for stream, entry_id in poison.items():
        letter = dead[(stream, entry_id)]
        assert letter["stream"] == stream
        assert letter["deliveries"] > MAX_DELIVERIES
        assert letter["fields"]["payload"]
    assert "ValidationError" in dead[(KEYS.submitted, poison[KEYS.submitted])]["error"]
    assert "WRONGTYPE" in dead[(KEYS.actions, poison[KEYS.actions])]["error"]
    assert "ValidationError" in dead[(KEYS.events, poison[KEYS.events])]["error"]
    assert result.ok, result.summary()
