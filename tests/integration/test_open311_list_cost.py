"""The Open311 list costs its page, not the history: the same Redis work for 100 or 10,000.

Grievances are stored through intake's own accept step (``accept.lua``, pipelined) and
public Open311 reports indexed as the Open311 door does; the Redis commands one list
request runs are counted from ``INFO commandstats`` around it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis

from services.intake.civic import CivicIndex
from services.intake.classify import load_rules
from services.intake.open311.index import PublicReports
from services.intake.submission import Intake
from shared import store
from shared.config import load_config
from shared.events import Channel, GrievanceIn
from shared.redis.scripts import Scripts
from tests.conftest import ROOT
from tests.integration.intake_support import (
    KEYS,
    fixture_http,  # noqa: F401  (fixture used by name)
    fixture_intake_app,  # noqa: F401  (fixture used by name)
    grievance_body,
)

pytestmark = pytest.mark.integration

BATCH = 500
CONCURRENT = 20
# Commands of the intake's own background work (stream consumer, health), not of the list.
BACKGROUND = ("x", "info", "ping", "client", "hello", "select", "time")


def _body(channel: Channel, category: str) -> GrievanceIn:
    if channel is Channel.OPEN311:
        body = grievance_body(
            worker={"id": "open311:public"},
            category=category,
            urgency="normal",
            description="路灯不亮",
            location={"address": "解放路12号"},
        )
    else:
        body = grievance_body(category="wages", urgency="normal")
    return GrievanceIn.model_validate(body)


async def store_grievances(
    redis: Redis,
    count: int,
    *,
    channel: Channel,
    age: timedelta = timedelta(0),
    apart: timedelta = timedelta(milliseconds=1),
    category: str = "public_facility",
    start: datetime | None = None,
) -> list[str]:
    """Store ``count`` grievances filed from ``age`` ago back, newest first; index Open311's."""
    intake = Intake(
        redis,
        Scripts(redis),
        KEYS,
        load_rules(),
        CivicIndex(redis, KEYS, load_config(ROOT / "config" / "demo.yaml").civic_duplicates),
    )
    body = _body(channel, category)
    start = (start or datetime.now(UTC)) - age
    ids: list[str] = []
    for first in range(0, count, BATCH):
        batch = []
        for i in range(first, min(count, first + BATCH)):
            request = intake.prepare(body, source="demo-app", channel=channel, idempotency_key=None)
            request.grievance.submitted_at = start - i * apart
            batch.append(request)
        results = await store.accept_many(redis, intake.scripts, KEYS, batch)
        assert all(isinstance(r, store.AcceptResult) for r in results)
        ids.extend(r.grievance.id for r in batch)
    if channel is Channel.OPEN311:
        reports = PublicReports(redis, KEYS)
        for first in range(0, len(ids), CONCURRENT):
            chunk = ids[first : first + CONCURRENT]
            assert all(await asyncio.gather(*(reports.remember(gid) for gid in chunk)))
    return ids


async def commands(redis: Redis) -> Counter[str]:
    """Return how often each command ran on the server so far (``INFO commandstats``)."""
    stats = await redis.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


async def list_cost(
    http: httpx.AsyncClient, redis: Redis, query: str
) -> tuple[list[str], Counter[str]]:
    """Return the ids one ``GET requests.json?query`` lists and the commands it ran."""
    before = await commands(redis)
    reply = await http.get(f"/open311/v2/requests.json?{query}")
    after = await commands(redis)
    assert reply.status_code == 200, reply.text
    ran = Counter({k: n - before[k] for k, n in after.items() if not k.startswith(BACKGROUND)})
    return [v["service_request_id"] for v in reply.json()], +ran


QUERIES = ("", "service_code=public_facility,sanitation", "status=open")


async def test_list_cost_follows_the_page_not_the_history(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """100 stored grievances or 10,000: the same 20 reports listed with the same commands."""
    recent = await store_grievances(redis, 20, channel=Channel.OPEN311)
    await store_grievances(redis, 80, channel=Channel.HTTP)
    small = {query: await list_cost(http, redis, query) for query in QUERIES}
    # 5,000 public reports older than the 90-day window and 4,900 private grievances.
    await store_grievances(redis, 5000, channel=Channel.OPEN311, age=timedelta(days=200))
    await store_grievances(redis, 4900, channel=Channel.HTTP)
    assert await redis.zcard(KEYS.open311_requests()) == 5020
    large = {query: await list_cost(http, redis, query) for query in QUERIES}
    for query in QUERIES:
        (small_ids, small_ran), (large_ids, large_ran) = small[query], large[query]
        assert small_ids == large_ids == recent, query
        assert small_ran == large_ran, (query, small_ran, large_ran)
        # One ZRANGE per index read, then three reads per listed report, nothing else.
        assert sum(large_ran.values()) <= 3 * len(recent) + 4, (query, large_ran)
    print(f"\ncommands per page of 20: {dict(large[''][1])} (100 and 10,000 stored alike)")


async def test_list_is_capped_at_1000_newest_first(http: httpx.AsyncClient, redis: Redis) -> None:
    """1,050 public reports in the window: the list returns the newest 1,000, no more."""
    ids = await store_grievances(redis, 1050, channel=Channel.OPEN311, apart=timedelta(seconds=1))
    listed, ran = await list_cost(http, redis, "")
    assert listed == ids[:1000]
    assert ran["zrange"] == 1
    assert sum(ran.values()) <= 3 * 1000 + 4, ran
    print(f"\ncommands for the capped page of 1,000: {dict(ran)}")
    # A dashboard pages back with end_date = the oldest requested_datetime it was given.
    oldest = (await http.get(f"/open311/v2/requests/{ids[999]}.json")).json()[0]
    older, _ = await list_cost(http, redis, f"end_date={oldest['requested_datetime']}")
    assert older == ids[999:]


async def test_filtered_pages_merge_services_in_time_order(
    http: httpx.AsyncClient, redis: Redis
) -> None:
    """Two services' reports interleaved, a third closed: status=closed reads them in order."""
    apart, now = timedelta(milliseconds=2), datetime.now(UTC)
    facility = await store_grievances(redis, 450, channel=Channel.OPEN311, apart=apart, start=now)
    sanitation = await store_grievances(
        redis,
        450,
        channel=Channel.OPEN311,
        apart=apart,
        age=timedelta(milliseconds=1),
        category="sanitation",
        start=now,
    )
    newest_first = [gid for pair in zip(facility, sanitation, strict=True) for gid in pair]
    closed = newest_first[::3]
    async with redis.pipeline(transaction=False) as pipe:
        for gid in closed:
            pipe.hset(KEYS.grievance(gid), "state", "closed")
        await pipe.execute()
    listed, ran = await list_cost(
        http, redis, "service_code=sanitation,public_facility&status=closed"
    )
    assert listed == closed
    assert ran["zrange"] > 2  # several rounds of FILTERED_CHUNK per service were merged
    opened, _ = await list_cost(http, redis, "status=open&service_code=sanitation")
    assert opened == [gid for gid in newest_first if gid not in closed and gid in sanitation]
