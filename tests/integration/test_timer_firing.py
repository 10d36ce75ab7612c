"""Batched timer firing on real Redis: leases, one commit_many call per batch, pairs in order."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from services.router import firing
from services.router.engine import Engine
from shared.events import Action
from shared.kpi import tally
from shared.record import Commit
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.stats import load_records, stored_counters
from tests.helpers import eventually
from tests.integration.router_support import KEYS, fast_config, make_grievance

pytestmark = pytest.mark.integration

# Hours-long deadlines: a timer falls due only when a test re-scores it.
CONFIG = fast_config(ack=3600, resolve=7200)


async def _assigned(redis: Redis, count: int) -> list[str]:
    engine = Engine(redis, KEYS, CONFIG)
    batch = [make_grievance(id=f"w-{i}") for i in range(count)]
    outcomes = await engine.assign(batch)
    assert {o.status for o in outcomes} == {"assigned"}
    return [g.id for g in batch]


async def _due_now(redis: Redis, members: Sequence[str]) -> None:
    assert await redis.zadd(KEYS.timers, dict.fromkeys(members, 0), xx=True, ch=True) == len(
        members
    )


async def _event_types(redis: Redis) -> dict[str, list[str]]:
    types: dict[str, list[str]] = {}
    for _entry_id, fields in await redis.xrange(KEYS.events):
        event = json.loads(fields[b"payload"])
        types.setdefault(event["grievance_id"], []).append(event["type"])
    return types


async def test_three_pollers_fire_each_due_timer_once(redis: Redis) -> None:
    """600 ack timers due at once, 3 pollers × batch 50: each fires once, counters recount."""
    gids = await _assigned(redis, 600)
    await _due_now(redis, [f"{gid}|ack|1" for gid in gids])
    engines = [Engine(redis, KEYS, CONFIG) for _ in range(3)]
    totals: Counter[str] = Counter()

    async def poll(engine: Engine) -> None:
        while (result := await engine.fire_due(50)).fired + result.stale:
            totals["fired"] += result.fired
            totals["stale"] += result.stale
            totals["calls"] += 1

    await asyncio.gather(*(poll(e) for e in engines))
    escalations = Counter(
        gid for gid, types in (await _event_types(redis)).items() for t in types if "escalated" in t
    )
    assert escalations == Counter(dict.fromkeys(gids, 1))
    assert (totals["fired"], totals["stale"]) == (600, 0)
    # Leased, not re-read: no batch was decided twice.
    assert totals["calls"] <= 600 // 50 + 3
    assert not [m for m in await redis.zrange(KEYS.timers, 0, -1) if m.endswith(b"|ack|1")]
    records = await load_records(redis, KEYS)
    assert await stored_counters(redis, KEYS) == tally(KEYS, records.values())


async def test_a_conflict_inside_a_batch_fails_only_that_grievance(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grievance changed between read and commit: the others apply, it is decided again."""
    first, changed, last = await _assigned(redis, 3)
    await _due_now(redis, [f"{gid}|ack|1" for gid in (first, changed, last)])
    engine = Engine(redis, KEYS, CONFIG)
    real = firing.commit_many
    verdicts: list[list[str]] = []

    async def acknowledged_meanwhile(engine: Engine, commits: Sequence[Commit]) -> list[str]:
        if not verdicts:  # the assignee acknowledges after the read, before the commit
            assignee = as_text(await redis.hget(KEYS.grievance(changed), "assignee"))
            ack = Action.model_validate(
                {
                    "action_id": "ack-1",
                    "grievance_id": changed,
                    "type": "acknowledge",
                    "actor": {"id": assignee, "role": "member"},
                }
            )
            assert (await Engine(redis, KEYS, CONFIG).act(ack)).status == "applied"
        verdicts.append(await real(engine, commits))
        return verdicts[-1]

    monkeypatch.setattr(firing, "commit_many", acknowledged_meanwhile)
    result = await engine.fire_due(10)
    assert verdicts[0] == ["ok", "conflict", "ok"]
    # Decided again on the fresh record: acknowledging superseded its timer, which is dropped.
    assert verdicts[1] == ["ok"]
    assert (result.fired, result.stale) == (2, 1)
    types = await _event_types(redis)
    assert types[first][-1] == types[last][-1] == "grievance.escalated"
    assert types[changed] == ["grievance.assigned", "grievance.acknowledged"]
    assert (await redis.hget(KEYS.grievance(changed), "tier")) == b"1"


async def test_commit_many_applies_each_change_alone_and_sums_counters(redis: Redis) -> None:
    """Checks fail per change; the counters of the changes applied are summed, no others."""
    await redis.hset("g:a", mapping={"v": "1"})
    await redis.hset("g:b", mapping={"v": "5"})
    commits = []
    for key, version, value in (("g:a", 1, "x"), ("g:b", 4, "y"), ("g:c", -1, "z")):
        commit = Commit(KEYS)
        commit.checks.append(["v", commit.key(key), version])
        commit.op("HSET", key, "f", value)
        commit.counters += [("k:counts", "open", "1"), ("k:counts", "all", "2")]
        commits.append(commit)
    engine = Engine(redis, KEYS, CONFIG)
    assert await firing.commit_many(engine, commits) == ["ok", "conflict", "ok"]
    assert await redis.hget("g:a", "f") == b"x"
    assert await redis.hget("g:b", "f") is None
    assert await redis.hget("g:c", "f") == b"z"
    assert await redis.hgetall("k:counts") == {b"open": b"2", b"all": b"4"}


async def test_a_warning_leased_elsewhere_fires_before_its_breach(redis: Redis) -> None:
    """Warning leased by one poller, its deadline taken by another: warned, then escalated."""
    (gid,) = await _assigned(redis, 1)
    await redis.zadd(KEYS.timers, {f"{gid}|wa|1": 1, f"{gid}|ack|1": 2}, xx=True)
    # Another replica leases the warning (batch 1) and has not committed yet.
    leased = await Scripts(redis).call("due_timers", [KEYS.timers], [1, 60_000])
    assert leased[1] == f"{gid}|wa|1".encode()
    result = await Engine(redis, KEYS, CONFIG).fire_due(10)
    assert (result.fired, result.stale) == (2, 0)
    assert (await _event_types(redis))[gid][-2:] == [
        "grievance.sla_warning",
        "grievance.escalated",
    ]
    assert await redis.zscore(KEYS.timers, f"{gid}|wa|1") is None


async def test_a_lease_that_runs_out_fires_its_timer_once(redis: Redis) -> None:
    """A poller leased a timer and died: it fires once the lease runs out, not before."""
    (gid,) = await _assigned(redis, 1)
    await _due_now(redis, [f"{gid}|ack|1"])
    await Scripts(redis).call("due_timers", [KEYS.timers], [10, 300])
    engine = Engine(redis, KEYS, CONFIG)
    assert (await engine.fire_due(10)).fired == 0

    async def fired() -> int:
        return (await engine.fire_due(10)).fired

    assert await eventually(fired, timeout=5) == 1
    types = (await _event_types(redis))[gid]
    assert types.count("grievance.escalated") == 1
