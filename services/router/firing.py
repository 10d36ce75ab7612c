"""Firing due SLA timers: lease a batch, let ``lifecycle.fire`` decide, commit it in one call.

A poll leases up to a batch of due timers (``due_timers.lua`` re-scores them a few seconds
ahead, so the other replicas take the next ones instead of deciding the same), reads each
grievance once, decides every timer of it in Python (``lifecycle.fire``, the one
definition) and commits the whole batch in one ``commit_many.lua`` call: per grievance,
its effect, its events, the timer's removal and the next timers together, only if the
grievance is still at the version read and the timers are still scheduled.  A grievance
that changed meanwhile is decided again on a fresh read; a timer another replica already
claimed (its lease ran out while this one was slow) is left to it.  A replica killed after
leasing delays its timers by the lease, never loses or doubles them.

Two timers of one grievance may be leased by two replicas (a batch ends between them).
The earlier of a pair (``lifecycle.DUE_BEFORE``: the warning before its deadline) is then
fired by whoever holds the later one, first, when it is due or leased (a lease's score ends
in .5, a due time never does): a breach never overtakes its own warning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from services.router import lifecycle
from services.router.contention import MAX_ATTEMPTS, lost_race
from shared.logging import get_logger
from shared.record import Commit, Record, parse_timer, timer_member
from shared.redis.client import as_text

if TYPE_CHECKING:
    from services.router.engine import Engine

log = get_logger(__name__)

# How long a leased timer stays hidden from the other replicas: far longer than a batch
# takes (milliseconds), short enough that a killed replica's timers are only seconds late.
LEASE_MS = 5_000

_msgpack = msgspec.msgpack.Encoder()


@dataclass(frozen=True, slots=True)
class Fired:
    """What one timer batch did: timers with an effect, stale ones, and their lateness."""

    fired: int
    stale: int
    lateness_ms: list[int] = field(default_factory=list)


class _Due(NamedTuple):
    member: str
    kind: str
    gen: int
    due_ms: int


class _Tally(NamedTuple):
    fired: int
    stale: int
    lateness_ms: list[int]


async def fire_due(engine: Engine, batch: int, lease_ms: int = LEASE_MS) -> Fired:
    """Fire up to ``batch`` timers due by the Redis clock; each fires once, replicas or not."""
    keys = engine.keys
    reply = await engine.scripts.call("due_timers", [keys.timers], [batch, lease_ms])
    todo: dict[str, list[_Due]] = defaultdict(list)
    malformed: list[str] = []
    for i in range(1, len(reply), 2):
        member = as_text(reply[i])
        parsed = parse_timer(member)
        if parsed is None:
            malformed.append(member)
        else:
            todo[parsed[0]].append(_Due(member, parsed[1], parsed[2], int(float(reply[i + 1]))))
    if malformed:
        await engine.client.zrem(keys.timers, *malformed)
    fired, stale, late = 0, len(malformed), []
    for attempt in range(MAX_ATTEMPTS):
        if not todo:
            break
        if attempt:
            await lost_race(attempt)
        now, records, earlier = await _read(engine, todo)
        decided = [
            _decide(engine, gid, _with_earlier(timers, earlier, now), records[gid], now)
            for gid, timers in todo.items()
        ]
        verdicts = await commit_many(engine, [commit for commit, _tally in decided])
        retry: dict[str, list[_Due]] = {}
        for (gid, timers), verdict, (_commit, tally) in zip(
            todo.items(), verdicts, decided, strict=True
        ):
            if verdict == "ok":
                fired += tally.fired
                stale += tally.stale
                late.extend(tally.lateness_ms)
            elif verdict == "conflict":  # changed since read: decide again on fresh data
                retry[gid] = timers
            # 'gone': another replica claimed them after their lease ran out; it fired them.
        todo = retry
    if todo:  # still changing: their lease runs out and a later poll takes them again
        log.warning("timers_contended", grievances=len(todo))
    return Fired(fired, stale, late)


async def _read(
    engine: Engine, todo: dict[str, list[_Due]]
) -> tuple[int, dict[str, Record | None], dict[str, float]]:
    """Return the Redis clock, the records and the scores of the earlier timers of pairs."""
    keys = engine.keys
    gids = list(todo)
    pairs = [
        timer_member(gid, lifecycle.DUE_BEFORE[t.kind], t.gen)
        for gid, timers in todo.items()
        for t in timers
        if t.kind in lifecycle.DUE_BEFORE
    ]
    async with engine.client.pipeline(transaction=False) as pipe:
        pipe.time()
        for gid in gids:
            pipe.hgetall(keys.grievance(gid))
        if pairs:
            pipe.zmscore(keys.timers, pairs)
        (seconds, micros), *replies = await pipe.execute()
    now = int(seconds) * 1000 + int(micros) // 1000
    records = {
        gid: Record.from_hash(gid, raw) if raw else None
        for gid, raw in zip(gids, replies[: len(gids)], strict=True)
    }
    scores = replies[len(gids)] if pairs else []
    earlier = {m: float(x) for m, x in zip(pairs, scores, strict=True) if x is not None}
    return now, records, earlier


def _with_earlier(timers: Sequence[_Due], earlier: dict[str, float], now: int) -> list[_Due]:
    """Return ``timers`` with the earlier timer of each pair before it, when that is due."""
    batch = {t.member: t for t in timers}
    ordered: dict[str, _Due] = {}
    for timer in timers:
        kind = lifecycle.DUE_BEFORE.get(timer.kind)
        if kind is not None:
            member = timer_member(timer.member.partition("|")[0], kind, timer.gen)
            score = earlier.get(member)
            if member in batch:
                ordered.setdefault(member, batch[member])
            elif score is not None and (score <= now or score % 1):
                # Its own due time is unknown when leased: its lateness counts from the later's.
                ordered.setdefault(member, _Due(member, kind, timer.gen, timer.due_ms))
        ordered.setdefault(timer.member, timer)
    return list(ordered.values())


def _decide(
    engine: Engine, gid: str, timers: Sequence[_Due], record: Record | None, now: int
) -> tuple[Commit, _Tally]:
    """Return the commit of one grievance's due timers and what it does once applied."""
    keys = engine.keys
    members = [t.member for t in timers]
    commit = Commit(keys)
    if record is None:  # the grievance is gone (retention): its timers go too
        commit.expect(Record(gid, {}), new=True)
        commit.op("ZREM", keys.timers, *members)
        return commit, _Tally(0, len(timers), [])
    fired, lateness = 0, []
    for timer in timers:
        if timer.gen == record.gen and lifecycle.fire(record, timer.kind, now) is not None:
            fired += 1
            lateness.append(now - timer.due_ms)
    commit.expect(record)
    if not record.changed:  # only timers a later change superseded: just drop them
        commit.op("ZREM", keys.timers, *members)
    else:
        commit.claim(members)
        commit.add(record)
    return commit, _Tally(fired, len(timers) - fired, lateness)


async def commit_many(engine: Engine, commits: Sequence[Commit]) -> list[str]:
    """Apply ``commits`` in one ``commit_many.lua`` call; return each one's verdict."""
    return await engine.commit(commits)
