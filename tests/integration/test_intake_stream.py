"""Stream ingestion from zt:intake on a real Redis: accept, reject with reasons, redelivery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from services.intake.app import build_app
from services.intake.civic import CivicIndex
from services.intake.classify import load_rules
from services.intake.ingest import StreamIntake
from services.intake.submission import Intake
from shared.config import load_config
from shared.consumer import Entry
from shared.redis.client import make_client
from shared.redis.scripts import Scripts
from shared.streams import GROUP_INTAKE
from tests.helpers import eventually
from tests.integration.intake_support import (
    KEYS,
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
    intake_settings,
    rejected,
    submitted,
)

pytestmark = pytest.mark.integration


def stream_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid stream payload: the POST body plus its source."""
    return {**grievance_body(), "source": "hotline", **overrides}


async def publish(redis: Redis, payload: object) -> str:
    """XADD one entry with ``payload`` as the contract says (plain JSON, one field)."""
    text = payload if isinstance(payload, str | bytes) else json.dumps(payload, ensure_ascii=False)
    entry_id: bytes = await redis.xadd(KEYS.intake, {"payload": text})
    return entry_id.decode()


async def pending(redis: Redis) -> int:
    """Return how many zt:intake entries the intake group has not acknowledged."""
    info = await redis.xpending(KEYS.intake, GROUP_INTAKE)
    return int(info["pending"])


async def test_valid_entry_is_accepted_on_the_stream_channel(
    intake_app: FastAPI, redis: Redis
) -> None:
    """A valid stream entry is published to zt:submitted with its source and channel."""
    await publish(redis, stream_body(description="建筑工地旁边的水管爆裂了"))
    grievances = await eventually(lambda: submitted(redis))
    assert grievances[0]["source"] == "hotline"
    assert grievances[0]["channel"] == "stream"
    assert grievances[0]["category"] == "public_facility"
    assert await eventually(lambda: _acked(redis))


async def _acked(redis: Redis) -> bool:
    return await pending(redis) == 0


async def test_malformed_entries_are_rejected_with_reasons_and_the_consumer_goes_on(
    intake_app: FastAPI, redis: Redis
) -> None:
    """Non-JSON, missing worker.id and a bad enum each get one rejection; later entries pass."""
    no_worker_id = stream_body()
    del no_worker_id["worker"]["id"]
    bad_ids = [
        await publish(redis, "{not json"),
        await publish(redis, no_worker_id),
        await publish(redis, stream_body(category="wage")),
        (await redis.xadd(KEYS.intake, {"data": "no payload field"})).decode(),
    ]
    await publish(redis, stream_body())
    records = await eventually(lambda: _at_least(rejected(redis), 4))
    by_entry = {r["entry_id"]: r for r in records}
    assert set(by_entry) == set(bad_ids)
    non_json, missing, bad_enum, no_payload = (by_entry[i] for i in bad_ids)
    assert non_json["payload"] == "{not json"
    assert "not JSON" in non_json["reasons"][0]
    assert missing["reasons"] == ["worker.id: Field required"]
    assert missing["source"] == "hotline"
    assert bad_enum["errors"][0]["field"] == "category"
    assert "wages" in bad_enum["errors"][0]["allowed"]
    assert "'wages'" in bad_enum["reasons"][0]
    assert "payload" in no_payload["reasons"][0]
    assert "no payload field" in no_payload["payload"]
    grievances = await eventually(lambda: submitted(redis))
    assert len(grievances) == 1
    assert await eventually(lambda: _acked(redis))


async def test_a_worker_id_that_names_a_unit_is_rejected_with_the_reason(
    intake_app: FastAPI, redis: Redis
) -> None:
    """A worker filed as 'm-wang' (a member's id) could never act on the grievance: the
    entry is rejected saying so, and the next entry is accepted."""
    taken = stream_body()
    taken["worker"]["id"] = "m-wang"
    bad = await publish(redis, taken)
    await publish(redis, stream_body())
    (record,) = await eventually(lambda: _at_least(rejected(redis), 1))
    assert record["entry_id"] == bad
    assert record["errors"][0]["field"] == "worker.id"
    assert "id of a unit of the directory" in record["reasons"][0]
    assert len(await eventually(lambda: submitted(redis))) == 1


async def _at_least(probe: Any, n: int) -> list[dict[str, Any]] | None:
    items: list[dict[str, Any]] = await probe
    return items if len(items) >= n else None


async def test_redelivered_entry_yields_no_second_grievance_or_rejection(
    redis_url: str, demo_config_path: Path, redis: Redis
) -> None:
    """Entries handled by a consumer that died before XACK are reclaimed without doubling."""
    await publish(redis, stream_body())
    await publish(redis, "{not json")
    await redis.xgroup_create(KEYS.intake, GROUP_INTAKE, id="0")
    # A consumer reads both entries, handles them, and dies before acknowledging.
    read = await redis.xreadgroup(GROUP_INTAKE, "dead", {KEYS.intake: ">"}, count=10)
    entries = [Entry(i.decode(), f) for i, f in read[0][1]]
    client = make_client(redis_url)
    scripts = Scripts(client)
    config = load_config(demo_config_path)
    intake = Intake(
        client, scripts, KEYS, load_rules(), CivicIndex(client, KEYS, config.civic_duplicates)
    )
    assert await StreamIntake(intake, scripts, KEYS)(entries) == {}
    await client.aclose()
    assert await redis.xlen(KEYS.submitted) == 1
    assert await pending(redis) == 2

    app = build_app(intake_settings(redis_url, demo_config_path))
    async with app.router.lifespan_context(app):
        await eventually(lambda: _acked(redis))
    assert await redis.xlen(KEYS.submitted) == 1
    assert await redis.xlen(KEYS.intake_rejected) == 1


async def test_stream_idempotency_key_dedupes_across_entries(
    intake_app: FastAPI, redis: Redis
) -> None:
    """Two entries naming one idempotency key from one source make one grievance."""
    await publish(redis, stream_body(idempotency_key="hotline-42"))
    await publish(redis, stream_body(idempotency_key="hotline-42"))
    await eventually(lambda: _acked_after(redis, 2))
    assert await redis.xlen(KEYS.submitted) == 1


async def _acked_after(redis: Redis, n: int) -> bool:
    groups = await redis.xinfo_groups(KEYS.intake)
    return bool(groups) and int(groups[0]["entries-read"] or 0) >= n and await pending(redis) == 0
