"""The router's atomic steps: read the records, let ``lifecycle`` decide, commit the change.

Each step is read → decide → ``commit_many.lua``: the commit applies only if every grievance it
touches is still at the version read (and the action id is new, and each timer is still
scheduled), so a concurrent change — another replica, a timer firing during an action —
makes it retry on fresh records instead of applying a decision taken on stale ones.
A batch of new grievances or of due timers is read and committed in two pipelined round
trips; an action takes two of its own (actions of one grievance must apply in order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.router import directory, firing, lifecycle, sla
from services.router.contention import MAX_ATTEMPTS, ContendedError, lost_race
from services.router.firing import Fired
from shared.config import Config
from shared.events import MAX_NOTES, Action, ActionType, Grievance
from shared.logging import get_logger
from shared.record import Commit, Link, Record, batch_call, initial_fields
from shared.redis.client import as_text
from shared.redis.scripts import Scripts
from shared.streams import Keys

log = get_logger(__name__)

# A duplicate whose original another commit of the same batch routes: decided next attempt.
_WAIT = "wait"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one step did: ``assigned``/``linked``/``skip`` or ``applied``/``refused``/…"""

    status: str
    detail: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Route:
    rotation: str  # the unit whose counter rotates the candidates (their branch)
    candidates: tuple[Link, ...]
    upper: tuple[Link, ...]
    first_tier: int
    note: str


