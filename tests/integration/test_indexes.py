"""The list's indexes on real Redis: always what a from-scratch recomputation gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from services.router.engine import Engine
from services.router.retention import anonymise_expired
from shared.events import Action, Category, Grievance, Urgency
from shared.ids import new_grievance_id
from shared.indexes import memberships, rebuild_indexes
from shared.redis.client import as_text
from tests.integration.router_support import (
    KEYS,
    fast_config,
    make_grievance,
    state_of,
    submit,
)

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)
SECRET = "index-test-secret"
Snapshot = dict[str, dict[str, int]]


async def stored_indexes(redis: Redis) -> Snapshot:
    """Return every list index as stored: key → {grievance id: score}."""
    found: Snapshot = {}
    for pattern in (KEYS.index_all, KEYS.index_state("*"), KEYS.index_unit("*"),
                    KEYS.index_source("*"), KEYS.index_worker("*", "*"),
                    KEYS.index_category("*"), KEYS.index_urgency("*"), KEYS.index_overdue,
                    KEYS.index_needs_review):  # fmt: skip
        async for key in redis.scan_iter(match=pattern):
            members = await redis.zrange(key, 0, -1, withscores=True)
            if members:
                found[as_text(key)] = {as_text(m): int(s) for m, s in members}
    return found


async def recomputed(redis: Redis, ids: list[str]) -> Snapshot:
    """Return the indexes computed from scratch from the stored records."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for gid in ids:
        for key, score in memberships(KEYS, await state_of(redis, gid)).items():
            found[key][gid] = int(score)
    return dict(found)


async def check(redis: Redis, ids: list[str]) -> Snapshot:
    """Assert the stored indexes equal the recomputation; return them."""
    stored = await stored_indexes(redis)
    assert stored == await recomputed(redis, ids)
    return stored


def action(gid: str, n: int, kind: str, actor: tuple[str, str], **body: object) -> Action:
    return Action.model_validate(
        {
            "action_id": f"{gid}-{n}",
            "grievance_id": gid,
            "type": kind,
            "actor": {"id": actor[0], "role": actor[1]},
            **body,
        }
    )


async def applied(engine: Engine, act: Action) -> None:
    outcome = await engine.act(act)
    assert outcome.status == "applied", outcome


