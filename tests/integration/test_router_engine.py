"""The engine's compare-and-set on real Redis: a change made meanwhile is never overwritten."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest
from redis.asyncio import Redis

from services.router.engine import Engine
from shared.events import Action
from shared.record import Commit
from tests.integration.router_support import (
    KEYS,
    fast_config,
    make_grievance,
    state_of,
    submit,
)

pytestmark = pytest.mark.integration

CONFIG = fast_config(ack=3600, resolve=7200)


async def _assigned(redis: Redis, engine: Engine) -> str:
    grievance = make_grievance()
    await submit(redis, grievance)
    (outcome,) = await engine.assign([grievance])
    assert outcome.status == "assigned"
    return grievance.id


def _action(gid: str, n: int, **body: object) -> Action:
    return Action.model_validate({"action_id": f"{gid}-{n}", "grievance_id": gid, **body})


async def test_a_timer_escalating_during_a_reassign_makes_it_decide_again(redis: Redis) -> None:
    """Reassign read at tier 1, escalated before it commits: refused, the chain intact.

    Before the lifecycle and its commit were one step, the tier was checked in Python and the
    script did not check it again: the reassignment then overwrote the branch's link (tier 2)
    with a member.
    """
    engine = Engine(redis, KEYS, CONFIG)
    gid = await _assigned(redis, engine)
    timers = Engine(redis, KEYS, CONFIG)
    commit = engine.commit
    raced = False

    async def escalate_first(commits: Sequence[Commit]) -> list[str]:
        nonlocal raced
        if not raced:  # the ack deadline passes between the read and the commit
            raced = True
            record = await state_of(redis, gid)
            await redis.zadd(KEYS.timers, {f"{gid}|ack|{record['gen']}": 0}, xx=True)
            assert (await timers.fire_due(100)).fired == 1
        return await commit(commits)

    engine.commit = escalate_first  # type: ignore[method-assign]
    reassign = _action(
        gid, 1, type="reassign", actor={"id": "b-zto-east", "role": "branch"}, assignee="m-li"
    )
    outcome = await engine.act(reassign)
    record = await state_of(redis, gid)
    assert raced
    assert outcome.status == "refused"
    assert outcome.detail == ("only a member (tier 1) can be reassigned, within the branch",)
    assert (record["tier"], record["assignee"]) == ("2", "b-zto-east")
    assert (record["c1u"], record["c2u"], record["c3u"]) == ("m-wang", "b-zto-east", "c-express")


async def test_concurrent_actions_on_one_grievance_all_apply_in_one_sequence(
    redis: Redis,
) -> None:
    """Forty notes from four routers at once: every one applied once, events numbered 1…n."""
    engines = [Engine(redis, KEYS, CONFIG) for _ in range(4)]
    gid = await _assigned(redis, engines[0])
    worker = {"id": "w-1001", "role": "worker"}
    notes = [_action(gid, n, type="add_note", actor=worker, note=f"第{n}条补充") for n in range(40)]
    outcomes = await asyncio.gather(*(engines[n % 4].act(note) for n, note in enumerate(notes)))
    assert [o.status for o in outcomes] == ["applied"] * 40
    timeline = [json.loads(x) for x in await redis.lrange(KEYS.timeline(gid), 0, -1)]
    assert [e["seq"] for e in timeline] == list(range(1, 42))
    added = sorted(e["data"]["note"] for e in timeline if e["type"] == "grievance.note_added")
    assert added == sorted(f"第{n}条补充" for n in range(40))
    assert (await state_of(redis, gid))["notes"] == "40"


async def test_a_redelivered_action_is_applied_once(redis: Redis) -> None:
    """The same action id twice (a redelivery): the second changes nothing."""
    engine = Engine(redis, KEYS, CONFIG)
    gid = await _assigned(redis, engine)
    ack = _action(gid, 1, type="acknowledge", actor={"id": "m-wang", "role": "member"})
    first, second = await engine.act(ack), await engine.act(ack)
    assert (first.status, second.status) == ("applied", "duplicate")
    assert await redis.llen(KEYS.timeline(gid)) == 2