class Engine:
    """The router's atomic operations bound to one Redis and one configuration."""

    def __init__(
        self,
        client: Redis,
        keys: Keys,
        config: Config,
        on_commit: Callable[[Record], None] | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.config = config
        # Told every record a commit applied (the router's transition metrics).
        self.on_commit = on_commit
        self.scripts = Scripts(client)
        # Routes and SLA snapshots depend only on these inputs: compute each once.
        self._routes: dict[tuple[object, ...], _Route] = {}
        self._snapshots: dict[tuple[str, str], dict[str, Any]] = {}

    # --- reads ---

    async def _now(self) -> int:
        seconds, micros = await self.client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def _records(self, ids: Sequence[str]) -> tuple[int, dict[str, Record | None]]:
        """Return the Redis clock and the records of ``ids`` (None = unknown), one round trip."""
        unique = list(dict.fromkeys(ids))
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.time()
            for gid in unique:
                pipe.hgetall(self.keys.grievance(gid))
            (seconds, micros), *raws = await pipe.execute()
        now = int(seconds) * 1000 + int(micros) // 1000
        return now, {
            gid: Record.from_hash(gid, raw) if raw else None
            for gid, raw in zip(unique, raws, strict=True)
        }

    async def commit(self, commits: Sequence[Commit]) -> list[str]:
        """Apply ``commits`` in one ``commit_many.lua`` call, each all or nothing on its own;
        return each one's verdict ('ok' | 'conflict' | 'duplicate' | 'gone')."""
        if not commits:
            return []
        keys, args = batch_call(commits)
        verdicts = [as_text(v) for v in await self.scripts.call("commit_many", keys, args)]
        if self.on_commit is not None:
            for commit, verdict in zip(commits, verdicts, strict=True):
                for record in commit.records if verdict == "ok" else ():
                    self.on_commit(record)
        return verdicts

    # --- assign ---

    def _route(self, grievance: Grievance) -> _Route:
        worker = grievance.worker
        key = (worker.industry, worker.platform, worker.region, worker.station)
        cached = self._routes.get(key)
        if cached is None:
            found = directory.route(self.config, grievance)
            upper = tuple(Link(u.unit, u.name, u.kind) for u in found.upper)
            cached = _Route(
                upper[0].unit if upper else found.candidates[0].unit,
                tuple(Link(c.unit, c.name, c.kind) for c in found.candidates),
                upper,
                found.first_tier,
                found.note,
            )
            self._routes[key] = cached
        return cached

    def _snapshot(self, grievance: Grievance) -> dict[str, Any]:
        key = (grievance.urgency.value, grievance.category.value)
        cached = self._snapshots.get(key)
        if cached is None:
            cached = sla.snapshot(self.config.sla, grievance.urgency, grievance.category)
            self._snapshots[key] = cached
        return cached

    async def assign(
        self, grievances: Sequence[Grievance], documents: Sequence[bytes] | None = None
    ) -> list[Outcome]:
        """Route each submitted grievance to tier 1 (or link it to its original), atomically.

        Idempotent: a grievance already past ``submitted`` is skipped, so a redelivered
        ``zt:submitted`` entry never assigns or notifies twice.  ``documents`` are the
        grievances' JSON as received, stored only if intake did not store the record.

        A civic duplicate may come before its original is routed (another replica holds the
        original's entry, or it is later in this batch): the duplicate's commit then routes
        the original first and links to it, and the original's own entry is skipped.
        """
        docs: Sequence[bytes | None] = documents or [None] * len(grievances)
        outcomes: list[Outcome | None] = [None] * len(grievances)
        todo = list(range(len(grievances)))
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await lost_race(attempt)
            batch = [grievances[i] for i in todo]
            ids = [g.id for g in batch] + [g.duplicate_of for g in batch if g.duplicate_of]
            now, records = await self._records(ids)
            plan = await self._originals_first(batch, records)
            firsts = [step for step in plan if isinstance(step, Grievance)]
            picks = await self._picks([*batch, *firsts])
            first_picks = iter(picks[len(batch) :])
            commits: dict[int, Commit] = {}
            waiting: list[int] = []
            for i, grievance, pick, step in zip(
                todo, batch, picks[: len(batch)], plan, strict=True
            ):
                if step == _WAIT:
                    waiting.append(i)
                    continue
                first = (step, next(first_picks)) if isinstance(step, Grievance) else None
                decided = self._assign_one(grievance, docs[i], records, (pick, now), first)
                if isinstance(decided, Outcome):
                    outcomes[i] = decided
                else:
                    commits[i], outcomes[i] = decided
            verdicts = await self.commit(list(commits.values()))
            todo = [i for i, v in zip(commits, verdicts, strict=True) if v == "conflict"]
            todo += waiting
            if not todo:
                return [o for o in outcomes if o is not None]
        raise ContendedError(f"grievances {[grievances[i].id for i in todo]} kept changing")

    async def _originals_first(
        self, batch: Sequence[Grievance], records: dict[str, Record | None]
    ) -> list[Grievance | str | None]:
        """Return, per grievance, what its original needs before it is routed.

        ``None``: nothing (no original, or one already routed: link to it, or ended: route
        alone).  ``_WAIT``: another commit of this batch routes the original (its own, or an
        earlier duplicate's); decide again once it is committed.  A ``Grievance``: the
        original, still ``submitted``, to be routed in this duplicate's own commit.
        """
        in_batch = {g.id for g in batch}
        unrouted = {
            g.duplicate_of
            for g in batch
            if g.duplicate_of
            and (original := records.get(g.duplicate_of)) is not None
            and original.state == "submitted"
        }
        documents = await self._documents(sorted(unrouted - in_batch))
        # Originals a commit of this batch routes: those in it not yet routed (or not stored),
        # then each one the first of its duplicates routes.
        claimed = {gid for gid in in_batch if gid in unrouted or records.get(gid) is None}
        plan: list[Grievance | str | None] = []
        for grievance in batch:
            original_id = grievance.duplicate_of or ""
            if original_id in claimed and original_id != grievance.id:
                plan.append(_WAIT)
            elif original_id in documents:
                claimed.add(original_id)
                plan.append(documents[original_id])
            else:  # no original, routed already, or stored without its document: as it is
                plan.append(None)
        return plan

    async def _documents(self, ids: Sequence[str]) -> dict[str, Grievance]:
        """Return the submitted documents of ``ids`` (those stored and readable)."""
        if not ids:
            return {}
        raws = await self.client.mget([self.keys.document(gid) for gid in ids])
        found: dict[str, Grievance] = {}
        for gid, raw in zip(ids, raws, strict=True):
            if raw is None:
                continue
            try:
                found[gid] = Grievance.model_validate_json(raw)
            except ValidationError:  # unreadable: the duplicate is routed as if it were alone
                continue
        return found

    async def _picks(self, grievances: Sequence[Grievance]) -> list[Link]:
        """Return the tier-1 unit of each grievance, round-robin among its branch's members."""
        routes = [self._route(g) for g in grievances]
        spread = [r for r in routes if len(r.candidates) > 1]
        counts: list[int] = []
        if spread:
            async with self.client.pipeline(transaction=False) as pipe:
                for route in spread:
                    pipe.incr(self.keys.round_robin(route.rotation))
                counts = list(await pipe.execute())
        turns = iter(counts)
        return [
            r.candidates[(next(turns) - 1) % len(r.candidates)]
            if len(r.candidates) > 1
            else r.candidates[0]
            for r in routes
        ]

    def _assign_one(
        self,
        grievance: Grievance,
        document: bytes | None,
        records: dict[str, Record | None],
        at: tuple[Link, int],
        first: tuple[Grievance, Link] | None = None,
    ) -> Outcome | tuple[Commit, Outcome]:
        """Decide one grievance's routing (and, with ``first``, its original's before it)."""
        pick, now = at
        commit = Commit(self.keys)
        record = records.get(grievance.id)
        if record is None:
            # Published to zt:submitted without intake: write the first record here.
            record = Record(grievance.id, initial_fields(grievance))
            record.changed = dict(record.fields)
            record.extra.append(["ZADD", ("open",), record.get("submitted_at"), grievance.id])
            commit.expect(record, new=True)
            body = document.decode() if document else grievance.model_dump_json(exclude_none=True)
            commit.op("SET", self.keys.document(grievance.id), body)
        else:
            commit.expect(record)
        if record.state != "submitted":
            return Outcome("skip", (record.state,))
        original = records.get(grievance.duplicate_of) if grievance.duplicate_of else None
        routed_first: tuple[str, ...] = ()
        if first is not None and original is not None:
            _status, first_event = self._decide_route(original, *first, now)
            routed_first = (first_event, original.get("assignee"))
        status, event_id = self._decide_route(record, grievance, pick, now, original)
        commit.add(record)
        if status == "linked" and original is not None:
            commit.expect(original)
            commit.add(original)
            return commit, Outcome("linked", (event_id, original.id, *routed_first))
        return commit, Outcome("assigned", (event_id, pick.unit))

    def _decide_route(
        self,
        record: Record,
        grievance: Grievance,
        pick: Link,
        now: int,
        original: Record | None = None,
    ) -> tuple[str, str]:
        """Let the lifecycle assign ``record`` to ``pick`` and the units above it."""
        route = self._route(grievance)
        return lifecycle.assign(
            record,
            (pick, *route.upper),
            self._snapshot(grievance),
            first_tier=route.first_tier,
            note=route.note,
            now=now,
            original=original,
        )

    # --- act ---

    async def act(self, action: Action) -> Outcome:
        """Apply ``action`` or refuse it (an ``action.refused`` event), atomically, once."""
        keys = self.keys
        gid = action.grievance_id
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await lost_race(attempt)
            # Only what this action can need: linked reports when it may end the grievance,
            # the timeline's length for a note on a record older than its note counter.
            ends = action.type in {ActionType.RESOLVE, ActionType.WITHDRAW}
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.time()
                pipe.hgetall(keys.grievance(gid))
                if ends:
                    pipe.smembers(keys.duplicates(gid))
                (seconds, micros), raw, *dup_ids = await pipe.execute()
            if not raw:
                return Outcome("missing")
            record = Record.from_hash(gid, raw)
            situation = lifecycle.Situation(
                now=int(seconds) * 1000 + int(micros) // 1000, config=self.config
            )
            if ends and dup_ids[0]:
                _now, dups = await self._records([as_text(d) for d in dup_ids[0]])
                situation.duplicates = {i: r for i, r in dups.items() if r is not None}
            if action.type is ActionType.ADD_NOTE and record.get("notes") == "":
                situation.notes = await self._legacy_notes(gid)
            decision = lifecycle.act(record, action, situation)
            commit = Commit(keys)
            commit.dedupe(record, action.action_id)
            for changed in decision.records:
                commit.expect(changed)
                commit.add(changed)
            (verdict,) = await self.commit([commit])
            if verdict == "duplicate":
                return Outcome("duplicate")
            if verdict == "ok":
                if decision.refusal is not None:
                    return Outcome("refused", (decision.refusal,))
                return Outcome("applied", tuple(decision.event_ids))
        raise ContendedError(f"grievance {gid} kept changing under action {action.action_id}")

    async def _legacy_notes(self, grievance_id: str) -> int:
        """Count the notes of a record kept before its note counter existed."""
        if await self.client.llen(self.keys.timeline(grievance_id)) < MAX_NOTES:
            return 0  # too few entries to hold too many notes: no need to count them
        entries = await self.client.lrange(self.keys.timeline(grievance_id), 0, -1)
        return sum(b'"grievance.note_added"' in entry for entry in entries)

    async def refuse(
        self, grievance_id: str, action_id: str, body: dict[str, Any], reason: str
    ) -> Outcome:
        """Record an action that could not even be read as refused (``action.refused``)."""
        raw_actor = body.get("actor")
        actor = raw_actor if isinstance(raw_actor, dict) else {}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                await lost_race(attempt)
            now, records = await self._records([grievance_id])
            record = records[grievance_id]
            if record is None:
                return Outcome("missing")
            record.emit(
                "action.refused",
                now,
                reason=reason,
                actor={
                    "id": str(actor.get("id", "unknown")),
                    "role": str(actor.get("role", "unknown")),
                },
                data={"refused_action": str(body.get("type", "unknown")), "action_id": action_id},
            )
            commit = Commit(self.keys)
            commit.dedupe(record, action_id)
            commit.expect(record)
            commit.add(record)
            (verdict,) = await self.commit([commit])
            if verdict in {"ok", "duplicate"}:
                return Outcome("refused" if verdict == "ok" else "duplicate", (reason,))
        raise ContendedError(f"grievance {grievance_id} kept changing")

    # --- timers ---

    async def fire_due(self, batch: int) -> Fired:
        """Fire up to ``batch`` timers due by the Redis clock; each fires once, replicas or not."""
        return await firing.fire_due(self, batch)