async def test_indexes_follow_a_scripted_lifecycle_and_a_rebuild_gives_the_same(
    redis: Redis,
) -> None:
    """Assign, escalate, reassign, refer, resolve, reopen, withdraw, retention: equal each step."""
    engine = Engine(redis, KEYS, CONFIG)
    a, b, c = make_grievance(), make_grievance(id="w-2002"), make_grievance(id="w-3003")
    ids = [a.id, b.id, c.id]
    for grievance in (a, b, c):
        await submit(redis, grievance)
    submitted = await check(redis, ids)
    assert set(submitted[KEYS.index_state("submitted")]) == set(ids)
    assert KEYS.index_unit("m-wang") not in submitted  # no chain before routing
    await engine.assign([a, b, c])
    routed = await check(redis, ids)
    assert set(routed[KEYS.index_unit("b-zto-east")]) == set(ids)
    assert KEYS.index_state("submitted") not in routed

    first = (await state_of(redis, a.id))["assignee"]
    other = "m-li" if first == "m-wang" else "m-wang"
    await applied(engine, action(a.id, 1, "reassign", (first, "member"), assignee=other))
    moved = await check(redis, ids)
    assert a.id in moved[KEYS.index_unit(other)]
    await applied(engine, action(a.id, 2, "escalate", ("b-zto-east", "branch"), reason="需要协调"))
    await applied(engine, action(a.id, 3, "escalate", ("c-express", "committee"), reason="联席"))
    await applied(engine, action(a.id, 4, "refer", ("c-express", "committee")))
    referred = await check(redis, ids)
    assert a.id in referred[KEYS.index_unit("d-traffic-police")]
    await applied(
        engine, action(a.id, 5, "resolve", ("c-express", "committee"), resolution="已协调")
    )
    await applied(engine, action(a.id, 6, "feedback", ("w-1001", "worker"), rating=1))
    reopened = await check(redis, ids)
    assert a.id in reopened[KEYS.index_state("assigned")]
    # The overdue flag: a breach at the top tier (its resolve timer made due now).
    record = await state_of(redis, a.id)
    await redis.zadd(KEYS.timers, {f"{a.id}|res|{record['gen']}": 0}, xx=True)
    assert (await engine.fire_due(100)).fired == 1
    overdue = await check(redis, ids)
    assert set(overdue[KEYS.index_overdue]) == {a.id}

    b_unit = (await state_of(redis, b.id))["assignee"]
    await applied(engine, action(b.id, 1, "acknowledge", (b_unit, "member")))
    await applied(engine, action(b.id, 2, "resolve", (b_unit, "member"), resolution="已处理"))
    await applied(engine, action(b.id, 3, "feedback", ("w-2002", "worker"), rating=5))
    await applied(engine, action(c.id, 1, "withdraw", ("w-3003", "worker")))
    ended = await check(redis, ids)
    assert set(ended[KEYS.index_state("closed")]) == {b.id}
    assert set(ended[KEYS.index_state("withdrawn")]) == {c.id}

    assert await anonymise_expired(redis, KEYS, retention_s=0, secret=SECRET) == 2
    archived = await check(redis, ids)
    assert not [key for key in archived if key.endswith((":w-2002", ":w-3003"))]
    assert KEYS.index_worker("test", "w-1001") in archived  # still open: not anonymised

    for key in archived:
        await redis.delete(key)
    await redis.delete(KEYS.index_sources)
    assert await rebuild_indexes(redis, KEYS) == 3
    assert await stored_indexes(redis) == archived
    assert await redis.smembers(KEYS.index_sources) == {b"test"}


async def test_rebuild_indexes_records_stored_before_the_indexes(redis: Redis) -> None:
    """Records without index entries (and without the review flag) are indexed by a rebuild."""
    grievance = make_grievance().model_copy(update={"needs_review": True})
    await submit(redis, grievance)
    for key in await stored_indexes(redis):
        await redis.delete(key)
    await redis.hdel(KEYS.grievance(grievance.id), "needs_review")  # an older record
    old_version = int((await state_of(redis, grievance.id)).get("v") or 0)
    assert await rebuild_indexes(redis, KEYS) == 1
    rebuilt = await check(redis, [grievance.id])
    assert set(rebuilt[KEYS.index_needs_review]) == {grievance.id}
    record = await state_of(redis, grievance.id)
    assert record["needs_review"] == "1"
    assert int(record["v"]) == old_version + 1  # a router commit read before it decides again


async def test_rebuild_drops_index_keys_no_record_belongs_to(redis: Redis) -> None:
    """A stale entry (its record gone) leaves the indexes on a rebuild; the others stay."""
    await redis.zadd(KEYS.index_state("assigned"), {new_grievance_id(): 1})
    grievance = make_grievance()
    await submit(redis, grievance)
    assert await rebuild_indexes(redis, KEYS) == 1
    assert KEYS.index_state("assigned") not in await check(redis, [grievance.id])


def _at(ms: int) -> Grievance:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return make_grievance().model_copy(
        update={"submitted_at": moment, "category": Category.WAGES, "urgency": Urgency.HIGH}
    )


async def test_scores_are_submission_times(redis: Redis) -> None:
    """Every index scores a grievance by its submitted_at, in ms."""
    grievance = _at(1_700_000_000_123)
    await submit(redis, grievance)
    indexes = await check(redis, [grievance.id])
    assert {scores[grievance.id] for scores in indexes.values()} == {1_700_000_000_123}
    assert grievance.id in indexes[KEYS.index_category("wages")]
    assert grievance.id in indexes[KEYS.index_urgency("high")]
