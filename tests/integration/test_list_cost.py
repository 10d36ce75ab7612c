"""The list's query on real Redis: stable paging over ties, and a cost bounded by the page."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from redis.asyncio import Redis

from shared import query, views
from shared.indexes import index_writes
from shared.redis.client import as_text
from shared.streams import Keys

pytestmark = pytest.mark.integration

KEYS = Keys()
T0 = 1_764_000_000_000
UNITS = ("m-wang", "m-li", "m-zhao")
STATES = ("assigned", "acknowledged", "resolved", "closed")


def record(n: int, *, score: int) -> dict[str, str]:
    """Return the hash fields of the n-th synthetic grievance."""
    unit = UNITS[n % len(UNITS)]
    return {
        "submitted_at": str(score),
        "state": STATES[n % len(STATES)],
        "tracking_no": f"ZT-251124-{n:08d}",
        "source": "bulk",
        "worker_id": f"w-{n % 500}",
        "category": "wages" if n % 10 == 0 else "road_access",
        "urgency": "normal",
        "anonymous": "0",
        "overdue": "1" if n % 97 == 0 else "0",
        "c1u": unit,
        "assignee": unit,
        "tier": "1",
    }


async def seed(redis: Redis, scores: Mapping[str, int], start: int = 0) -> None:
    """Store grievances as the scripts would: hash plus its index writes, pipelined."""
    async with redis.pipeline(transaction=False) as pipe:
        for n, (gid, score) in enumerate(scores.items(), start=start):
            fields = record(n, score=score)
            pipe.hset(KEYS.grievance(gid), mapping=fields)
            for command, key, args in index_writes(KEYS, gid, {}, fields):
                pipe.execute_command(command, key, *args)
        await pipe.execute()


async def walk(redis: Redis, q: query.Query, limit: int, budget: int) -> list[str]:
    """Return every id ``q`` finds, page by page, checking no page is over ``limit``."""
    found: list[str] = []
    cursor = None
    while True:
        page = await query.find(redis, KEYS, q, limit=limit, cursor=cursor, budget=budget)
        assert len(page.ids) <= limit
        assert page.scanned <= budget
        found.extend(page.ids)
        if page.next_cursor is None:
            return found
        cursor = query.decode_cursor(page.next_cursor)


async def test_paging_over_ties_returns_each_grievance_once_in_order(redis: Redis) -> None:
    """Forty grievances in the same millisecond among others: every page boundary holds."""
    scores = {f"01TIE{n:05d}": T0 for n in range(40)}
    scores |= {f"01NEW{n:05d}": T0 + 1 + n for n in range(7)}
    scores |= {f"01OLD{n:05d}": T0 - 1 - n for n in range(7)}
    await seed(redis, scores)
    fields = {gid: record(n, score=score) for n, (gid, score) in enumerate(scores.items())}
    expected = sorted(scores, key=lambda gid: (scores[gid], gid), reverse=True)
    for limit in (1, 3, 7, 50):
        assert await walk(redis, query.Query(), limit, budget=1000) == expected
    held = [g for g in expected if fields[g]["c1u"] == "m-li"]
    for budget in (2, 5, 1000):  # short pages when the budget runs out, nothing lost
        found = await walk(redis, query.Query(unit_sets=(frozenset({"m-li"}),)), 4, budget)
        assert found == held
    closed = [g for g in expected if fields[g]["state"] == "closed"]
    urgent = query.Query(state="closed", category="wages")  # walks one index, checks the other
    assert await walk(redis, urgent, 2, budget=3) == [
        g for g in closed if fields[g]["category"] == "wages"
    ]


async def test_a_union_of_units_lists_a_grievance_once(redis: Redis) -> None:
    """A grievance held by two units of a subtree (member and branch) appears once."""
    fields = {**record(0, score=T0), "c2u": "b-zto-east"}
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(KEYS.grievance("01ONE"), mapping=fields)
        for command, key, args in index_writes(KEYS, "01ONE", {}, fields):
            pipe.execute_command(command, key, *args)
        await pipe.execute()
    subtree = frozenset({"b-zto-east", "m-wang", "m-li"})
    page = await query.find(redis, KEYS, query.Query(unit_sets=(subtree,)), limit=10)
    assert page.ids == ["01ONE"]


async def commands(redis: Redis) -> int:
    """Return how many commands the server ran so far (INFO itself left out)."""
    stats = await redis.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


async def page_cost(redis: Redis, q: query.Query, limit: int) -> tuple[int, int]:
    """Return (commands, rows) of reading one page of rows the way the API does."""
    before = await commands(redis)
    page = await query.find(redis, KEYS, q, limit=limit)
    rows = await views.read_stored(redis, KEYS, page.ids)
    return await commands(redis) - before, len(rows)


async def test_a_page_costs_the_same_over_1k_and_10k_grievances(redis: Redis) -> None:
    """Commands per page do not grow with the history; each is bounded by the page size."""
    queries = {
        "all": query.Query(),
        "state": query.Query(state="closed"),
        "unit+category": query.Query(unit_sets=(frozenset(UNITS[:2]),), category="wages"),
        "worker": query.Query(source="bulk", worker_id="w-7"),
        "overdue": query.Query(overdue=True),
    }
    await seed(redis, {f"01A{n:07d}": T0 + n for n in range(1000)})
    small = {name: await page_cost(redis, q, 50) for name, q in queries.items()}
    await seed(redis, {f"01B{n:07d}": T0 - 1 - n for n in range(9000)}, start=1000)
    assert await redis.zcard(KEYS.index_all) == 10_000
    large = {name: await page_cost(redis, q, 50) for name, q in queries.items()}
    for name, (cost, rows) in large.items():
        # One round of counts, index reads of a few batches, one HMGET per candidate
        # checked and three reads per row returned: never the history.
        assert cost <= 4 * 50 + 3 * rows + 20, (name, cost)
        if small[name][1] == rows:  # the same page read at 1k: the same cost, give or take
            assert cost <= small[name][0] + 10, (name, small[name], cost)
    assert large["all"][1] == 50
    worker = await query.find(redis, KEYS, queries["worker"], limit=50)
    assert len(worker.ids) == 20  # w-7 filed every 500th of the 10,000
    assert all(as_text(w) == "w-7" for w in await _workers(redis, worker.ids))


async def _workers(redis: Redis, ids: list[str]) -> list[bytes]:
    async with redis.pipeline(transaction=False) as pipe:
        for gid in ids:
            pipe.hget(KEYS.grievance(gid), "worker_id")
        return list(await pipe.execute())
